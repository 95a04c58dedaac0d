"""The same calls against real chromadb 1.5.9 and FletchDB give the same results and errors.

One scenario script runs in subprocesses: with chromadb (the throwaway venv at /tmp/chromavenv),
with fletchdb's PersistentClient ("local") and with a FlightClient of a real Flight server started
inside the subprocess ("remote"; this interpreter for both). Each case is an expression evaluated in order, on a shared
state (client `c`, collection `col`, ...); its outcome is either the normalized value (types kept,
floats rounded, dict key order kept only for Get/QueryResults) or the exception. Exceptions match
when FletchDB's class has Chroma's class name in its MRO (so a user's `except` still catches it)
and the messages are equal ("prefix": FletchDB may append detail).

The chromadb comparisons are skipped where chromadb is not installed (CI); run locally to re-check
parity. The local/remote comparison always runs: every case, plus FLETCH_CASES (values JSON cannot
carry, wrong argument types, a closed client), must give identical outcomes, errors included (class
MRO, message and details such as QuotaError's limit/value/maximum).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHROMA_PYTHON = Path("/tmp/chromavenv/bin/python")
REPO = Path(__file__).resolve().parents[2]

needs_chroma = pytest.mark.skipif(
    not CHROMA_PYTHON.exists(), reason="chromadb 1.5.9 is not installed at /tmp/chromavenv"
)

SCRIPT = r"""
import json, re, sys
import numpy as np

which, path = sys.argv[1], sys.argv[2]
if which == "chroma":
    import chromadb as db
    from chromadb.config import Settings
    import chromadb.errors as chroma_errors
else:
    import fletchdb as db
    from fletchdb import Settings
if which == "remote":  # db.PersistentClient connects to a server on its own data directory
    import types
    from pathlib import Path
    from tests.api.conftest import connect, start

    server = start(Path(path + "-server"))

    def remote_client(path, settings=None, tenant=None, database=None):
        return connect(server, tenant=tenant, database=database)

    db = types.SimpleNamespace(**{**vars(db), "PersistentClient": remote_client})


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def norm(v):
    if isinstance(v, np.ndarray):
        return {"ndarray": str(v.dtype), "shape": list(v.shape), "values": norm(v.tolist())}
    if isinstance(v, dict):
        out = {"dict": sorted([str(k), norm(x)] for k, x in v.items())}
        if "ids" in v:  # a GetResult / QueryResult: key order is part of the contract
            out["keys"] = list(v)
        return out
    if isinstance(v, (list, tuple)):
        return [type(v).__name__, [norm(x) for x in v]]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", round(v, 4)]
    if isinstance(v, np.generic):
        return ["np", str(v.dtype), round(float(v), 4)]
    return ["object", type(v).__name__]


c = db.PersistentClient(path=path)
col = c.create_collection("parity")
ns = {"db": db, "np": np, "c": c, "col": col, "Settings": Settings, "path": path}
cases = json.loads(sys.stdin.read())
out = {}
for name, source in cases:
    try:
        out[name] = {"ok": norm(eval(source, ns))}
    except BaseException as e:  # noqa: BLE001 - record whatever happened
        out[name] = {
            "error": [k.__name__ for k in type(e).__mro__],
            "message": re.sub(UUID, "<uuid>", str(e)),  # collection ids differ between runs
            "details": norm(getattr(e, "details", None)),
        }
if which == "chroma":
    out["__error_types__"] = {"ok": sorted(chroma_errors.error_types)}
if which == "remote":
    c.close()
    server.close()
