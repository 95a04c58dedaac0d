"""Chroma's name rules for collections, databases and tenants, with Chroma's messages.

Collection names follow Chroma's Rust `validate_name` (rust/types/src/validators.rs), whose
message Chroma's Python client shows behind `Validation error: name: `. Tenant and database names
need 3 characters, with the messages of Chroma's Python `SegmentAPI.create_tenant`/
`create_database`. Chroma 1.5.9 checks nothing more (a 1 MB name or `../../x` is a tenant there);
FletchDB also holds them to the collection-name characters, at creation and at every lookup
(docs/architecture.md).
"""

from __future__ import annotations

import ipaddress
import re

from flight_server.errors import InvalidArgumentError, quote_input

_ALNUM = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]")
_PREFIX = "Validation error: name: "
NAME_QUOTE_CHARS = 1024  # a name just past the 512-character limit is echoed whole, as Chroma does
MIN_TENANT_NAME = 3
MIN_DATABASE_NAME = 3


def check_name_type(kind: str, name: object) -> str:
    """`name` if it is a str, else InvalidArgumentError (for a tenant/database/collection name)."""
    if not isinstance(name, str):
        raise InvalidArgumentError(f"Expected {kind} name to be a str, got {name!r}")
    return name


def check_name_types(**names: object) -> None:
    """Each keyword (kind=name) checked in order: a str, and a valid tenant or database name."""
    for kind, name in names.items():
        if kind == "tenant":
            validate_tenant_name(name)
        elif kind == "database":
            validate_database_name(name)
        else:
            check_name_type(kind, name)


def validate_collection_name(name: object) -> str:
    """Return `name` if Chroma accepts it as a collection name, else raise InvalidArgumentError."""
    name = check_name_type("collection", name)
    if not _ALNUM.fullmatch(name):
        raise InvalidArgumentError(
            f"{_PREFIX}Expected a name containing 3-512 characters from [a-zA-Z0-9._-], "
            f"starting and ending with a character in [a-zA-Z0-9]. Got: {quote_input(name, NAME_QUOTE_CHARS)}"
        )
    if ".." in name:
        raise InvalidArgumentError(
            f"{_PREFIX}Expected a name that does not contains two consecutive periods (..). "
            f"Got {quote_input(name, NAME_QUOTE_CHARS)}"
        )
    if _is_ip_address(name):
        raise InvalidArgumentError(
            f"{_PREFIX}Expected a name that is not a valid ip address. Got {name}"
        )
    return name


def validate_tenant_name(name: object) -> str:
    """Return `name` if Chroma accepts it as a tenant name, else raise InvalidArgumentError."""
    name = check_name_type("tenant", name)
    if len(name) < MIN_TENANT_NAME:
        raise InvalidArgumentError("Tenant name must be at least 3 characters long")
    return _check_scope_name("tenant", name)


def validate_database_name(name: object) -> str:
    """Return `name` if Chroma accepts it as a database name, else raise InvalidArgumentError."""
    name = check_name_type("database", name)
    if len(name) < MIN_DATABASE_NAME:
        raise InvalidArgumentError("Database name must be at least 3 characters long")
    return _check_scope_name("database", name)


def _check_scope_name(kind: str, name: str) -> str:
    """A tenant or database name of 3-512 characters from [a-zA-Z0-9._-], alphanumeric ends."""
    if not _ALNUM.fullmatch(name) or ".." in name:
        raise InvalidArgumentError(
            f"{_PREFIX}Expected a {kind} name containing 3-512 characters from [a-zA-Z0-9._-], "
            f"starting and ending with a character in [a-zA-Z0-9], without two consecutive "
            f"periods (..). Got: {quote_input(name, NAME_QUOTE_CHARS)}"
        )
    return name


def _is_ip_address(name: str) -> bool:
    """True for a string Rust's `IpAddr::from_str` accepts (dotted-quad IPv4 or IPv6)."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
