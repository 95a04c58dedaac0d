"""Filtered get and query through the whole engine against the brute-force model.

Hypothesis generates a collection (records from the shared strategies, added in a few batches)
and a few read specs (where, where_document, ids, limit/offset, query embeddings, k). Every spec
is checked in four states: all records in the log tail; after compact(); after updates, upserts,
deletes and adds on top of that version (reads merge the index and the tail); after a second
compact(). get must return exactly the model's page in insertion order; query must return the
exact top-k of the selected records (ties in distance may swap). Runs once with small candidate
sets searched exactly and once with every filtered search going through the HNSW index.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import fletchdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.property.test_engine_state_machine import embeddings, write_args
from tests.support.model import CollectionModel, check_query, check_records
from tests.support.strategies import where_document_filters, where_filters

IDS = tuple(f"r{i}" for i in range(16))
_names = itertools.count()


@pytest.fixture(scope="module", params=["exact", "indexed"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One engine per mode; each example gets its own collection."""
    overrides: dict[str, Any] = {"compaction_enabled": False}
    if request.param == "indexed":
        overrides["exact_search_max_candidates"] = 0
    c = fletchdb.EphemeralClient(settings=fletchdb.Settings(**overrides))
    yield c
    c.close()


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A collection's initial batches, later writes and read specs."""
    dim = draw(st.sampled_from([3, 4, 8]), "dim")
    space = draw(st.sampled_from(["l2", "cosine", "ip"]), "space")
    ids = draw(st.lists(st.sampled_from(IDS), max_size=14, unique=True), "ids")
    cuts = sorted(draw(st.sets(st.integers(1, max(len(ids) - 1, 1)), max_size=2), "cuts"))
    bounds = [0, *[c for c in cuts if c < len(ids)], len(ids)]
    batches = [
        write_args(draw, "add", ids[a:b], dim) for a, b in itertools.pairwise(bounds) if b > a
    ]
    later = []
    for _ in range(draw(st.integers(0, 4), "later writes")):
        op = draw(st.sampled_from(["add", "upsert", "update", "delete"]), "op")
        chosen = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=6, unique=True))
        later.append((op, {"ids": chosen} if op == "delete" else write_args(draw, op, chosen, dim)))
    specs = draw(st.lists(read_specs(dim), min_size=1, max_size=3), "specs")
    return {"dim": dim, "space": space, "batches": batches, "later": later, "specs": specs}


def read_specs(dim: int) -> st.SearchStrategy[dict[str, Any]]:
    """Filters and paging of one get and one query."""
    return st.fixed_dictionaries(
        {
            "where": st.none() | where_filters(),
            "where_document": st.none() | where_document_filters(),
            "ids": st.none() | st.lists(st.sampled_from(IDS), min_size=1, max_size=8, unique=True),
            "limit": st.none() | st.integers(0, 8),
            "offset": st.none() | st.integers(0, 8),
            "k": st.integers(1, 12),
            "queries": st.lists(embeddings(dim), min_size=1, max_size=2),
        }
    )


def check_reads(collection: Any, model: CollectionModel, specs: list[dict[str, Any]]) -> None:
    """Every spec's get and query against the model, then the full contents."""
    assert collection.count() == model.count()
    for spec in specs:
        filters = {"where": spec["where"], "where_document": spec["where_document"]}
        got = collection.get(
            ids=spec["ids"],
            limit=spec["limit"],
            offset=spec["offset"],
            include=["embeddings", "metadatas", "documents"],
            **filters,
        )
        want = model.get_ids(spec["ids"], limit=spec["limit"], offset=spec["offset"], **filters)
        check_records(model, got, want)
        check_query(collection, model, spec["queries"], spec["k"], ids=spec["ids"], **filters)
        check_query(collection, model, spec["queries"], spec["k"], **filters)
    everything = collection.get(include=["embeddings", "metadatas", "documents"])
    check_records(model, everything, [id_ for id_, _ in model.ordered()])


def run_scenario(client: Any, scenario: dict[str, Any]) -> None:
    """Write the scenario and check its reads in the four states."""
    name = f"filters-{next(_names)}"
    collection = client.create_collection(
        name, configuration={"hnsw": {"space": scenario["space"]}}, embedding_function=None
    )
    model = CollectionModel(scenario["dim"], scenario["space"])
    specs = scenario["specs"]
    try:
        for batch in scenario["batches"]:
            collection.add(**batch)
            model.add(**batch)
        check_reads(collection, model, specs)  # everything in the log tail
        collection.compact()
        assert collection.stats()["tail_records"] == 0
        check_reads(collection, model, specs)  # everything in the index
        for op, args in scenario["later"]:
            getattr(collection, op)(**args)
            getattr(model, op)(**args)
        check_reads(collection, model, specs)  # index masked and extended by the tail
        collection.compact()
        check_reads(collection, model, specs)
    finally:
        client.delete_collection(name)


@settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios())
def test_filtered_reads_match_model(client: Any, scenario: dict[str, Any]) -> None:
    run_scenario(client, scenario)


# The long variants (about 10 minutes each) run only when asked for: FLETCHDB_LONG_PROPERTY=1.
LONG = pytest.mark.skipif(
    not os.environ.get("FLETCHDB_LONG_PROPERTY"), reason="set FLETCHDB_LONG_PROPERTY=1 to run"
)


@LONG
@pytest.mark.slow
@settings(
    max_examples=800,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios())
def test_filtered_reads_match_model_long(client: Any, scenario: dict[str, Any]) -> None:
    run_scenario(client, scenario)
