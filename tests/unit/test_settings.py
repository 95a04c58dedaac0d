"""Settings coerce what environment variables, TOML files and flags give, and refuse the rest."""

from __future__ import annotations

import pytest

from flight_server.config import Settings
from flight_server.errors import InvalidArgumentError


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("max_batch_rows", "7", 7),
        ("max_batch_rows", 8.0, 8),
        ("rate_read_per_second", 3, 3.0),
        ("rate_read_per_second", "2.5", 2.5),
        ("compaction_enabled", "off", False),
        ("insecure_dev", "yes", True),
    ],
)
def test_values_are_coerced_to_the_setting_type(name: str, given: object, expected: object) -> None:
    value = getattr(Settings(**{name: given}), name)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("max_batch_rows", 1.5),
        ("max_batch_rows", "1.5"),
        ("port", True),
        ("rate_read_per_second", False),
        ("compaction_enabled", "maybe"),
    ],
)
def test_values_that_are_not_of_the_type_are_refused(name: str, given: object) -> None:
    with pytest.raises(InvalidArgumentError, match=f"Setting {name} expects"):
        Settings(**{name: given})
