"""The parity cases of tests/api/test_chroma_parity.py (part 2): filters, write quirks, bad input.

Each group works on a collection of its own (embedding_function=None, so no case reaches for
Chroma's downloaded default model), so one group's state cannot shift another's results. No two
records of a query are equidistant (tie order is the index's business). STRICTER_CASES are the
inputs Chroma accepts and mangles (docs/chroma-compat.md): Chroma must still accept them (so the
claim stays checked), FletchDB must refuse them with a ValueError-family error; each uses a fresh
collection, since some of them break the Chroma collection they are written to.
"""

from __future__ import annotations

W = "w"  # the filter collection, made by the first WHERE_CASES case
WHERE_CASES: list[tuple[str, str, str]] = [
    ("w-add", "(w := c.create_collection('where-cases', embedding_function=None)).add("
     "ids=['a', 'b', 'c', 'd', 'e', 'f'], embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], "
     "[0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.2, 0.9, 0.1]], documents=["
     "'apple pie', 'Banana split', None, 'cherry tart', 'apple and banana', 'no fruit here'], "
     "metadatas=[{'n': 1, 's': 'x', 'f': 0.5, 't': True, 'l': [1, 2]}, {'n': 2, 's': 'y', "
     "'ls': ['p', 'q']}, None, {'s': 'y', 'l': [3], 't': False}, {'n': 2.5, 'f': 1}, "
     "{'n': -1, 'z': 'only'}])", "same"),
    ("w-eq", "w.get(where={'s': 'y'})['ids']", "same"),
    ("w-eq-op", "w.get(where={'n': {'$eq': 2}})['ids']", "same"),
    ("w-ne-missing", "w.get(where={'n': {'$ne': 1}})['ids']", "same"),
    ("w-ne-str-missing", "w.get(where={'s': {'$ne': 'x'}})['ids']", "same"),
    ("w-nin-missing", "w.get(where={'n': {'$nin': [1, 2]}})['ids']", "same"),
    ("w-nin-str", "w.get(where={'s': {'$nin': ['x']}})['ids']", "same"),
    ("w-in", "w.get(where={'n': {'$in': [1, 2]}})['ids']", "same"),
    ("w-in-float", "w.get(where={'n': {'$in': [1.0, 2.5]}})['ids']", "same"),
    ("w-in-str", "w.get(where={'s': {'$in': ['x', 'zz']}})['ids']", "same"),
    ("w-int-eq-float", "w.get(where={'n': 2.0})['ids']", "same"),
    ("w-float-eq-int", "w.get(where={'f': 1})['ids']", "same"),
    ("w-float-truncates-eq", "w.get(where={'n': 2.9})['ids']", "same"),  # Chroma: 2.9 -> 2
    ("w-float-truncates-ne", "w.get(where={'n': {'$ne': 2.9}})['ids']", "same"),
    ("w-gt-int-float", "w.get(where={'n': {'$gt': 1.5}})['ids']", "same"),
    ("w-gte", "w.get(where={'n': {'$gte': 2}})['ids']", "same"),
    ("w-lt", "w.get(where={'n': {'$lt': 2}})['ids']", "same"),
    ("w-lte-float", "w.get(where={'f': {'$lte': 0.5}})['ids']", "same"),
    ("w-gt-big", "w.get(where={'n': {'$gt': 1e20}})['ids']", "same"),
    ("w-and", "w.get(where={'$and': [{'n': {'$gte': 1}}, {'s': 'x'}]})['ids']", "same"),
    ("w-or", "w.get(where={'$or': [{'n': 2}, {'s': 'y'}]})['ids']", "same"),
    ("w-or-ne", "w.get(where={'$or': [{'n': {'$ne': 2}}, {'s': {'$ne': 'y'}}]})['ids']", "same"),
    ("w-and-or", "w.get(where={'$and': [{'$or': [{'n': 1}, {'n': 2}]}, {'s': {'$ne': 'x'}}]})"
     "['ids']", "same"),
    ("w-and-ne-missing", "w.get(where={'$and': [{'z': {'$ne': 'only'}}, {'t': {'$ne': True}}]})"
     "['ids']", "same"),
    ("w-bool-eq", "w.get(where={'t': True})['ids']", "same"),
    ("w-bool-ne", "w.get(where={'t': {'$ne': True}})['ids']", "same"),
    ("w-bool-eq-int", "w.get(where={'t': 1})['ids']", "same"),
    ("w-int-eq-bool", "w.get(where={'n': True})['ids']", "same"),
    ("w-list-contains", "w.get(where={'l': {'$contains': 1}})['ids']", "same"),
    ("w-list-not-contains", "w.get(where={'l': {'$not_contains': 1}})['ids']", "same"),
    ("w-list-contains-str", "w.get(where={'ls': {'$contains': 'q'}})['ids']", "same"),
    ("w-list-eq", "w.get(where={'l': 3})['ids']", "same"),
    ("w-list-in", "w.get(where={'l': {'$in': [2, 3]}})['ids']", "same"),
    ("w-missing-key", "w.get(where={'absent': 1})['ids']", "same"),
    ("w-missing-key-ne", "w.get(where={'absent': {'$ne': 1}})['ids']", "same"),
    ("wd-contains", "w.get(where_document={'$contains': 'an'})['ids']", "same"),
    ("wd-contains-case", "w.get(where_document={'$contains': 'banana'})['ids']", "same"),
    ("wd-not-contains", "w.get(where_document={'$not_contains': 'an'})['ids']", "same"),
    ("wd-regex", "w.get(where_document={'$regex': '^[ab]'})['ids']", "same"),
    ("wd-regex-ci", "w.get(where_document={'$regex': '(?i)banana'})['ids']", "same"),
    ("wd-regex-class", "w.get(where_document={'$regex': 'p{2}|rt$'})['ids']", "same"),
    ("wd-not-regex", "w.get(where_document={'$not_regex': 'pie$'})['ids']", "same"),
    ("wd-and", "w.get(where_document={'$and': [{'$contains': 'a'}, {'$not_contains': 'pie'}]})"
     "['ids']", "same"),
    ("wd-or", "w.get(where_document={'$or': [{'$contains': 'pie'}, {'$regex': 'ta.t'}]})"
     "['ids']", "same"),
    ("wd-with-where", "w.get(where={'n': {'$gte': 1}}, where_document={'$contains': 'an'})"
     "['ids']", "same"),
    ("wd-unicode", "w.get(where_document={'$contains': 'ü'})['ids']", "same"),
    ("w-query", "w.query(query_embeddings=[[0.9, 0.1, 0.05], [0.1, 0.3, 0.8]], n_results=3)",
     "same"),
    ("w-query-where", "w.query(query_embeddings=[0.9, 0.1, 0.05], n_results=4, "
     "where={'n': {'$ne': 2}}, include=['distances', 'metadatas'])", "same"),
    ("w-query-document", "w.query(query_embeddings=[0.9, 0.1, 0.05], n_results=4, "
     "where_document={'$not_contains': 'pie'}, include=['distances'])", "same"),
    ("w-query-ids-where", "w.query(query_embeddings=[0.1, 0.3, 0.8], ids=['a', 'b', 'e'], "
     "where={'n': {'$gt': 0}}, n_results=5, include=['distances'])", "same"),
    ("w-get-ids-where", "w.get(ids=['a', 'b', 'zz'], where={'n': 1})['ids']", "same"),
    ("w-get-ids-dup", "w.get(ids=['b', 'b'])['ids']", "same"),
    ("w-include-documents", "w.get(ids=['a'], include=['documents'])", "same"),
    ("w-include-metadatas", "w.get(ids=['a'], include=['metadatas'])", "same"),
    ("w-include-embeddings", "w.get(ids=['a', 'c'], include=['embeddings'])", "same"),
    ("w-include-order", "w.get(ids=['a'], include=['metadatas', 'documents'])", "same"),
    ("w-include-tuple", "w.get(ids=['a'], include=('documents',))", "same"),
    ("w-include-dupe", "w.get(ids=['a'], include=['documents', 'documents'])", "same"),
    ("w-query-include-order", "w.query(query_embeddings=[0.9, 0.1, 0.05], n_results=2, "
     "include=['distances', 'documents'])", "same"),
    ("w-query-include-embeddings", "w.query(query_embeddings=[0.9, 0.1, 0.05], n_results=2, "
     "include=['embeddings', 'distances'])", "same"),
    ("w-query-uris", "w.query(query_embeddings=[0.9, 0.1, 0.05], n_results=1, include=['uris'])",
     "same"),
    ("w-cosine", "(lambda k: (k.add(ids=['p', 'q', 'r'], embeddings=[[0.3, 0.7, 0.2], "
     "[0.9, 0.05, 0.4], [0.1, 0.2, 0.95]]), k.query(query_embeddings=[[0.25, 0.6, 0.3]], "
     "n_results=3, include=['distances'])))(c.create_collection('w-cos', embedding_function=None, "
     "configuration={'hnsw': {'space': 'cosine'}}))[1]", "same"),
    ("w-ip", "(lambda k: (k.add(ids=['p', 'q', 'r'], embeddings=[[0.3, 0.7, 0.2], "
     "[0.9, 0.05, 0.4], [0.1, 0.2, 0.95]]), k.query(query_embeddings=[[0.25, 0.6, 0.3]], "
     "n_results=3, include=['distances'])))(c.create_collection('w-ip', embedding_function=None, "
     "metadata={'hnsw:space': 'ip'}))[1]", "same"),
    ("w-l2", "(lambda k: (k.add(ids=['p', 'q', 'r'], embeddings=[[0.3, 0.7, 0.2], "
     "[0.9, 0.05, 0.4], [0.1, 0.2, 0.95]]), k.query(query_embeddings=[[0.25, 0.6, 0.3]], "
     "n_results=3, include=['distances'])))(c.create_collection('w-l2', embedding_function=None))"
     "[1]", "same"),
    ("wd-delete", "(w.delete(where_document={'$contains': 'cherry'}), w.get()['ids'])[1]", "same"),
    ("w-delete-where", "(w.delete(where={'$or': [{'z': 'only'}, {'n': 2.5}]}), w.get()['ids'])[1]",
     "same"),
]  # fmt: skip

