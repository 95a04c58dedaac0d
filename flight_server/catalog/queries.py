"""Named SQL queries: `-- name: some_query` sections in a .sql file shipped inside a package."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>\S+)\s*$")
_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_queries(text: str, source: str = "<string>") -> dict[str, str]:
    """Split SQL text into {name: sql}; ValueError on a duplicate, malformed or empty section."""
    queries: dict[str, str] = {}
    name: str | None = None
    body: list[str] = []

    def finish() -> None:
        if name is None:
            return
        sql = "\n".join(body).strip().rstrip(";").strip()
        if not sql:
            raise ValueError(f"{source}: query {name!r} is empty")
        queries[name] = sql

    for lineno, line in enumerate(text.splitlines(), start=1):
        match = _NAME_LINE.match(line.strip())
        if match:
            finish()
            name, body = match.group("name"), []
            if not _VALID_NAME.match(name):
                raise ValueError(f"{source}:{lineno}: invalid query name {name!r}")
            if name in queries:
                raise ValueError(f"{source}:{lineno}: duplicate query name {name!r}")
        elif name is not None and not line.lstrip().startswith("--"):
            body.append(line)
    finish()
    return queries


@cache
def _load(package: str, filename: str) -> Mapping[str, str]:
    text = files(package).joinpath(filename).read_text(encoding="utf-8")
    return MappingProxyType(parse_queries(text, f"{package}/{filename}"))


def load_queries(package: str, filename: str) -> dict[str, str]:
    """The named queries of `filename` in `package`, read and parsed once per process."""
    return dict(_load(package, filename))
