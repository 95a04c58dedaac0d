"""The full-text tokenizer: Unicode lowercase, then split on everything that is not a letter,
mark or number.

A token is a maximal run of code points of the Unicode categories L (letters), M (marks) and N
(numbers), after lowercasing each code point with Unicode's simple case mapping (pyarrow's
`utf8_lower`, utf8proc). So `"Straße, ÉCOLE; 北京2024 naïve_x"` gives `straße`, `école`,
`北京2024`, `naïve`, `x`. Marks are kept so that words in scripts that write vowels as combining
signs (Devanagari, Thai, ...) and decomposed accents (NFD) stay one token. There is no stemming, no
stop-word list and no Unicode normalization; scripts written without spaces (Chinese, Japanese)
give one token per run. Everything runs in pyarrow.compute over whole columns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import one_array

SEPARATOR = r"[^\p{L}\p{M}\p{N}]+"


def tokenize(documents: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(row of each token, the tokens) of a string column; null documents have no tokens."""
    docs = one_array(documents)
    docs = docs.cast(pa.string())
    if len(docs) == 0:
        return np.empty(0, np.int64), pa.array([], pa.string())
    parts = pc.split_pattern_regex(pc.utf8_lower(docs), SEPARATOR)
    tokens = pc.list_flatten(parts)
    rows = np.asarray(pc.list_parent_indices(parts), dtype=np.int64)
    keep = pc.greater(pc.binary_length(tokens), 0)  # a leading/trailing separator leaves ""
    return rows[np.asarray(keep, dtype=bool)], tokens.filter(keep)


def query_terms(text: str) -> list[str]:
    """The distinct tokens of a text query, in first-occurrence order (as `tokenize` splits it).

    RE2 compiles the Unicode classes of SEPARATOR in 1-2 ms, on every pyarrow call: too slow per
    query. So a query is lowercased by the same `utf8_lower`, and split with a table of which code
    points SEPARATOR matches, filled by RE2 itself 256 code points at a time on first sight.
    """
    lowered = pc.utf8_lower(pa.array([text], pa.string()))[0].as_py() or ""
    codes = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    keep = np.concatenate([[False], _token_chars(codes), [False]])
    edges = np.flatnonzero(keep[1:] != keep[:-1])
    words = (lowered[a:b] for a, b in zip(edges[0::2], edges[1::2], strict=True))
    return list(dict.fromkeys(words))


_BLOCK = 256
_blocks: dict[int, np.ndarray] = {}


def _token_chars(codes: np.ndarray) -> np.ndarray:
    """Per code point: whether it belongs to a token (is not matched by SEPARATOR)."""
    blocks = codes // _BLOCK
    for block in np.unique(blocks).tolist():
        if block not in _blocks:
            _blocks[block] = _block_table(block)
    out = np.zeros(len(codes), dtype=bool)
    for block in np.unique(blocks).tolist():
        at = blocks == block
        out[at] = _blocks[block][codes[at] % _BLOCK]
    return out


def _block_table(block: int) -> np.ndarray:
    """Which of the 256 code points of a block are token characters, as RE2 decides."""
    first = block * _BLOCK
    if 0xD800 <= first < 0xE000:  # surrogates: not characters
        return np.zeros(_BLOCK, dtype=bool)
    chars = pa.array([chr(first + i) for i in range(_BLOCK)], pa.string())
    return ~np.asarray(pc.match_substring_regex(chars, SEPARATOR), dtype=bool)