WRITE_CASES: list[tuple[str, str, str]] = [
    ("wr-add", "(v := c.create_collection('write-cases', embedding_function=None)).add("
     "ids=['a', 'b', 'c'], embeddings=[[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], documents=['A', 'B', "
     "None], metadatas=[{'k': 1}, {'k': 2, 'j': 'x'}, None])", "same"),
    ("wr-upsert-missing", "(v.upsert(ids=['b', 'n'], embeddings=[[0.1, 0.9], [0.3, 0.3]], "
     "documents=['B2', 'N'], metadatas=[{'j': None}, {'k': 9}]), v.get(include=['embeddings', "
     "'documents', 'metadatas']))[1]", "same"),
    ("wr-update-missing-mixed", "(v.update(ids=['a', 'zz'], metadatas=[{'k': 5}, {'k': 6}]), "
     "v.get(ids=['a', 'zz']))[1]", "same"),
    ("wr-update-embedding-missing", "(v.update(ids=['zz'], embeddings=[[0.5, 0.5]]), v.count())[1]",
     "same"),
    ("wr-update-none-fields", "(v.update(ids=['a'], embeddings=None, metadatas=None, "
     "documents=None), v.get(ids=['a'], include=['embeddings', 'documents', 'metadatas']))[1]",
     "same"),
    ("wr-update-meta-list-none", "(v.update(ids=['a', 'b'], metadatas=[None, {'k': 7}]), "
     "v.get(ids=['a', 'b']))[1]", "same"),
    ("wr-update-docs-list-none", "(v.update(ids=['a', 'b'], documents=[None, 'B3']), "
     "v.get(ids=['a', 'b']))[1]", "same"),
    ("wr-update-nothing", "(v.update(ids=['b']), v.get(ids=['b']))[1]", "same"),
    ("wr-upsert-meta-none-new", "(v.upsert(ids=['m'], embeddings=[[0.2, 0.1]], "
     "metadatas=[{'a': None, 'b': 1}]), v.get(ids=['m']))[1]", "same"),
    ("wr-add-id-str", "(v.add(ids='single', embeddings=[0.4, 0.4]), v.get(ids='single'))[1]",
     "same"),
    ("wr-add-int-embedding", "(v.add(ids=['ints'], embeddings=[[1, 2]]), v.get(ids=['ints'], "
     "include=['embeddings']))[1]", "same"),
    ("wr-add-document-none", "(v.add(ids=['dn'], embeddings=[[0.9, 0.2]], documents=[None]), "
     "v.get(ids=['dn']))[1]", "same"),
    ("wr-add-dup", "v.add(ids=['x', 'y', 'x'], embeddings=[[1.0, 0.0]] * 3)", "same"),
    ("wr-upsert-dup", "v.upsert(ids=['z', 'z'], embeddings=[[1.0, 0.0]] * 2)", "same"),
    ("wr-update-dup", "v.update(ids=['a', 'a'], metadatas=[{'n': 1}] * 2)", "same"),
    ("wr-delete-dup", "v.delete(ids=['a', 'a', 'zz'])", "same"),
    ("wr-add-empty", "v.add(ids=[], embeddings=[], metadatas=[])", "same"),
    ("wr-upsert-empty", "v.upsert(ids=[], embeddings=[])", "same"),
    ("wr-update-empty", "v.update(ids=[])", "same"),
    ("wr-state", "v.get(include=['embeddings', 'documents', 'metadatas'])", "same"),
]  # fmt: skip

