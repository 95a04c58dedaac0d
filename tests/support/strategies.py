"""Hypothesis strategies for records and Chroma filters that hit them (small alphabets on purpose)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

# "A" collides with "a" under DuckDB's case-insensitive identifiers; the rest test quoting.
KEYS: tuple[str, ...] = ("a", "b", "A", 'a"b', "x:y", "ü", "c d")
STRINGS: tuple[str, ...] = ("", "a", "b", "ab", "A", "é", "' OR 1=1 --", 'q"q')
SPECIAL_INTS: tuple[int, ...] = (2**62, 2**63 - 1, -(2**63), 10**15)
SPECIAL_FLOATS: tuple[float, ...] = (
    -1.5,
    -0.5,
    0.0,
    0.5,
    1.0,
    1.5,
    2.0,
    2.5,
    3.0,
    1e20,
    -1e20,
    9.3e18,
)
VOCABULARY: tuple[str, ...] = (
    "apple", "Apple", "pie", "foo", "bar", "a.b", "%", "_", "'", '"', "\\", "é", "日本", "🙂", "\t",
    "x y", "' OR 1=1 --",
)  # fmt: skip
NEEDLES: tuple[str, ...] = ("pp", "e", "Ap", "p", " ", "%", "_", "\\", "日", "🙂", "' OR 1=1 --")
REGEX_ATOMS: tuple[str, ...] = (
    "apple", "pie", "Apple", "a", "p", ".", "[ap]", "[^a ]", "(foo|bar)", "é", "🙂", "日",
    "a\\.b", "\\\\", "%", "_", "'", "\\t", " ",
)  # fmt: skip
REGEX_QUANTIFIERS: tuple[str, ...] = ("", "", "", "*", "+", "?", "{1,2}")

strings = st.sampled_from(STRINGS)
ints = st.one_of(st.integers(-3, 3), st.sampled_from(SPECIAL_INTS))
floats = st.one_of(
    st.sampled_from(SPECIAL_FLOATS), st.floats(-4, 4, allow_nan=False, allow_infinity=False)
)
bools = st.booleans()
scalars = st.one_of(strings, ints, floats, bools)
numbers = st.one_of(ints, floats)


def _homogeneous_lists(min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[list[Any]]:
    """Non-empty lists of one scalar type."""
    return st.one_of(
        *(st.lists(s, min_size=min_size, max_size=max_size) for s in (strings, ints, floats, bools))
    )


metadata_values = st.one_of(scalars, _homogeneous_lists())


def metadatas(keys: Sequence[str] = KEYS) -> st.SearchStrategy[dict[str, Any] | None]:
    """Flat metadata dicts over `keys` (sometimes None)."""
    return st.one_of(
        st.none(), st.dictionaries(st.sampled_from(list(keys)), metadata_values, max_size=4)
    )


documents = st.one_of(
    st.none(),
    st.builds(
        lambda words, sep: sep.join(words),
        st.lists(st.sampled_from(VOCABULARY), max_size=5),
        st.sampled_from([" ", ""]),
    ),
)


def _op(operators: Sequence[str], operands: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.builds(lambda op, value: {op: value}, st.sampled_from(list(operators)), operands)


def _leaf(keys: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
    key = st.sampled_from(list(keys))
    expression = st.one_of(
        scalars,
        _op(["$eq", "$ne"], scalars),
        _op(["$gt", "$gte", "$lt", "$lte"], numbers),
        _op(["$in", "$nin"], _homogeneous_lists(1, 4)),
        _op(["$contains", "$not_contains"], scalars),
    )
    document = _op(["$contains", "$not_contains"], st.sampled_from(NEEDLES + ("",)))
    return st.one_of(
        st.builds(lambda k, e: {k: e}, key, expression),
        document.map(lambda e: {"#document": e}),
    )


def _composite(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return _op(["$and", "$or"], st.lists(children, min_size=2, max_size=3))


def where_filters(keys: Sequence[str] = KEYS) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `where` filters over `keys`, nested `$and`/`$or` included."""
    return st.recursive(_leaf(keys), _composite, max_leaves=6)


regexes = st.builds(
    lambda flag, start, parts, end: flag + start + "".join(a + q for a, q in parts) + end,
    st.sampled_from(["", "", "(?i)"]),
    st.sampled_from(["", "", "^"]),
    st.lists(
        st.tuples(st.sampled_from(REGEX_ATOMS), st.sampled_from(REGEX_QUANTIFIERS)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["", "", "$"]),
)


def where_document_filters() -> st.SearchStrategy[dict[str, Any]]:
    """Valid `where_document` filters, nested `$and`/`$or` included."""
    leaf = st.one_of(
        _op(["$contains", "$not_contains"], st.sampled_from(NEEDLES + VOCABULARY)),
        _op(["$regex", "$not_regex"], regexes),
    )
    return st.recursive(leaf, _composite, max_leaves=5)