print(json.dumps(out))
"""

# (name, expression, mode). mode: "same" = equal outcome; "prefix" = same error class, FletchDB's
# message starts with Chroma's; "class" = same error class only (Chroma's message is random).
E3 = "[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]"
CASES: list[tuple[str, str, str]] = [
    # client
    ("heartbeat-type", "type(c.heartbeat()).__name__", "same"),
    ("version-type", "type(c.get_version()).__name__", "same"),
    ("count-collections-0", "c.count_collections() - 1", "same"),
    ("legacy-metadata", "c.create_collection('legacy', metadata={'hnsw:space': 'ip', "
     "'hnsw:M': 8, 'hnsw:construction_ef': 50, 'hnsw:search_ef': 20}).metadata", "same"),
    ("legacy-configuration", "{k: c.get_collection('legacy').configuration['hnsw'][k] for k in "
     "('space', 'max_neighbors', 'ef_construction', 'ef_search')}", "same"),
    ("configuration", "(lambda k: {x: k.configuration['hnsw'][x] for x in ('space', "
     "'max_neighbors', 'ef_construction', 'ef_search')})(c.create_collection('configured', "
     "configuration={'hnsw': {'space': 'cosine', 'max_neighbors': 12, 'ef_construction': 64, "
     "'ef_search': 33}}))", "same"),
    ("configuration-metadata", "c.get_collection('configured').metadata", "same"),
    ("default-configuration", "{k: col.configuration['hnsw'][k] for k in ('space', "
     "'max_neighbors', 'ef_construction', 'ef_search')}", "same"),
    ("configuration-wins", "c.create_collection('both', configuration={'hnsw': {'space': 'ip'}}, "
     "metadata={'hnsw:space': 'cosine'}).configuration['hnsw']['space']", "same"),
    ("get-or-create-existing", "c.get_or_create_collection('legacy', metadata={'x': 1}).metadata",
     "same"),
    ("count-collections", "c.count_collections()", "same"),
    ("get-missing-collection", "c.get_collection('absent')", "same"),
    ("delete-missing-collection", "c.delete_collection('absent')", "same"),
    ("name-short", "c.create_collection('ab')", "same"),
    ("name-dots", "c.create_collection('a..b')", "same"),
    ("name-ip", "c.create_collection('10.0.0.1')", "same"),
    ("name-dash", "c.create_collection('-abc')", "same"),
    ("create-metadata-empty", "c.create_collection('emptymeta', metadata={})", "same"),
    ("create-metadata-nested", "c.create_collection('nested', metadata={'a': {'b': 1}})", "class"),
    ("set-tenant-missing", "c.set_tenant('nope')", "same"),
    ("set-database-missing", "c.set_database('nope')", "same"),
    ("client-tenant-missing", "db.PersistentClient(path=path + '-2', tenant='nope')", "same"),
    ("list-collections-negative", "c.list_collections(limit=-1)", "class"),
    ("reset-refused", "c.reset()", "class"),
    # records
    ("add", f"col.add(ids=['a', 'b', 'c'], embeddings={E3}, documents=['apple pie', "
     "'banana split', 'cherry tart'], metadatas=[{'n': 1, 's': 'x', 'f': 0.5, 't': True}, None, "
     "{'n': 3}])", "same"),
    ("count", "col.count()", "same"),
    ("get-default", "col.get()", "same"),
    ("get-all", "col.get(include=['embeddings', 'documents', 'metadatas', 'uris'])", "same"),
    ("get-include-empty", "col.get(include=[])", "same"),
    ("get-ids-str", "col.get(ids='b')", "same"),
    ("get-ids-order", "col.get(ids=['c', 'a', 'zz'])", "same"),
    ("get-missing", "col.get(ids=['zz'])", "same"),
    ("get-missing-embeddings", "col.get(ids=['zz'], include=['embeddings'])", "same"),
    ("get-limit-offset", "col.get(limit=1, offset=1)", "same"),
    ("get-limit-0", "col.get(limit=0)", "same"),
    ("get-where", "col.get(where={'n': {'$gte': 2}})", "same"),
    ("get-where-document", "col.get(where_document={'$contains': 'an'})", "same"),
    ("peek", "col.peek(2)", "same"),
    ("query-default", "col.query(query_embeddings=[1.0, 0.1, 0.0])", "same"),
    ("query-all", "col.query(query_embeddings=[[1.0, 0.1, 0.0], [0.0, 0.1, 1.0]], n_results=2, "
     "include=['embeddings', 'documents', 'metadatas', 'distances', 'uris'])", "same"),
    ("query-include-empty", "col.query(query_embeddings=[1.0, 0.1, 0.0], include=[])", "same"),
    ("query-n-over-count", "col.query(query_embeddings=[0.0, 0.1, 1.0], n_results=50)", "same"),
    ("query-where", "col.query(query_embeddings=[1.0, 0.1, 0.0], where={'n': 3})", "same"),
    ("query-ids", "col.query(query_embeddings=[0.0, 1.0, 0.5], ids=['b', 'c'], n_results=1)",
     "same"),
    ("query-numpy-f16", "col.query(query_embeddings=np.array([[1, 0.1, 0]], dtype=np.float16), "
     "n_results=1, include=['distances'])", "same"),
    # (chromadb also fills "metadatas" here, though not included: a quirk FletchDB does not copy)
    ("query-data-no-loader", "(lambda r: {k: r[k] for k in ('ids', 'uris', 'data', 'included', "
     "'documents', 'distances')})(col.query(query_embeddings=[1.0, 0.1, 0.0], n_results=1, "
     "include=['data']))", "same"),
    ("query-embeddings-and-texts", "col.query(query_embeddings=[0.0, 0.1, 1.0], "
     "query_texts=['x'], n_results=1)", "same"),
    ("add-existing-ignored", "(col.add(ids=['a', 'd'], embeddings=[[9.0, 9.0, 9.0], "
     "[0.0, 1.0, 1.0]], documents=['new', 'date']), col.get(ids=['a', 'd'], "
     "include=['embeddings', 'documents']))[1]", "same"),
    ("update-missing-noop", "(col.update(ids=['zz'], metadatas=[{'n': 5}]), col.count(), "
     "col.get(ids=['zz']))[1:]", "same"),
    ("update-merge-and-unset", "(col.update(ids=['a'], metadatas=[{'s': None, 'n': 10, "
     "'new': 'y'}]), col.get(ids=['a']))[1]", "same"),
    ("update-unset-all", "(col.update(ids=['c'], metadatas=[{'n': None}]), col.get(ids=['c']))[1]",
     "same"),
    ("update-embedding-keeps-rest", "(col.update(ids=['b'], embeddings=[[0.0, 2.0, 0.0]]), "
     "col.get(ids=['b'], include=['embeddings', 'documents', 'metadatas']))[1]", "same"),
    ("upsert-merge", "(col.upsert(ids=['a', 'n'], embeddings=[[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]], "
     "metadatas=[{'z': 1, 'new': None}, {'z': 2}]), col.get(include=['embeddings', 'documents', "
     "'metadatas']))[1]", "same"),
    ("order-after-updates", "col.get()['ids']", "same"),
    ("embeddings-numpy-1d", "(col.add(ids=['np1'], embeddings=np.array([1, 2, 3], "
     "dtype=np.float16)), col.get(ids=['np1'], include=['embeddings']))[1]", "same"),
    ("embeddings-numpy-2d", "(col.add(ids=['np2', 'np3'], embeddings=np.array([[1, 2, 3], "
     "[4, 5, 6]], dtype=np.float64)), col.get(ids=['np2', 'np3'], include=['embeddings']))[1]",
     "same"),
    ("embeddings-list-of-numpy", "(col.add(ids=['np4'], embeddings=[np.array([1.5, 2, 3], "
     "dtype=np.float32)]), col.get(ids=['np4'], include=['embeddings']))[1]", "same"),
    ("delete-by-where", "(col.delete(where={'z': 2}), col.get()['ids'])[1]", "same"),
    ("delete-returns", "col.delete(ids=['np4', 'zz'])", "same"),
    ("count-after", "col.count()", "same"),
    ("modify", "(col.modify(name='renamed', metadata={'m': 1}), col.name, col.metadata, "
     "c.get_collection('renamed').metadata)[1:]", "same"),
    ("modify-space", "col.modify(metadata={'hnsw:space': 'ip'})", "same"),
    ("modify-empty-metadata", "col.modify(metadata={})", "same"),
    ("modify-nested-metadata", "col.modify(metadata={'a': {'b': 1}})", "same"),
    ("modify-ef-search", "(col.modify(configuration={'hnsw': {'ef_search': 7}}), "
     "col.configuration['hnsw']['ef_search'])[1]", "same"),
    # distances in the other spaces
    ("cosine", "(lambda k: (k.add(ids=['x', 'y', 'z'], embeddings=[[1.0, 0.0], [1.0, 1.0], "
     "[0.0, 3.0]]), k.query(query_embeddings=[1.0, 0.0], n_results=3, "
     "include=['distances'])))(c.create_collection('cos', configuration={'hnsw': {'space': "
     "'cosine'}}))[1]", "same"),
    ("ip", "(lambda k: (k.add(ids=['x', 'y', 'z'], embeddings=[[1.0, 0.0], [0.5, 0.5], "
     "[0.0, 0.2]]), k.query(query_embeddings=[1.0, 0.0], n_results=3, "
     "include=['distances'])))(c.create_collection('inner', metadata={'hnsw:space': 'ip'}))[1]",
     "same"),
    # write errors
    ("dup-ids", "col.add(ids=['q', 'q'], embeddings=[[0.0, 0.0, 1.0]] * 2)", "same"),
    ("wrong-dimension", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0, 1.0]])", "same"),
    ("wrong-dimension-update", "col.update(ids=['a'], embeddings=[[1.0]])", "same"),
    ("wrong-dimension-query", "col.query(query_embeddings=[[1.0, 2.0]])", "same"),
    ("ragged", "col.add(ids=['p', 'q'], embeddings=[[1.0, 0.0, 0.0], [1.0, 0.0]])", "same"),
    ("lengths", "col.add(ids=['p', 'q'], embeddings=[[0.0, 0.0, 1.0]])", "same"),
    ("lengths-documents", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], documents=['x', 'y'])",
     "same"),
    ("meta-nested", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{'a': {'x': 1}}])",
     "same"),
    ("meta-mixed-list", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'a': [1, 'x']}])", "same"),
    ("meta-empty-list", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{'a': []}])",
     "same"),
    ("meta-empty", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{}])", "same"),
    ("meta-reserved", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'chroma:document': 'x'}])", "same"),
    ("meta-dollar-key", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{'$a': 1}])",
     "prefix"),
    ("meta-none-in-add", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'a': None}])", "prefix"),
    ("meta-key-not-str", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{1: 'x'}])",
     "same"),
    ("ids-empty", "col.add(ids=[], embeddings=[[0.0, 0.0, 1.0]])", "same"),
    ("ids-and-embeddings-empty", "col.add(ids=[], embeddings=[])", "same"),
    ("id-empty-string", "col.add(ids=[''], embeddings=[[0.0, 0.0, 1.0]])", "same"),
    ("id-not-str", "col.add(ids=[1], embeddings=[[0.0, 0.0, 1.0]])", "same"),
    ("nan", "col.add(ids=['q'], embeddings=[[0.0, float('nan'), 1.0]])", "prefix"),
    ("inf", "col.upsert(ids=['a'], embeddings=[[0.0, float('inf'), 1.0]])", "prefix"),
    ("embeddings-strings", "col.add(ids=['q'], embeddings=[['a', 'b', 'c']])", "same"),
    ("document-not-str", "col.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], documents=[3])",
     "same"),
    ("nothing-to-add", "col.add(ids=['q'])", "class"),
    # read errors
    ("where-operator", "col.get(where={'n': {'$foo': 1}})", "same"),
    ("where-operator-query", "col.query(query_embeddings=[1.0, 0.0, 0.0], "
     "where={'n': {'$foo': 1}})", "same"),
    ("where-operator-delete", "col.delete(where={'n': {'$foo': 1}})", "same"),
    ("where-empty", "col.get(where={})", "same"),
    ("where-empty-query", "col.query(query_embeddings=[1.0, 0.0, 0.0], where={})", "same"),
    ("where-two-keys", "col.get(where={'n': 1, 's': 'x'})", "same"),
    ("where-range-str", "col.get(where={'n': {'$gt': 'x'}})", "same"),
    ("where-dollar-key", "col.get(where={'$foo': 1})", "same"),
    ("where-document-operator", "col.get(where_document={'$foo': 'x'})", "same"),
    ("where-document-not-str", "col.delete(where_document={'$contains': 1})", "same"),
    ("where-document-empty", "col.get(where_document={})", "same"),
    ("include-bad", "col.get(include=['foo'])", "same"),
    ("include-bad-query", "col.query(query_embeddings=[1.0, 0.0, 0.0], include=['foo'])", "same"),
    ("include-distances-get", "col.get(include=['distances'])", "same"),
    ("include-not-list", "col.get(include='documents')", "same"),
    ("include-data-get", "col.get(include=['data'])", "same"),
    ("n-results-zero", "col.query(query_embeddings=[1.0, 0.0, 0.0], n_results=0)", "same"),
    ("n-results-str", "col.query(query_embeddings=[1.0, 0.0, 0.0], n_results='3')", "same"),
    ("limit-negative", "col.get(limit=-1)", "prefix"),
    ("offset-negative", "col.get(offset=-1)", "prefix"),
    ("limit-str", "col.get(limit='1')", "same"),
    ("get-ids-empty", "col.get(ids=[])", "same"),
    ("delete-ids-empty", "col.delete(ids=[])", "same"),
    ("delete-nothing", "col.delete()", "same"),
    ("query-nothing", "col.query()", "same"),
    ("final-state", "col.get(include=['embeddings', 'documents', 'metadatas'])", "same"),
]  # fmt: skip


# Cases only FletchDB runs, local against remote (after CASES, on the same state).
FLETCH_CASES: list[tuple[str, str]] = [
    ("fx-collection", "(k := c.create_collection('fletch-extra')).name"),
    ("fx-add", "k.add(ids=['a', 'b', 'c', 'd'], embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], "
     "[2.0, 2.0]], documents=['x', None, '', 'ünïcode'], metadatas=[{'f': 1.0, 'i': 2**62, "
     "'neg': -2**63, 's': '', 'l': ['a'], 'lb': [True, False], 'lf': [1.0]}, None, {'z': 0}, "
     "{'big': 1e300, 'tiny': 5e-324}])"),
    ("fx-get-all", "k.get(include=['metadatas', 'documents', 'embeddings', 'uris'])"),
    ("fx-get-page", "k.get(include=['embeddings'], limit=2, offset=1)"),
    ("fx-get-none", "k.get(include=['embeddings'], where={'z': 1})"),
    ("fx-query-split", "k.query(query_embeddings=[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]], "
     "n_results=2, where={'z': 0}, include=['metadatas', 'documents', 'embeddings', 'distances', "
     "'uris'])"),
    ("fx-query-ids", "k.query(query_embeddings=[[1.0, 0.0], [0.0, 1.0]], n_results=1, ids=['b'], "
     "include=['embeddings', 'distances'])"),
    ("fx-query-missing-ids", "k.query(query_embeddings=[[1.0, 0.0], [0.0, 1.0]], ids=['zz'])"),
    ("fx-query-empty-ids", "k.query(query_embeddings=[[1.0, 0.0]], ids=[])"),
    ("fx-query-include-empty", "k.query(query_embeddings=[[1.0, 0.0]] * 3, n_results=3, "
     "include=[])"),
    ("fx-query-f16", "k.query(query_embeddings=np.array([[1, 0]], dtype=np.float16), n_results=1, "
     "include=['embeddings', 'distances'])"),
    ("fx-query-ints", "k.query(query_embeddings=np.array([[1, 0]], dtype=np.int64), n_results=1)"),
    ("fx-query-no-rows", "k.query(query_embeddings=np.zeros((0, 2)))"),
    ("fx-query-ragged", "k.query(query_embeddings=[[1.0, 0.0], [1.0]])"),
    ("fx-query-overflow", "k.query(query_embeddings=[[1e39, 0.0]])"),
    ("fx-where-list", "k.get(where={'lb': {'$contains': True}})"),
    ("fx-where-big-int", "k.get(where={'i': {'$in': [2**62, 1.5]}})"),
    ("fx-where-u64", "k.get(where={'i': {'$gt': 2**63}})"),
    ("fx-where-huge", "k.get(where={'i': {'$gt': 2**70}})"),
    ("fx-where-nan", "k.get(where={'f': float('nan')})"),
    ("fx-where-float-overflow", "k.get(where={'i': {'$gt': 10**400}})"),
    ("fx-where-inf-nested", "k.get(where={'$and': [{'z': 1}, {'f': {'$gt': float('inf')}}]})"),
    ("fx-where-nan-in", "k.query(query_embeddings=[1.0, 0.0], where={'f': {'$in': [1.0, "
     "float('nan')]}})"),
    ("fx-where-nan-delete", "k.delete(where={'f': float('-inf')})"),
    ("fx-regex-bad", "k.get(where_document={'$regex': '[x'})"),
    ("fx-unset-all", "(k.update(ids=['a'], metadatas=[{'f': None, 'i': None, 'neg': None, "
     "'s': None, 'l': None, 'lb': None, 'lf': None}]), k.get(ids=['a']))[1]"),
    ("fx-upsert-none-value", "(k.upsert(ids=['e'], embeddings=[[3.0, 3.0]], metadatas=[{'k': "
     "None}]), k.get(ids=['e']))[1]"),
    ("fx-update-dimension", "k.update(ids=['e'], embeddings=[[3.0, 3.0, 3.0]])"),
    ("fx-delete-ids-and-filter", "k.delete(ids=['a', 'zz'], where_document={'$contains': 'x'})"),
    ("fx-delete-duplicate-ids", "k.delete(ids=['zz', 'zz'])"),
    ("fx-delete-where-nothing", "k.delete(where={'nope': 1})"),
    ("fx-compacted", "(k.compact(), k.stats()['tail_records'], k.get(include=['embeddings', "
     "'metadatas', 'documents']))[1:]"),
    ("fx-max-batch-size", "c.get_max_batch_size()"),
    ("fx-name-not-str", "c.create_collection(5)"),
    ("fx-rename-not-str", "k.modify(name=5)"),
    ("fx-tenant-not-str", "c.create_tenant(5)"),
    ("fx-get-collection-not-str", "c.get_collection(5)"),
    ("fx-database-not-str", "c.create_database(5)"),
    ("fx-configuration-not-dict", "c.create_collection('cfg-int', configuration=5)"),
    ("fx-configuration-nan", "c.create_collection('cfg-nan', configuration={'hnsw': "
     "{'ef_search': float('nan')}})"),
    ("fx-configuration-numpy", "c.create_collection('cfg-np', configuration={'hnsw': "
     "{'ef_search': np.int64(5)}})"),
    ("fx-metadata-nan", "c.create_collection('meta-nan', metadata={'a': float('nan')})"),
    ("fx-get-or-create-int", "c.create_collection('goc-int', get_or_create=1).name"),
    ("fx-modify-configuration-not-dict", "k.modify(configuration=5)"),
    ("fx-modify-configuration-falsy", "(k.modify(configuration=0), k.configuration['hnsw']"
     "['ef_search'])[1]"),
    ("fx-modify-configuration-nan", "k.modify(configuration={'hnsw': {'ef_search': "
     "float('nan')}})"),
    ("fx-modify-metadata-inf", "k.modify(metadata={'a': float('inf')})"),
    ("fx-list-limit-negative", "c.list_databases(limit=-1)"),
    ("fx-list-offset-bool", "c.list_collections(offset=True)"),
    ("fx-list-limit-numpy", "c.list_collections(limit=np.int64(1))"),
    ("fx-list-limit-str", "c.list_collections(limit='1')"),
    ("fx-databases", "(c.create_tenant('tenx'), c.create_database('dbx', tenant='tenx'), "
     "[d['name'] for d in c.list_databases(tenant='tenx')])[2]"),
    ("fx-tenant-duplicate", "c.create_tenant('tenx')"),
    ("fx-database-duplicate", "c.create_database('dbx', tenant='tenx')"),
    ("fx-database-missing-tenant", "c.create_database('dbz', tenant='nope')"),
    ("fx-list-databases-missing-tenant", "c.list_databases(tenant='nope')"),
    ("fx-delete-database-twice", "(c.delete_database('dbx', tenant='tenx'), "
     "c.delete_database('dbx', tenant='tenx'))"),
    ("fx-deleted-collection", "(c.delete_collection('fletch-extra'), k.count())"),
    ("fx-deleted-collection-add", "k.add(ids=['x'], embeddings=[[1.0]])"),
    ("fx-deleted-collection-modify", "k.modify(name='gone-renamed')"),
    ("fx-closed", "(c.close(), c.close(), c.heartbeat())"),
    ("fx-closed-collection", "col.count()"),
    ("fx-closed-list", "c.list_collections()"),
]  # fmt: skip

# Where local mode itself was wrong (a leaked exception); none are left.
KNOWN_REMOTE_DIFFERENCES: dict[str, pytest.MarkDecorator] = {}


def _known(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


KNOWN_DIFFERENCES = {
    "n-results-zero": _known("chromadb raises TypeError for n_results <= 0; FletchDB raises "
                             "InvalidArgumentError (a ValueError, not a TypeError)"),
    "limit-negative": _known("chromadb raises OverflowError for a negative limit; FletchDB raises "
                             "InvalidArgumentError (ValueError)"),
    "offset-negative": _known("chromadb raises OverflowError for a negative offset; FletchDB "
                              "raises InvalidArgumentError (ValueError)"),
    "limit-str": _known("chromadb raises TypeError for a non-int limit; FletchDB raises "
                        "InvalidArgumentError (ValueError)"),
    "list-collections-negative": _known("chromadb raises OverflowError; FletchDB raises "
                                        "InvalidArgumentError (ValueError)"),
    "meta-none-in-add": _known("chromadb raises TypeError for a None metadata value in add; "
                               "FletchDB raises InvalidArgumentError (ValueError)"),
    "meta-key-not-str": _known("chromadb raises TypeError for a non-str metadata key; FletchDB "
                               "raises InvalidArgumentError (ValueError)"),
    "create-metadata-nested": _known("chromadb raises TypeError for an invalid collection "
                                     "metadata value; FletchDB raises InvalidArgumentError"),
}  # fmt: skip


def _run(python: str, which: str, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [python, "-c", SCRIPT, which, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=path.parent if which == "chroma" else REPO,
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Outcomes by case name, by runner: "local", "remote" and (if installed) "chroma"."""
    chroma_cases = [[name, source] for name, source, _ in CASES]
    fletch_cases = chroma_cases + [[name, source] for name, source in FLETCH_CASES]
    runs = {"local": (sys.executable, fletch_cases), "remote": (sys.executable, fletch_cases)}
    if CHROMA_PYTHON.exists():
        runs["chroma"] = (str(CHROMA_PYTHON), chroma_cases)
    procs = {
        which: (_run(python, which, tmp_path_factory.mktemp(which) / "data"), cases)
        for which, (python, cases) in runs.items()
    }
    results = {}
    for which, (proc, cases) in procs.items():  # all run at once; collected in turn
        out, err = proc.communicate(json.dumps(cases), timeout=120)
        assert proc.returncode == 0, f"{which} scenario failed:\n{err}"
        results[which] = json.loads(out)
    return results


