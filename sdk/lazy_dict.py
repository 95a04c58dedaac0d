"""A dict whose values are built on first access: results convert to Python only when read.

Chroma's users see plain dicts, so `LazyDict` must look like one from every side. Its storage
holds every key from the start (so `len`, `in` and json's emptiness check are right), with a
`Deferred` placeholder until the value is built. `d[key]` and `d.get(key)` build that one value;
anything that sees the whole dict (iteration, items, values, ==, repr, copy, json.dumps through
`items()`, `dict(d)` and `{**d}` through `keys()` + `__getitem__`) builds every value first, and
mutation builds everything before it changes anything. Two threads may build a value twice; the
builders are pure, so both get equal values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Deferred:
    """A value of a `LazyDict` not built yet: `build()` makes it."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build


class LazyDict(dict[str, Any]):
    """A dict built from values and `Deferred` values; the latter are built on first access."""

    _pending: set[str] | frozenset[str] = frozenset()  # until __init__ (or unpickling) sets it

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self._pending = {k for k, v in fields.items() if isinstance(v, Deferred)}

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if isinstance(value, Deferred):
            value = value.build()
            dict.__setitem__(self, key, value)
            self._pending.discard(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """`d[key]` if the key is present, else `default`."""
        return self[key] if dict.__contains__(self, key) else default

    def _build_all(self) -> None:
        for key in list(self._pending):
            self[key]

    def __eq__(self, other: object) -> bool:
        self._build_all()
        if isinstance(other, LazyDict):
            other._build_all()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # as dict's


def _building(name: str) -> Callable[..., Any]:
    method = getattr(dict, name)

    def whole(self: LazyDict, *args: Any, **kwargs: Any) -> Any:
        if self._pending:
            self._build_all()
        return method(self, *args, **kwargs)

    whole.__name__, whole.__doc__ = name, method.__doc__
    return whole


for _name in (
    "__iter__",
    "__reversed__",
    "__repr__",
    "__or__",
    "__ror__",
    "__ior__",
    "__setitem__",
    "__delitem__",
    "__reduce_ex__",
    "keys",
    "values",
    "items",
    "copy",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "clear",
):
    setattr(LazyDict, _name, _building(_name))
