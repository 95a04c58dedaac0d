"""LIMIT/OFFSET of the list calls, checked once for every store and front."""

from __future__ import annotations

from ..errors import InvalidArgumentError, quote_input

MAX_PAGE = 2**63 - 1  # catalogs bind LIMIT/OFFSET as BIGINT; past it is an overflow, not a page


def page_params(limit: int | None, offset: int | None) -> list[int | None]:
    """LIMIT/OFFSET parameters; None means no limit / from the start."""
    for label, value in (("limit", limit), ("offset", offset)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise InvalidArgumentError(
                f"Expected {label} to be a non-negative int, got {quote_input(value, as_repr=True)}"
            )
        if value is not None and value > MAX_PAGE:
            raise InvalidArgumentError(
                f"Expected {label} to be at most {MAX_PAGE} (2**63 - 1), got {quote_input(value)}",
                limit=label,
                value=quote_input(value),
                maximum=MAX_PAGE,
            )
    return [limit, offset or 0]
