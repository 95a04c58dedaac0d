"""Hypothesis abuse of every setting and argument a client controls, against one real server.

Each strategy draws only values the server must refuse: HNSW configuration past its maxima or of
the wrong type, names that break the name rules, pages past int64, n_results at the edges, filters
nested past max_where_depth, write batches past their limits, regexes of megabytes, SQL that is
not one read-only SELECT. After every example: the error is a typed FletchError with a code (not
internal, not unavailable), nothing was written (the collection list and the sentinel's count are
unchanged) and the server still answers a heartbeat and a trivial SQL query.

`FLETCHDB_ABUSE_EXAMPLES` raises the number of examples (the `slow` variant runs 10x as many).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fletchdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.arguments.collection_config import MAXIMUM_SETTING
from flight_server.config import Settings
from flight_server.errors import (
    ERRORS_BY_CODE,
    FletchError,
    InternalError,
    UnavailableError,
)
from flight_server.flight.server import Server, start_server
from tests.server.conftest import SECRET, make_token
from tests.support.hnsw import LEGACY

EXAMPLES = int(os.environ.get("FLETCHDB_ABUSE_EXAMPLES", "25"))
LIMITS = {  # small limits, so abuse costs little to send
    "max_batch_rows": 50,
    "max_id_bytes": 64,
    "max_document_bytes": 2000,
    "max_metadata_keys": 8,
    "max_metadata_value_bytes": 256,
    "max_where_depth": 8,
    "max_where_predicates": 16,
    "max_n_results": 100,
    "max_get_limit": 1000,
    "max_query_embeddings": 10,
    "max_request_bytes": 8 * 2**20,
    "sql_timeout_seconds": 10.0,
    "max_sql_result_rows": 1000,
}
ABUSE = settings(
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DIM = 4
SENTINEL_ROWS = 20
HNSW_MAX = {key: getattr(Settings(), limit) for key, limit in MAXIMUM_SETTING.items()}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("abuse")
    values: dict[str, Any] = {
        "path": str(path),
        "host": "127.0.0.1",
        "port": 0,
        "auth_secret": SECRET,
        "compaction_enabled": False,
    }
    with start_server(Settings(**values, **LIMITS)) as started:
        yield started


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[fletchdb.Client]:
    c = fletchdb.FlightClient(server.uri, token=make_token(tenant="*"))
    col = c.create_collection("sentinel")
    col.add(
        ids=[f"s{i}" for i in range(SENTINEL_ROWS)],
        embeddings=np.random.default_rng(1).random((SENTINEL_ROWS, DIM), dtype=np.float32),
        documents=[f"doc {i}" for i in range(SENTINEL_ROWS)],
    )
    yield c
    c.close()


def refused(client: fletchdb.Client, call: Callable[[], Any]) -> FletchError:
    """The typed error `call` raises; then the server must be whole and unchanged."""
    before = sorted(c.name for c in client.list_collections())
    try:
        call()
    except FletchError as exc:
        error = exc
    else:
        raise AssertionError("the server accepted it")
    assert ERRORS_BY_CODE.get(error.code) is type(error) and type(error) is not FletchError
    assert not isinstance(error, InternalError | UnavailableError), error
    assert len(str(error)) < 5000  # errors quote a bounded part of the input
    assert sorted(c.name for c in client.list_collections()) == before
    sentinel = client.get_collection("sentinel")
    assert sentinel.count() == SENTINEL_ROWS
    assert client.heartbeat() > 0
    assert client.sql("SELECT count(*) AS n FROM sentinel").to_pylist() == [{"n": SENTINEL_ROWS}]
    return error


# Strategies ------------------------------------------------------------------------------------
NOT_NUMBERS = st.one_of(
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not f.is_integer()),
)
# bools pass as ints where Chroma takes them (get's limit, query's n_results, list_collections'
# limit and offset): not abuse there
WRONG_TYPES = st.one_of(st.booleans(), NOT_NUMBERS)


def _bad_hnsw_value(key: str) -> st.SearchStrategy[Any]:
    maximum = HNSW_MAX[key]
    if key == "resize_factor":
        numbers = st.one_of(
            st.floats(max_value=1.0, allow_nan=False),
            st.floats(min_value=maximum, exclude_min=True, allow_infinity=True),
            st.just(float("nan")),
        )
        return st.one_of(numbers, st.booleans(), st.text(max_size=5))
    return st.one_of(
        st.integers(min_value=maximum + 1, max_value=2**80),
        st.integers(max_value=0, min_value=-(2**70)),
        WRONG_TYPES,
    )


BAD_HNSW = st.sampled_from(sorted(HNSW_MAX)).flatmap(
    lambda key: _bad_hnsw_value(key).map(lambda value: (key, value))
)
NAME_CHARS = st.characters(blacklist_categories=("Cs",))
BAD_NAMES = st.one_of(
    st.text(alphabet="abc", max_size=2),
    st.builds(
        lambda a, bad, b: f"a{a}{bad}{b}z",
        st.text(alphabet="xyz", max_size=5),
        st.sampled_from(["/", " ", "..", "\x00", "é", "*", "\n", "?", "../../x"]),
        st.text(alphabet="xyz", max_size=5),
    ),
    st.integers(min_value=513, max_value=5000).map(lambda n: "a" * n),
    st.text(NAME_CHARS, min_size=3, max_size=20).filter(lambda s: not s.isascii()),
)
BAD_PAGES = st.one_of(
    st.integers(max_value=-1, min_value=-(2**70)),
    st.integers(min_value=2**63, max_value=2**200),
    NOT_NUMBERS,
)
BAD_N_RESULTS = st.one_of(
    st.integers(max_value=0, min_value=-(2**70)),
    st.integers(min_value=LIMITS["max_n_results"] + 1, max_value=2**70),
    NOT_NUMBERS,
)
BAD_GET_LIMITS = st.one_of(
    st.integers(max_value=-1, min_value=-(2**70)),
    st.integers(min_value=LIMITS["max_get_limit"] + 1, max_value=2**200),
    NOT_NUMBERS,
)


def _nested(depth: int, leaf: dict[str, Any], op: str = "$and") -> dict[str, Any]:
    node = leaf
    for _ in range(depth):
        node = {op: [node, leaf]}
    return node


# Properties ------------------------------------------------------------------------------------
@ABUSE
@given(item=BAD_HNSW, via=st.sampled_from(["configuration", "metadata", "modify"]))
def test_hnsw_configuration(client: fletchdb.Client, item: tuple[str, Any], via: str) -> None:
    key, value = item
    if via == "configuration":
        refused(
            client,
            lambda: client.create_collection("abused", configuration={"hnsw": {key: value}}),
        )
    elif via == "metadata":
        refused(client, lambda: client.create_collection("abused", metadata={LEGACY[key]: value}))
    else:
        sentinel = client.get_collection("sentinel")
        before = sentinel.configuration
        refused(client, lambda: sentinel.modify(configuration={"hnsw": {key: value}}))
        assert client.get_collection("sentinel").configuration == before


@ABUSE
@given(name=BAD_NAMES, call=st.sampled_from(["collection", "tenant", "database", "lookups"]))
def test_names(client: fletchdb.Client, name: str, call: str) -> None:
    if call == "collection":
        refused(client, lambda: client.create_collection(name))
    elif call == "tenant":
        refused(client, lambda: client.create_tenant(name))
    elif call == "database":
        refused(client, lambda: client.create_database(name))
    else:
        for lookup in (client.get_tenant, client.get_database, client.get_collection):
            refused(client, lambda lookup=lookup: lookup(name))


@ABUSE
@given(value=BAD_PAGES, field=st.sampled_from(["limit", "offset"]), limit=BAD_GET_LIMITS)
def test_pages(client: fletchdb.Client, value: Any, field: str, limit: Any) -> None:
    refused(client, lambda: client.list_collections(**{field: value}))
    refused(client, lambda: client.list_databases(**{field: value}))
    sentinel = client.get_collection("sentinel")  # a get's offset past the end: an empty page
    refused(client, lambda: sentinel.get(limit=limit))


@ABUSE
@given(value=BAD_N_RESULTS)
def test_n_results(client: fletchdb.Client, value: Any) -> None:
    sentinel = client.get_collection("sentinel")
    refused(client, lambda: sentinel.query(query_embeddings=[[0.5] * DIM], n_results=value))


@ABUSE
@given(
    depth=st.integers(min_value=LIMITS["max_where_depth"] + 1, max_value=400),
    op=st.sampled_from(["$and", "$or"]),
    document=st.booleans(),
)
def test_filter_nesting(client: fletchdb.Client, depth: int, op: str, document: bool) -> None:
    sentinel = client.get_collection("sentinel")
    if document:
        where_document = _nested(depth, {"$contains": "doc"}, op)
        refused(client, lambda: sentinel.get(where_document=where_document))
    else:
        where = _nested(depth, {"n": {"$gte": 1}}, op)
        refused(client, lambda: sentinel.delete(where=where))


@ABUSE
@given(
    kind=st.sampled_from(["rows", "id", "document", "keys", "value", "dimension"]),
    size=st.integers(min_value=1, max_value=40),
)
def test_write_batches(client: fletchdb.Client, kind: str, size: int) -> None:
    n = LIMITS["max_batch_rows"] + size if kind == "rows" else 2
    ids = [f"w{i}" for i in range(n)]
    embeddings = np.zeros((n, DIM), np.float32)
    documents: list[str] | None = None
    metadatas: list[dict[str, Any]] | None = None
    if kind == "id":
        ids[0] = "i" * (LIMITS["max_id_bytes"] + size)
    elif kind == "document":
        documents = ["ok", "d" * (LIMITS["max_document_bytes"] + size * 100)]
    elif kind == "keys":
        metadatas = [{"a": 1}, {f"k{j}": j for j in range(LIMITS["max_metadata_keys"] + size)}]
    elif kind == "value":
        metadatas = [{"a": 1}, {"s": "v" * (LIMITS["max_metadata_value_bytes"] + size)}]
    elif kind == "dimension":
        embeddings = np.zeros((n, DIM + size), np.float32)
    sentinel = client.get_collection("sentinel")
    refused(
        client,
        lambda: sentinel.add(
            ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas
        ),
    )


@ABUSE
@given(opens=st.integers(min_value=1, max_value=3 * 2**20))
def test_megabyte_regexes(client: fletchdb.Client, opens: int) -> None:
    # a 2 MB regex error once came back as a gRPC resource-exhausted InternalError
    sentinel = client.get_collection("sentinel")
    error = refused(client, lambda: sentinel.get(where_document={"$regex": "(" * opens}))
    assert error.code == "invalid_argument"


SQL_REFUSED = st.one_of(
    st.sampled_from(
        [
            "DROP TABLE sentinel",
            "DELETE FROM sentinel",
            "ATTACH 'x.db'",
            "COPY sentinel TO 'x.csv'",
            "SELECT * FROM read_csv('/etc/passwd')",
            "INSTALL httpfs",
            "SET memory_limit='100GB'",
            "SELECT 1; SELECT 2",
            "",
            "CALL pragma_version()",
        ]
    ),
    st.integers(min_value=1001, max_value=50_000).map(lambda n: "SELECT " + "(" * n + "1"),
    st.text(max_size=30).map(lambda t: f"SELECT * FROM missing_{t.encode().hex()}"),
    st.integers(min_value=2, max_value=10).map(lambda k: "SELECT * FROM range(1001)" + " " * k),
)


@ABUSE
@given(query=SQL_REFUSED)
def test_sql_text(client: fletchdb.Client, query: str) -> None:
    refused(client, lambda: client.sql(query))


def test_a_request_past_max_request_bytes(client: fletchdb.Client) -> None:
    query = "SELECT '" + "x" * (LIMITS["max_request_bytes"] + 1) + "' AS big"
    error = refused(client, lambda: client.sql(query))
    assert error.code == "quota_exceeded"


@pytest.mark.slow
@settings(ABUSE, max_examples=EXAMPLES * 10)
@given(item=BAD_HNSW, name=BAD_NAMES, page=BAD_PAGES)
def test_slow_combined(
    client: fletchdb.Client, item: tuple[str, Any], name: str, page: Any
) -> None:
    key, value = item
    refused(
        client, lambda: client.create_collection("abused", configuration={"hnsw": {key: value}})
    )
    refused(client, lambda: client.create_collection(name))
    refused(client, lambda: client.list_collections(limit=page))