ERROR_CASES: list[tuple[str, str, str]] = [
    ("e-and-single", "w.get(where={'$and': [{'n': 1}]})", "same"),
    ("e-and-empty", "w.get(where={'$and': []})", "same"),
    ("e-or-empty", "w.get(where={'$or': []})", "same"),
    ("e-in-empty", "w.get(where={'n': {'$in': []}})", "same"),
    ("e-nin-empty", "w.get(where={'n': {'$nin': []}})", "same"),
    ("e-in-mixed", "w.get(where={'n': {'$in': [1, 'x']}})", "same"),
    ("e-in-not-list", "w.get(where={'n': {'$in': 1}})", "same"),
    ("e-gt-nan", "w.get(where={'n': {'$gt': float('nan')}})", "same"),
    ("e-two-ops", "w.get(where={'n': {'$gt': 0, '$lt': 5}})", "same"),
    ("e-string-gt", "w.get(where={'s': {'$gt': 'a'}})", "same"),
    ("e-wd-contains-empty", "w.get(where_document={'$contains': ''})", "same"),
    ("e-wd-two-keys", "w.get(where_document={'$contains': 'a', '$not_contains': 'b'})", "same"),
    ("e-wd-and-empty", "w.get(where_document={'$and': []})", "same"),
    ("e-wd-regex-bad", "w.get(where_document={'$regex': '[x'})", "class"),  # Rust vs re wording
    ("e-n-results-negative", "w.query(query_embeddings=[1.0, 0.0, 0.0], n_results=-1)", "same"),
    ("e-n-results-float", "w.query(query_embeddings=[1.0, 0.0, 0.0], n_results=1.0)", "same"),
    ("e-n-results-numpy", "w.query(query_embeddings=[1.0, 0.0, 0.0], n_results=np.int64(1))",
     "same"),
    ("e-n-results-u32", "w.query(query_embeddings=[1.0, 0.0, 0.0], n_results=2**40)", "prefix"),
    ("e-n-results-i64", "w.query(query_embeddings=[1.0, 0.0, 0.0], n_results=2**64)", "same"),
    ("n-results-bool", "w.query(query_embeddings=[1.0, 0.0, 0.0], n_results=True)['ids']", "same"),
    ("e-limit-float", "w.get(limit=1.0)", "same"),
    ("e-limit-u32", "w.get(limit=2**32)", "prefix"),
    ("e-limit-i64", "w.get(limit=2**63)", "same"),
    ("e-offset-str", "w.get(offset='1')", "same"),
    ("e-offset-float", "w.get(offset=1.5)", "same"),
    ("e-offset-u32", "w.get(offset=2**32)", "prefix"),
    ("limit-bool", "w.get(limit=True)['ids']", "same"),
    ("limit-numpy", "w.get(limit=np.int64(1))['ids']", "same"),
    ("e-list-offset-negative", "c.list_collections(offset=-1)", "prefix"),
    ("e-list-limit-str", "c.list_collections(limit='1')", "same"),
    ("e-list-limit-float", "c.list_collections(limit=1.0)", "same"),
    ("e-list-limit-u32", "c.list_collections(limit=2**40)", "prefix"),
    ("e-list-limit-i64", "c.list_collections(limit=2**63)", "same"),
    ("list-limit-bool", "len(c.list_collections(limit=True))", "same"),
    ("list-limit-numpy", "len(c.list_collections(limit=np.int64(2)))", "same"),
    ("e-peek-negative", "w.peek(-1)", "prefix"),
    ("e-peek-str", "w.peek('1')", "same"),
    ("e-peek-float", "w.peek(1.5)", "same"),
    ("e-id-none", "w.add(ids=[None], embeddings=[[0.0, 0.0, 1.0]])", "same"),
    ("e-embedding-bools", "w.add(ids=['q'], embeddings=[[True, False, True]])", "same"),
    ("e-embedding-none-row", "w.add(ids=['q', 'r'], embeddings=[[1.0, 0.0, 0.0], None])", "same"),
    ("e-meta-list-mixed-bool", "w.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'a': [True, 1]}])", "same"),
    ("e-meta-bytes", "w.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{'a': b'x'}])",
     "same"),
    ("e-meta-list-none", "w.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'a': [1, None]}])", "same"),
    ("e-meta-numpy-int", "w.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'a': np.int64(3)}])", "same"),
    ("e-meta-numpy-float", "w.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], "
     "metadatas=[{'a': np.float32(0.5)}])", "same"),
    ("e-update-metadata-key-int", "w.update(ids=['a'], metadatas=[{2: 'x'}])", "same"),
    ("e-create-metadata-none", "c.create_collection('mnone', metadata={'a': None})", "same"),
    ("e-create-metadata-key-int", "c.create_collection('mkey', metadata={1: 'a'})", "same"),
    ("e-create-metadata-list-dict", "c.create_collection('mnl', metadata={'a': [{'b': 1}]})",
     "same"),
    ("e-create-metadata-mixed-list", "c.create_collection('mml', metadata={'a': [1, 'x']})",
     "same"),
    ("e-goc-metadata-nested", "c.get_or_create_collection('mgoc', metadata={'a': {'b': 1}})",
     "same"),
    ("e-modify-key-int", "w.modify(metadata={1: 'a'})", "same"),
    ("modify-none-value", "(w.modify(metadata={'a': None, 'b': 1}), w.metadata)[1]", "same"),
    ("e-embedding-empty-row", "w.add(ids=['q'], embeddings=[[]])", "chroma-bug"),  # IndexError
    ("e-metadata-not-dict", "w.add(ids=['q'], embeddings=[[0.0, 0.0, 1.0]], metadatas=['x'])",
     "chroma-bug"),  # AttributeError
    ("create-metadata-list", "c.create_collection('mlist', metadata={'a': [1, 2]}).metadata",
     "chroma-bug"),  # a Rust panic (PanicException, a BaseException)
    ("s-list-nan", "(lambda k: k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': [1.0, "
     "float('nan')]}]))(c.create_collection('strict-list-nan', embedding_function=None))",
     "chroma-bug"),  # "Error in compaction", and the Chroma collection stays broken
]  # fmt: skip