def _compatible(chroma: dict[str, Any], fletch: dict[str, Any], mode: str) -> None:
    if "ok" in chroma:
        assert fletch == chroma
        return
    assert "error" in fletch, f"chromadb raised {chroma}, FletchDB returned {fletch}"
    chroma_class = chroma["error"][0]
    assert chroma_class in fletch["error"], (
        f"chromadb raises {chroma_class}; FletchDB's {fletch['error'][0]} is not one "
        f"(MRO {fletch['error']})"
    )
    if mode == "same":
        assert fletch["message"] == chroma["message"]
    elif mode == "prefix":
        assert fletch["message"].startswith(chroma["message"]), (fletch, chroma)


@needs_chroma
@pytest.mark.parametrize(
    ("name", "check"),
    [
        pytest.param(name, check, id=name, marks=[KNOWN_DIFFERENCES[name]])
        if name in KNOWN_DIFFERENCES
        else pytest.param(name, check, id=name)
        for name, _, check in CASES
    ],
)
def test_same_as_chroma(outcomes: dict[str, dict], mode: str, name: str, check: str) -> None:
    _compatible(outcomes["chroma"][name], outcomes[mode][name], check)


@needs_chroma
def test_result_shapes_match_chroma(outcomes: dict[str, dict], mode: str) -> None:
    """The Get/QueryResult key order and the container and dtype of every field."""
    chroma, fletch = outcomes["chroma"], outcomes[mode]
    for name in ("get-all", "get-missing-embeddings", "query-all", "peek"):
        assert chroma[name]["ok"]["keys"] == fletch[name]["ok"]["keys"]
        assert fletch[name] == chroma[name], name


@needs_chroma
def test_error_names_table_matches_chroma(outcomes: dict[str, dict]) -> None:
    """The names test_errors_nothing_written.py checks against are chromadb's error_types."""
    from tests.api.test_errors_nothing_written import CHROMA_ERROR_NAMES

    assert set(outcomes["chroma"]["__error_types__"]["ok"]) == CHROMA_ERROR_NAMES


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, id=name, marks=[KNOWN_REMOTE_DIFFERENCES[name]])
        if name in KNOWN_REMOTE_DIFFERENCES
        else pytest.param(name, id=name)
        for name in [case[0] for case in CASES] + [case[0] for case in FLETCH_CASES]
    ],
)
def test_remote_same_as_local(outcomes: dict[str, dict], name: str) -> None:
    """Results and errors (class MRO, message, details) of a FlightClient equal local mode's."""
    assert outcomes["remote"][name] == outcomes["local"][name]
