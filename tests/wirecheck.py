"""Helpers shared by the codec's tests (test_wire, test_pairs, test_tree): what a call
reports, and the shape every WireError must have."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from describe_images import DescribeImagesError, ErrorCode, WireError
from describe_images._errors import WIRE_REASONS
from describe_images.wire import DEFAULT_LIMITS, WireLimits, parse_query, unflatten

# Every reason the codec may give (spec/README.md §1.7).
REASONS = frozenset(WIRE_REASONS)

# (reason, path) of each violation, in order.
Reported = list[tuple[str, str]]
# ... and the message.
Described = list[tuple[str, str, str]]


def reported(error: WireError) -> Reported:
    return [(v.reason, v.key) for v in error.violations]


def described(error: WireError) -> Described:
    return [(v.reason, v.path, v.message) for v in error.violations]


def wire_error(call: Callable[..., object], *args: Any, **kwargs: Any) -> WireError:
    with pytest.raises(WireError) as info:
        call(*args, **kwargs)
    return info.value


def parse_errors(query: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> Reported:
    return reported(wire_error(parse_query, query, limits=limits))


def tree_errors(pairs: Iterable[object], limits: WireLimits = DEFAULT_LIMITS) -> Reported:
    return reported(wire_error(unflatten, pairs, limits=limits))


def query_errors(query: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> Reported:
    """The violations of parse_query, or else of unflatten (one of them must raise)."""
    with pytest.raises(WireError) as info:
        unflatten(parse_query(query, limits=limits), limits=limits)
    return reported(info.value)


def assert_well_formed(error: WireError) -> None:
    assert error.violations
    assert isinstance(error, DescribeImagesError)
    for violation in error.violations:
        assert violation.code == ErrorCode.INVALID_PARAMETER
        assert violation.reason in REASONS
        assert violation.key == violation.path
        assert violation.message
        # Paths and messages can always be written out (no lone surrogates).
        violation.path.encode("utf-8")
        violation.message.encode("utf-8")


def attempt(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, WireError | None]:
    """``(result, None)``, or ``(None, the WireError)``: no other exception may escape."""
    try:
        return call(*args, **kwargs), None
    except WireError as error:
        return None, error