STRICTER_CASES: list[tuple[str, str, str]] = [
    (f"s-{name}", f"(lambda k: ({source}))(c.create_collection('strict-{name}', "
     "embedding_function=None))", "stricter")
    for name, source in [
        ("nan", "k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': float('nan')}])"),
        ("inf", "k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': float('inf')}])"),
        ("ninf", "k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': -float('inf')}])"),
        ("int-big", "k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': 2**63}])"),
        ("int-small", "k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': -2**63 - 1}])"),
        ("list-big", "k.add(ids=['q'], embeddings=[[0.0, 1.0]], metadatas=[{'a': [1, 2**64]}])"),
        ("update-nan", "k.add(ids=['q'], embeddings=[[0.0, 1.0]]), k.update(ids=['q'], "
         "metadatas=[{'a': float('nan')}])"),
        ("upsert-inf", "k.upsert(ids=['q'], embeddings=[[0.0, 1.0]], "
         "metadatas=[{'a': float('inf')}])"),
        ("update-big", "k.add(ids=['q'], embeddings=[[0.0, 1.0]]), k.update(ids=['q'], "
         "metadatas=[{'a': 2**64}])"),
        ("modify-nan", "k.modify(metadata={'a': float('nan')})"),
        ("modify-big", "k.modify(metadata={'a': 2**64})"),
    ]
] + [
    ("s-create-nan", "c.create_collection('strict-create-nan', metadata={'a': float('nan')})",
     "stricter"),
    ("s-create-inf", "c.create_collection('strict-create-inf', metadata={'a': float('inf')})",
     "stricter"),
    ("s-create-big", "c.create_collection('strict-create-big', metadata={'a': 2**64})",
     "stricter"),
]  # fmt: skip

