"""Chroma's `Collection`: add, upsert, update, delete, get, query, peek, count, modify."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flight_server.api import CollectionRecord, Op, check_depth_limit, duplicate_ids_message
from flight_server.api import client_check_where as _client_check_where
from flight_server.api import client_check_where_document as _client_check_where_document

from .collection_metadata import check_collection_metadata
from .convert import normalize_embeddings, to_write_batch
from .errors import DuplicateIDError, InvalidArgumentError
from .frames import GetResult, QueryResult
from .ingest import is_table_input, write_table
from .results import (
    get_result,
    query_result,
    validate_include,
    validate_limit_offset,
    validate_n_results,
)
from .search_result import SearchResult, run_searches
from .transport import Transport
from .utils.embedding_functions import EmbeddingFunction, embed_texts


class Collection:
    """A named set of records (id, embedding, metadata, document) in one database."""

    def __init__(
        self,
        transport: Transport,
        record: CollectionRecord,
        embedding_function: EmbeddingFunction | None,
    ) -> None:
        self._transport = transport
        self._record = record
        self._embedding_function = embedding_function

    def __repr__(self) -> str:
        return f"Collection(name={self.name!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def id(self) -> str:
        """The collection's UUID (as a string)."""
        return self._record.id

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._record.name

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The collection's metadata."""
        return self._record.metadata

    @property
    def configuration(self) -> dict[str, Any]:
        """The collection's index configuration ({"hnsw": {...}})."""
        return self._record.configuration

    @property
    def tenant(self) -> str:
        """The tenant it belongs to."""
        return self._record.tenant

    @property
    def database(self) -> str:
        """The database it belongs to."""
        return self._record.database

    @property
    def embedding_function(self) -> EmbeddingFunction | None:
        """The function that embeds documents and query texts, if any."""
        return self._embedding_function

    # Writes ---------------------------------------------------------------------------
    def add(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        **options: Any,
    ) -> None:
        """Add records; ids that already exist are ignored (as Chroma).

        `ids` may instead be one table (Arrow, Polars, pandas, a Parquet path or an Arrow stream)
        with columns id, embedding, document and metadata keys; options progress= and
        batch_size= (docs/dataframes.md). The same holds for upsert and update.
        """
        self._write(Op.ADD, ids, embeddings, metadatas, documents, **options)

    def upsert(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        **options: Any,
    ) -> None:
        """Add new records and update existing ones."""
        self._write(Op.UPSERT, ids, embeddings, metadatas, documents, **options)

    def update(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        **options: Any,
    ) -> None:
        """Update existing records (missing ids are ignored); metadata keys merge, None removes one."""
        self._write(Op.UPDATE, ids, embeddings, metadatas, documents, **options)

    def _write(
        self, op: Op, ids: Any, embeddings: Any, metadatas: Any, documents: Any, **options: Any
    ) -> None:
        if is_table_input(ids):  # a table, DataFrame, Parquet path or Arrow stream (ingest.py)
            others = {"embeddings": embeddings, "metadatas": metadatas, "documents": documents}
            embed = self._embed if op != Op.UPDATE or self._embedding_function else None
            write_table(self._transport, self.id, op, ids, embed=embed, others=others, **options)
            return
        # update re-embeds changed documents only when there is a function to do it (as Chroma)
        if (
            embeddings is None
            and documents is not None
            and (op != Op.UPDATE or self._embedding_function)
        ):
            embeddings = self._embed(documents, op_name=op.name.lower())
        batch = to_write_batch(op, ids, embeddings, metadatas, documents)
        self._transport.write(self.id, op, batch)

    def _embed(self, texts: Any, query: bool = False, op_name: str = "add") -> Any:
        """Texts embedded by the collection's function (utils/embedding_functions.py)."""
        return embed_texts(self._embedding_function, texts, query=query, op_name=op_name)

    def delete(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
    ) -> dict[str, int]:
        """Delete records by ids and/or filters; return {"deleted": n} as Chroma 1.5.9 does."""
        if ids is None and where is None and where_document is None:
            raise InvalidArgumentError(
                "At least one of ids, where, or where_document must be provided in delete."
            )
        id_list = _ids_and_filters(ids, where, where_document, "delete", self._max_depth())
        return {"deleted": self._transport.delete(self.id, id_list, where, where_document)}

    # Reads ----------------------------------------------------------------------------
    def count(self) -> int:
        """Number of records."""
        return self._transport.count(self.id)

    def get(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> GetResult:
        """Records by ids and/or filters, in insertion order, as Chroma's GetResult."""
        include = validate_include(include, for_query=False)
        limit, offset = validate_limit_offset(limit, offset)
        id_list = _ids_and_filters(ids, where, where_document, "get", self._max_depth())
        table = self._transport.get(
            self.id, id_list, where, where_document, limit, offset, set(include)
        )
        return get_result(table, include)

    def peek(self, limit: int = 10) -> GetResult:
        """The first `limit` records, with embeddings."""
        return self.get(limit=limit, include=["metadatas", "documents", "embeddings"])

    def query(
        self,
        query_embeddings: Any = None,
        query_texts: Any = None,
        n_results: int = 10,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
        ids: Any = None,
        **_: Any,
    ) -> QueryResult:
        """The n_results nearest records per query, as Chroma's QueryResult."""
        # Chroma's query checks no data loader ("data" comes back None) and prefers embeddings
        include = validate_include(include, for_query=True, has_data_loader=True)
        n_results = validate_n_results(n_results)
        if query_embeddings is None and query_texts is None:
            raise InvalidArgumentError(
                "At least one of one of embeddings, documents, images, uris must be provided in query."
            )
        if query_embeddings is None:
            query_embeddings = self._embed(query_texts, query=True, op_name="query")
        embeddings = normalize_embeddings(query_embeddings)
        id_list = _ids_and_filters(ids, where, where_document, "query", self._max_depth())
        tables = self._transport.query(
            self.id, embeddings, n_results, where, where_document, id_list, set(include)
        )
        return query_result(tables, include)

    def search(self, searches: Any) -> SearchResult:
        """Chroma's Search API: a Search or a list of them, ranked by Knn, Bm25 or Rrf."""
        return run_searches(self._transport, self.id, searches, self._embed)

    def modify(
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        """Rename the collection, replace its metadata, or change settable HNSW keys."""
        check_collection_metadata(metadata, Op.UPDATE)
        if metadata is not None and "hnsw:space" in metadata:
            raise InvalidArgumentError(
                "Changing the distance function of a collection once it is created is not "
                "supported currently."
            )
        self._record = self._transport.modify_collection(self.id, name, metadata, configuration)

    def _max_depth(self) -> int:
        return int(self._transport.settings.max_where_depth)

    # FletchDB extras --------------------------------------------------------------------
    def compact(self) -> int:
        """Index the whole log tail now (normally the background compactor does this)."""
        return self._transport.compact(self.id)

    def stats(self) -> dict[str, Any]:
        """Index version, log offset, tail size and record count."""
        return self._transport.stats(self.id)


def _check_unique(ids: list[Any], op: str) -> None:
    """Chroma's duplicate check of get's and delete's ids, suffixed " in <op>." as Chroma's."""
    strings = [i for i in ids if isinstance(i, str)]
    if len(set(strings)) != len(strings):
        dups = [i for i, n in Counter(strings).items() if n > 1]
        raise DuplicateIDError(f"{duplicate_ids_message(dups)} in {op}.")


def _ids_and_filters(
    ids: Any, where: Any, where_document: Any, op: str, max_depth: int
) -> list[str] | None:
    """Chroma's client-side checks of ids and filters, suffixed " in <op>." as Chroma's are."""
    id_list = [ids] if isinstance(ids, str) else (list(ids) if ids is not None else None)
    if op != "query" and id_list:  # query's ids are not validated by Chroma
        _check_unique(id_list, op)
    check_depth_limit(where, where_document, max_depth)  # before any check that recurses
    try:
        if id_list == [] and op != "query":  # query's ids are not validated by Chroma
            raise InvalidArgumentError("Expected IDs to be a non-empty list, got 0 IDs")
        if where is not None:
            _client_check_where(where)
        if where_document is not None:
            _client_check_where_document(where_document)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{exc} in {op}.") from None
    return id_list
