"""The `$contains` trigram index answers exactly what a substring scan answers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from flight_server.versions import doc_index

ALPHABET = st.sampled_from(list("abcab xyz-éß中文🙂"))
DOCS = st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=30)), min_size=1, max_size=40)


def _brute(docs: list[str | None], pattern: str) -> list[int]:
    return [i for i, d in enumerate(docs) if d is not None and pattern in d]


@settings(max_examples=300, deadline=None)
@given(docs=DOCS, data=st.data())
def test_search_equals_substring_scan(docs: list[str | None], data: st.DataObject) -> None:
    column = pa.chunked_array([pa.array(docs, pa.string())])
    index = doc_index.DocIndex(doc_index.build(column), column)
    present = [d for d in docs if d]
    if present and data.draw(st.booleans()):
        doc = data.draw(st.sampled_from(present))
        start = data.draw(st.integers(0, len(doc) - 1))
        pattern = doc[start : start + data.draw(st.integers(1, 8))]
    else:
        pattern = data.draw(st.text(ALPHABET, min_size=1, max_size=6))
    rows = index.search(pattern)
    if rows is not None:  # None means "scan instead": allowed for short or common patterns
        assert rows.tolist() == _brute(docs, pattern)


def test_rare_pattern_is_narrowed_and_common_one_scans() -> None:
    docs = [f"common words here {i}" for i in range(1000)] + ["a needle in it"]
    column = pa.chunked_array([pa.array(docs)])
    index = doc_index.DocIndex(doc_index.build(column), column)
    assert index.search("needle").tolist() == [1000]
    assert len(index.candidates("needle")) == 1
    assert index.search("common") is None  # every row has it: the scan is cheaper
    assert index.search("ab") is None  # under three bytes: no trigram to narrow with


def test_sliced_and_null_documents() -> None:
    filler = [f"filler {i}" for i in range(20)]
    column = pa.array(["skip me", None, "find the word", "", "word", *filler]).slice(1)
    index = doc_index.DocIndex(doc_index.build(column), pa.chunked_array([column]))
    assert np.array_equal(index.search("word"), [1, 3])
