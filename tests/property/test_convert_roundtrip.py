"""Metadata dicts survive to_write_batch -> validate_write_batch -> metadatas_from_table exactly."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
from fletchdb.convert import metadatas_from_table, to_write_batch
from hypothesis import given, settings
from hypothesis import strategies as st

from flight_server.arguments.validate import validate_metadata_key, validate_write_batch
from flight_server.config import Settings
from flight_server.schema import Op

keys = st.text(min_size=1, max_size=12).filter(lambda k: validate_metadata_key(k) is None)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(width=64, allow_nan=False, allow_infinity=False)  # non-finite: refused
scalars = st.one_of(st.text(max_size=20), ints, floats, st.booleans())
lists = st.one_of(
    *(
        st.lists(s, min_size=1, max_size=5)
        for s in (st.text(max_size=8), ints, floats, st.booleans())
    )
)
metadata = st.dictionaries(keys, st.one_of(scalars, lists), min_size=1, max_size=8)
metadatas = st.lists(st.one_of(st.none(), metadata), min_size=1, max_size=20)


def same(a: Any, b: Any) -> bool:
    """Equal with types (True is not 1), NaN equal to NaN, -0.0 distinct from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return bool(a == b)


@settings(max_examples=200, deadline=None)
@given(metadatas)
def test_metadatas_round_trip_exactly(metas: list[dict[str, Any] | None]) -> None:
    ids = [f"id{i}" for i in range(len(metas))]
    batch = to_write_batch(Op.ADD, ids, [[1.0, 2.0]] * len(metas), metas)
    batch = validate_write_batch(Op.ADD, batch, 2, Settings())
    back = metadatas_from_table(pa.Table.from_batches([batch]))
    assert same(back, metas), (back, metas)


update_metadata = st.dictionaries(
    keys, st.one_of(st.none(), scalars, lists), min_size=1, max_size=8
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), update_metadata), min_size=1, max_size=10))
def test_update_none_values_become_unset_columns(metas: list[dict[str, Any] | None]) -> None:
    ids = [f"id{i}" for i in range(len(metas))]
    batch = validate_write_batch(
        Op.UPDATE, to_write_batch(Op.UPDATE, ids, metadatas=metas), None, Settings()
    )
    set_part = [
        {k: v for k, v in m.items() if v is not None} or None if m is not None else None
        for m in metas
    ]
    assert same(metadatas_from_table(pa.Table.from_batches([batch])), set_part)
    unset = {n[2:]: batch.column(n).to_pylist() for n in batch.schema.names if n.startswith("x:")}
    expected = {
        k: [True if m is not None and k in m and m[k] is None else None for m in metas]
        for m in metas if m is not None for k, v in m.items() if v is None
    }  # fmt: skip
    assert unset == expected
