"""The tokenizer: Unicode-aware lowercase + split, against a plain-Python reference."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from flight_server.executor.tokenizer import query_terms, tokenize

from .reference import tokens

# Characters whose Python lowercase is their Unicode simple lowercase (no İ, no final sigma):
# ASCII, Latin-1 letters, Greek, Cyrillic, CJK, Devanagari with its vowel signs, a combining
# accent, Arabic-Indic digits, and separators of every kind.
ALPHABET = "aAbBzZ09 _-.,;:!?'\"\t\n/éÉßøÅñÇαβΓΔλДжЯяё北京日本हिन्दी\u0301٣٤🙂€"


def test_examples() -> None:
    rows, toks = tokenize(pa.array(["Hello, World! Straße ÉCOLE 北京2024 naïve_x", None, "", "--"]))
    assert toks.to_pylist() == ["hello", "world", "straße", "école", "北京2024", "naïve", "x"]
    assert rows.tolist() == [0] * 7
    assert query_terms("Fox fox, FOX dog") == ["fox", "dog"]
    assert query_terms("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs stay in the word
    assert query_terms("cafe\u0301 bar") == ["cafe\u0301", "bar"]  # so do combining accents
    assert query_terms("!!! ...") == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=30)), max_size=8))
def test_tokenize_matches_reference(documents: list[str | None]) -> None:
    rows, toks = tokenize(pa.array(documents, pa.string()))
    want = [(i, t) for i, d in enumerate(documents) for t in tokens(d)]
    assert list(zip(rows.tolist(), toks.to_pylist(), strict=True)) == want


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_query_terms_split_like_the_documents(text: str) -> None:
    """Any Unicode text: the per-code-point table gives the tokens the column tokenizer gives."""
    _, toks = tokenize(pa.array([text], pa.string()))
    assert query_terms(text) == list(dict.fromkeys(toks.to_pylist()))
