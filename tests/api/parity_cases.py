"""The parity cases of tests/api/test_chroma_parity.py (part 1): the client, records, errors.

Each case is (name, expression, mode), evaluated in order on one namespace by parity_scenario.py;
modes are described in test_chroma_parity.py. FLETCH_CASES run on FletchDB only (local against
remote): values JSON cannot carry, wrong argument types, a closed client.
"""

from __future__ import annotations

E3 = "[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]"
BASE_CASES: list[tuple[str, str, str]] = [
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
    ("create-metadata-nested", "c.create_collection('nested', metadata={'a': {'b': 1}})", "same"),
    ("set-tenant-missing", "c.set_tenant('nope')", "same"),
    ("set-database-missing", "c.set_database('nope')", "same"),
    ("client-tenant-missing", "db.PersistentClient(path=path + '-2', tenant='nope')", "same"),
    ("list-collections-negative", "c.list_collections(limit=-1)", "prefix"),
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
    # pinned from tests/server/test_abuse.py: a bool page is an int to Chroma, not abuse
    ("fx-list-limit-false", "c.list_collections(limit=False)"),
    ("fx-list-databases-limit-false", "c.list_databases(limit=False)"),
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
