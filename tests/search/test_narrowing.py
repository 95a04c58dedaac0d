"""`$contains` / `$regex` narrowed by the trigram index return exactly what a plain scan returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import fletchdb
import numpy as np
import pyarrow as pa
import pytest
from fletchdb import Settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.executor.doc_narrow import candidate_rows
from flight_server.executor.filters import parse_filters
from flight_server.executor.regex_literals import required_literals

ATOMS = (
    "fox", "dog", "qu", "é", "日本", "a", ".", "\\.", "\\d", "[a-f]", "[^ ]", "[]x]", "(ab|cd)",
    "(?:fox)", "\\x41", "\\101", "\\pL", "\\p{Greek}", "{", "}", "]", "\\\\", " ", "ck",
)  # fmt: skip
QUANTIFIERS = ("", "", "", "*", "+", "?", "{2}", "{0,1}", "{1,}", "*?", "+?")
TEXT = st.text(alphabet="foxdgquckabeé日本 .A1{}]\\Ωα", max_size=24)

regexes = st.lists(
    st.tuples(st.sampled_from(ATOMS), st.sampled_from(QUANTIFIERS)), min_size=1, max_size=5
).map(lambda parts: "".join(a + q for a, q in parts))
patterns = st.one_of(regexes, st.tuples(regexes, regexes).map(lambda t: f"{t[0]}|{t[1]}"))

_duck = duckdb.connect(config={"autoinstall_known_extensions": "false"})


def _valid(pattern: str) -> bool:
    try:
        _duck.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error:
        return False
    return True


def _matches(pattern: str, docs: list[str]) -> list[bool]:
    rows = _duck.execute(
        "SELECT regexp_matches(d, ?) FROM unnest(?::VARCHAR[]) t(d)", [pattern, docs]
    ).fetchall()
    return [bool(r[0]) for r in rows]


def test_literal_examples() -> None:
    assert required_literals("quick.*fox") == ["quick", "fox"]
    assert required_literals("colou?r") == ["colo", "r"]
    assert required_literals("ab+c") == ["ab", "c"]
    assert required_literals("x{0,3}yz") == ["yz"]
    assert required_literals("a\\.b\\d+c") == ["a.b", "c"]
    assert required_literals("(fox|dog)s") == ["s"]
    assert required_literals("fox|dog") is None
    assert required_literals("(?i)fox") is None
    assert required_literals("\\Qa.b\\E") is None
    assert required_literals("\\x41BC") == ["BC"]
    assert required_literals("[a-z]+ing") == ["ing"]


@settings(max_examples=400, deadline=None)
@given(patterns, st.lists(TEXT, min_size=1, max_size=6))
def test_required_literals_are_in_every_match(pattern: str, docs: list[str]) -> None:
    if not _valid(pattern):
        return
    literals = required_literals(pattern)
    if literals is None:
        return
    for doc, hit in zip(docs, _matches(pattern, docs), strict=True):
        if hit:
            assert all(lit in doc for lit in literals), (pattern, doc, literals)


WORDS = ("quick", "brown", "fox", "lazy", "dog", "é日本", "ab", "cd", "fox.dog", "A1")
doc_text = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join)
doc_filters = st.recursive(
    st.one_of(
        st.builds(
            lambda p: {"$contains": p}, st.sampled_from(("fox", "dog", "qu", "x", "é日", "k b"))
        ),
        st.builds(
            lambda p: {"$regex": p},
            st.sampled_from(
                ("fox.dog", "qu+ick", "^lazy", "(ab|cd) fox", "bro?wn", "日本$", "[a-z]{4} dog")
            ),
        ),
        st.builds(lambda p: {"$not_contains": p}, st.sampled_from(("fox", "lazy"))),
        st.builds(lambda p: {"$not_regex": p}, st.sampled_from(("dog$", "^a"))),
    ),
    lambda children: st.one_of(
        st.builds(lambda c: {"$and": c}, st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda c: {"$or": c}, st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=4,
)
top_filters = st.tuples(
    st.sampled_from(("$and", "$or")), st.lists(doc_filters, min_size=1, max_size=3)
).map(lambda t: t[1][0] if len(t[1]) == 1 else {t[0]: t[1]})


def _scan(
    docs: list[str | None], where_document: dict[str, Any], g: list[int], where: Any
) -> list[int]:
    """Reference: the filter in plain SQL over a plain list (no index), as positions."""
    from flight_server.executor.filter_sql import compile_filter

    expr, params = compile_filter(where, where_document, ["document", "i:g"])
    table = pa.table({"document": pa.array(docs, pa.string()), "i:g": g, "pos": range(len(docs))})
    cur = _duck.cursor()
    cur.register("plain", table)
    rel = cur.execute(f"SELECT pos FROM plain WHERE {expr} ORDER BY pos", params)
    return [r[0] for r in rel.fetchall()]


@pytest.fixture(scope="module")
def narrowing_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    client = fletchdb.PersistentClient(
        tmp_path_factory.mktemp("narrow"), settings=Settings(compaction_enabled=False)
    )
    yield client
    client.close()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.one_of(st.none(), doc_text), min_size=1, max_size=40),
    top_filters,
    st.booleans(),
)
def test_narrowed_filters_equal_a_scan(
    narrowing_client: Any, docs: list[str | None], where_document: dict[str, Any], with_where: bool
) -> None:
    col = narrowing_client.get_or_create_collection("narrow")
    col.delete(where={"g": {"$gte": 0}})
    docs = docs + ["zzz yyy"] * 120  # filler, so that candidate sets are small: the index is used
    ids = [f"r{i:03d}" for i in range(len(docs))]
    g = [i % 3 for i in range(len(docs))]
    has = [i for i, d in enumerate(docs) if d is not None]
    col.add(ids=ids, embeddings=np.ones((len(ids), 2), np.float32), metadatas=[{"g": x} for x in g])
    if has:
        col.update(
            ids=[ids[i] for i in has],
            embeddings=np.ones((len(has), 2), np.float32),
            documents=[docs[i] for i in has],
        )
    col.compact()
    where = {"g": {"$ne": 1}} if with_where else None
    want = [ids[i] for i in _scan(docs, where_document, g, where)]
    got = col.get(where=where, where_document=where_document, include=[])["ids"]
    assert got == want


def test_selective_filters_are_narrowed(tmp_path: Path) -> None:
    client = fletchdb.PersistentClient(tmp_path, settings=Settings(compaction_enabled=False))
    col = client.create_collection("narrowed")
    docs = [f"record {i} about {'foxes' if i % 50 == 0 else 'dogs'}" for i in range(1000)]
    col.add(
        ids=[str(i) for i in range(1000)], embeddings=np.ones((1000, 2), np.float32), documents=docs
    )
    col.compact()
    version = client._transport.collection(col.id).state.version  # type: ignore[attr-defined]
    rows = candidate_rows(version, parse_filters(None, {"$regex": "fox(es)?$"}))
    assert rows is not None and len(rows) == 20
    rows = candidate_rows(
        version, parse_filters({"#document": {"$contains": "foxes"}}, {"$regex": "^record"})
    )
    assert rows is not None and len(rows) == 20
    assert (
        candidate_rows(version, parse_filters(None, {"$regex": "dogs|foxes"})) is None
    )  # alternation
    assert (
        candidate_rows(version, parse_filters(None, {"$regex": "about"})) is None
    )  # in every record: scan
    got = col.get(where_document={"$regex": "9.* fox(es)?$"}, include=[])["ids"]
    assert got == [str(i) for i in range(1000) if i % 50 == 0 and "9" in str(i)]
    client.close()
