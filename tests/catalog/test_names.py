"""Chroma's name rules (rust/types/src/validators.rs `validate_name`; Python SegmentAPI messages)."""

from __future__ import annotations

import pytest

from flight_server.catalog.names import (
    validate_collection_name,
    validate_database_name,
    validate_tenant_name,
)
from flight_server.errors import InvalidArgumentError

CHARSET = (
    "Validation error: name: Expected a name containing 3-512 characters from [a-zA-Z0-9._-], "
    "starting and ending with a character in [a-zA-Z0-9]. Got: {name}"
)
DOTS = (
    "Validation error: name: Expected a name that does not contains two consecutive periods (..). "
    "Got {name}"
)
IP = "Validation error: name: Expected a name that is not a valid ip address. Got {name}"

VALID_COLLECTION_NAMES = [
    "abc",
    "ABC",
    "a1b",
    "123",
    "a.b",
    "a_b-c.d",
    "my-collection_v2.0",
    "a" * 512,
    "1.2.3",  # three parts: not an IPv4 address
    "1.2.3.4.5",
    "256.1.1.1",  # out of range: not an address
    "01.2.3.4",  # leading zeros: rejected as an address by both Rust and Python
    "a.b.c",
]

INVALID_COLLECTION_NAMES = [
    ("", CHARSET),
    ("a", CHARSET),
    ("ab", CHARSET),
    ("a" * 513, CHARSET),
    ("_ab", CHARSET),
    ("ab_", CHARSET),
    ("-ab", CHARSET),
    ("ab-", CHARSET),
    (".ab", CHARSET),
    ("ab.", CHARSET),
    ("a b", CHARSET),
    ("a/b", CHARSET),
    ("a$b", CHARSET),
    ("abc\n", CHARSET),  # `$` in Python would accept a trailing newline; fullmatch does not
    ("caf\u00e9", CHARSET),  # only ASCII letters
    ("\u0661\u0662\u0663", CHARSET),  # Arabic-Indic digits are not [0-9]
    ("a..b", DOTS),
    ("a...b", DOTS),
    ("1..2", DOTS),
    ("1.2.3.4", IP),
    ("192.168.0.1", IP),
    ("0.0.0.0", IP),
    ("255.255.255.255", IP),
]


@pytest.mark.parametrize("name", VALID_COLLECTION_NAMES)
def test_valid_collection_names(name: str) -> None:
    assert validate_collection_name(name) == name


@pytest.mark.parametrize(("name", "template"), INVALID_COLLECTION_NAMES)
def test_invalid_collection_names(name: str, template: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        validate_collection_name(name)
    assert str(info.value) == template.format(name=name)
    assert isinstance(info.value, ValueError)  # Chroma's validators raise ValueError subclasses


@pytest.mark.parametrize("name", [None, 123, b"abc", ["abc"]])
def test_collection_name_must_be_a_string(name: object) -> None:
    with pytest.raises(InvalidArgumentError, match="Expected collection name to be a str"):
        validate_collection_name(name)


@pytest.mark.parametrize(
    ("validate", "label"),
    [(validate_tenant_name, "Tenant"), (validate_database_name, "Database")],
)
@pytest.mark.parametrize("name", ["", "a", "ab"])
def test_short_tenant_and_database_names(validate: object, label: str, name: str) -> None:
    assert callable(validate)
    with pytest.raises(InvalidArgumentError) as info:
        validate(name)
    assert str(info.value) == f"{label} name must be at least 3 characters long"


@pytest.mark.parametrize("validate", [validate_tenant_name, validate_database_name])
@pytest.mark.parametrize("name", ["abc", "default_tenant", "a.b-c_d", "x" * 512, "192.168.1.1"])
def test_tenant_and_database_names_of_collection_name_characters(
    validate: object, name: str
) -> None:
    assert callable(validate)
    assert validate(name) == name


@pytest.mark.parametrize(
    ("validate", "kind"), [(validate_tenant_name, "tenant"), (validate_database_name, "database")]
)
@pytest.mark.parametrize(
    "name", ["../../x", "with space", "x" * 513, "a..b", "-abc", "abc-", "naïve", "a/b/c"]
)
def test_tenant_and_database_names_chroma_would_take_are_refused(
    validate: object, kind: str, name: str
) -> None:
    # chromadb 1.5.9 takes all of these (it only counts 3 characters); a tenant or database name
    # travels in paths, descriptors and tokens, so FletchDB holds it to collection-name characters
    assert callable(validate)
    with pytest.raises(InvalidArgumentError) as info:
        validate(name)
    assert str(info.value) == (
        f"Validation error: name: Expected a {kind} name containing 3-512 characters from "
        "[a-zA-Z0-9._-], starting and ending with a character in [a-zA-Z0-9], without two "
        f"consecutive periods (..). Got: {name}"
    )


@pytest.mark.parametrize("validate", [validate_tenant_name, validate_database_name])
def test_a_huge_name_is_not_echoed_whole(validate: object) -> None:
    assert callable(validate)
    with pytest.raises(InvalidArgumentError) as info:
        validate("x" * 2**20)
    assert len(str(info.value)) < 2000
    assert str(info.value).endswith(f"... ({2**20} characters)")


@pytest.mark.parametrize("validate", [validate_tenant_name, validate_database_name])
def test_tenant_and_database_names_must_be_strings(validate: object) -> None:
    assert callable(validate)
    with pytest.raises(InvalidArgumentError, match="to be a str"):
        validate(1234)
