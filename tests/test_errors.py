"""The error family (describe_images._errors): one constructor, one envelope, messages."""

from __future__ import annotations

import pytest

from describe_images import (
    AuthError,
    DescribeImagesError,
    DocumentError,
    ErrorCode,
    RequestError,
    ServiceError,
    UsageError,
    Violation,
    WireError,
)
from describe_images._errors import REASONS, envelope, violation


def test_violation_takes_its_code_from_its_reason() -> None:
    made = violation("too-many-filters", "Filters", "Filters has 11 filters")
    expected = Violation("InvalidFilter", "too-many-filters", "Filters", "Filters has 11 filters")
    assert made == expected
    assert type(made.code) is str
    assert made.key == made.path == "Filters"
    assert made.to_dict() == {
        "code": "InvalidFilter",
        "reason": "too-many-filters",
        "path": "Filters",
        "message": "Filters has 11 filters",
    }
    for reason, code in REASONS.items():
        assert violation(reason, "", "m").code == code.value == code
    with pytest.raises(KeyError):
        violation("no-such-reason", "", "m")


def _errors(count: int) -> list[Violation]:
    return [violation("invalid-limit", f"p{i}", f"problem {i}") for i in range(count)]


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (1, "problem 0"),
        (2, "problem 0 (and 1 more problem)"),
        (3, "problem 0 (and 2 more problems)"),
    ],
)
def test_messages_count_the_rest(count: int, message: str) -> None:
    error = RequestError(_errors(count))
    assert error.message == message
    assert str(error) == f"InvalidParameterValue.InvalidParameterValueLimit: {message}"
    assert error.code == "InvalidParameterValue.InvalidParameterValueLimit"
    assert error.path == "p0"
    assert error.to_response("r-1") == {
        "Response": {
            "Error": {"Code": error.code, "Message": message},
            "RequestId": "r-1",
        }
    }


def test_an_error_needs_a_violation() -> None:
    with pytest.raises(AssertionError, match=r"^RequestError needs at least one violation$"):
        RequestError([])
    with pytest.raises(AssertionError, match=r"^WireError needs at least one violation$"):
        WireError(iter(()))


def test_a_summary_replaces_the_text_only() -> None:
    error = DocumentError(_errors(2), "file.json: 2 problems")
    assert str(error) == "file.json: 2 problems"
    assert error.message == "problem 0 (and 1 more problem)"


def test_the_family() -> None:
    for kind in (RequestError, WireError, AuthError, DocumentError, ServiceError, UsageError):
        assert issubclass(kind, DescribeImagesError)
    assert issubclass(WireError, RequestError) and issubclass(AuthError, RequestError)
    assert issubclass(UsageError, ValueError)
    assert str(ErrorCode.INVALID_FILTER) == "InvalidFilter"


def test_service_error_and_the_one_envelope() -> None:
    error = ServiceError("ResourceNotFound", "gone", "r-2")
    assert str(error) == "ResourceNotFound: gone (RequestId r-2)"
    assert error.to_response() == envelope("ResourceNotFound", "gone", "r-2") == {
        "Response": {"Error": {"Code": "ResourceNotFound", "Message": "gone"}, "RequestId": "r-2"}
    }
