"""Counting function calls: a deterministic stand-in for timing when a test means "no per-row Python"."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def python_calls(fn: Callable[[], Any]) -> int:
    """Python and C function calls made while fn() runs (sys.setprofile), after one warm-up run."""
    fn()  # warm: first calls fill caches (abc subclass checks) and would count extra
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def calls_to(fn: Callable[[], Any], *targets: Callable[..., Any]) -> dict[str, int]:
    """How many times fn() calls each of `targets` (by code object; sys.setprofile, no patching)."""
    codes = {t.__code__: t.__name__ for t in targets}
    counts = dict.fromkeys(codes.values(), 0)

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            counts[codes[frame.f_code]] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return counts
