"""`python -m fletchdb.demo`: a persistent collection in ./fletchdb_data, a few thousand records, three queries."""

from __future__ import annotations

import argparse
import time

import fletchdb
import numpy as np

WORDS = (
    "arrow flight vector index query column batch table stream metadata document search "
    "compaction log tenant database collection embedding filter cosine nearest"
).split()
CATEGORIES = ["science", "sports", "music", "travel", "food"]


def generate(
    n: int, dim: int, seed: int = 7
) -> tuple[list[str], np.ndarray, list[dict], list[str]]:
    """n clustered records: ids, embeddings, metadatas and short documents."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(CATEGORIES), dim)).astype(np.float32)
    cluster = rng.integers(0, len(CATEGORIES), n)
    embeddings = centers[cluster] + 0.3 * rng.normal(size=(n, dim)).astype(np.float32)
    ids = [f"doc-{i}" for i in range(n)]
    metadatas = [
        {"category": CATEGORIES[c], "year": int(1990 + i % 35), "score": float(i % 100) / 10}
        for i, c in enumerate(cluster)
    ]
    documents = [" ".join(rng.choice(WORDS, 6)) for _ in range(n)]
    return ids, embeddings, metadatas, documents


def show(title: str, result: dict) -> None:
    """Print a query result as a small table."""
    print(f"\n{title}")
    for rid, dist, meta, doc in zip(
        result["ids"][0],
        result["distances"][0],
        result["metadatas"][0],
        result["documents"][0],
        strict=True,
    ):
        print(f"  {rid:<10} {dist:8.3f}  {meta['category']:<8} {meta['year']}  {doc}")


def main() -> None:
    """Run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", default="./fletchdb_data")
    parser.add_argument("--records", type=int, default=5000)
    args = parser.parse_args()

    ids, embeddings, metadatas, documents = generate(args.records, 64)
    with fletchdb.PersistentClient(path=args.path) as client:
        collection = client.get_or_create_collection("demo", metadata={"hnsw:space": "cosine"})
        start = time.perf_counter()
        collection.add(ids=ids, embeddings=embeddings, metadatas=metadatas, documents=documents)
        took = time.perf_counter() - start
        print(
            f"FletchDB {fletchdb.__version__}: collection 'demo' in {args.path} holds {collection.count()} records"
        )
        print(
            f"add of {len(ids)} records acknowledged in {took * 1000:.1f} ms (existing ids are ignored)"
        )
        query = embeddings[0] + 0.05
        show("query: 5 nearest to doc-0", collection.query(query_embeddings=[query], n_results=5))
        show(
            "filtered: category = 'music' and year >= 2010",
            collection.query(
                query_embeddings=[query],
                n_results=5,
                where={"$and": [{"category": "music"}, {"year": {"$gte": 2010}}]},
            ),
        )
        show(
            "document filter: contains 'arrow flight'",
            collection.query(
                query_embeddings=[query], n_results=5, where_document={"$contains": "arrow flight"}
            ),
        )
        collection.compact()
        print(f"\nindex: {collection.stats()}")


if __name__ == "__main__":
    main()