# Run in a fresh process on the data the write phase left (a fresh server, remotely).
_KNOWN = "('renamed', 'legacy', 'configured', 'both', 'where-cases', 'write-cases', 'w-cos')"
REOPEN_CASES: list[tuple[str, str, str]] = [
    ("r-names", f"sorted(x.name for x in c.list_collections() if x.name in {_KNOWN})", "same"),
    ("r-final", "(col := c.get_collection('renamed')).get(include=['embeddings', 'documents', "
     "'metadatas'])", "same"),
    ("r-metadata", "col.metadata", "same"),
    ("r-count", "col.count()", "same"),
    ("r-ef-search", "col.configuration['hnsw']['ef_search']", "same"),
    ("r-legacy", "(lambda k: (k.metadata, k.configuration['hnsw']['space']))"
     "(c.get_collection('legacy'))", "same"),
    ("r-configured", "{x: c.get_collection('configured').configuration['hnsw'][x] for x in "
     "('space', 'max_neighbors', 'ef_construction', 'ef_search')}", "same"),
    ("r-where", "(w := c.get_collection('where-cases', embedding_function=None)).get("
     "where={'$or': [{'n': {'$gte': 1}}, {'s': 'y'}]}, include=['metadatas', 'documents'])",
     "same"),
    ("r-where-document", "w.get(where_document={'$contains': 'an'})['ids']", "same"),
    ("r-query", "w.query(query_embeddings=[0.9, 0.1, 0.05], n_results=3, "
     "include=['distances', 'metadatas', 'embeddings'])", "same"),
    ("r-cosine", "c.get_collection('w-cos', embedding_function=None).query(query_embeddings="
     "[[0.25, 0.6, 0.3]], n_results=3, include=['distances'])", "same"),
    ("r-writes", "(v := c.get_collection('write-cases', embedding_function=None)).get("
     "include=['embeddings', 'documents', 'metadatas'])", "same"),
    ("r-add-after-reopen", "(v.add(ids=['after'], embeddings=[[0.7, 0.7]], metadatas=[{'k': 3}]), "
     "v.get(where={'k': {'$gte': 3}}), v.count())[1:]", "same"),
    ("r-upsert-after-reopen", "(v.upsert(ids=['a'], embeddings=[[0.0, 0.5]], metadatas=[{'k': 4}]),"
     " v.query(query_embeddings=[0.0, 0.6], n_results=2, include=['distances', 'metadatas']))[1]",
     "same"),
    ("r-wrong-dimension", "v.add(ids=['d3'], embeddings=[[1.0, 2.0, 3.0]])", "same"),
]  # fmt: skip
