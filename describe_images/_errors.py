"""The library's one exception family and its error vocabulary.

Every public function reports problems by raising a subclass of
:class:`DescribeImagesError`; each problem is a :class:`Violation` carrying a
Tencent error code, a kebab-case reason, the wire path it concerns and a human
message (spec/README.md §2.8).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class ErrorCode(str, enum.Enum):
    """The closed vocabulary of wire error codes (values are the exact wire strings)."""

    INVALID_PARAMETER = "InvalidParameter"
    MISSING_PARAMETER = "MissingParameter"
    INVALID_ACTION = "InvalidAction"
    UNKNOWN_PARAMETER = "UnknownParameter"
    INVALID_PARAMETER_VALUE = "InvalidParameterValue"
    COEXIST_IMAGE_IDS_FILTERS = "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
    INVALID_FILTER = "InvalidFilter"
    MALFORMED_IMAGE_ID = "InvalidImageId.Malformed"
    LIMIT_EXCEEDED = "InvalidParameterValue.LimitExceeded"
    INVALID_LIMIT = "InvalidParameterValue.InvalidParameterValueLimit"
    SIGNATURE_FAILURE = "AuthFailure.SignatureFailure"
    SECRET_ID_NOT_FOUND = "AuthFailure.SecretIdNotFound"
    SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"
    REPLAY_ATTACK = "InvalidRequest.ReplayAttack"
    INTERNAL_ERROR = "InternalError"
    REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Violation:
    """One problem: its error code, reason, wire path and a message for people."""

    code: ErrorCode
    reason: str
    path: str
    message: str

    @property
    def key(self) -> str:
        """The wire key (or segment) the problem concerns; the same as :attr:`path`."""
        return self.path

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code.value,
            "reason": self.reason,
            "path": self.path,
            "message": self.message,
        }


class DescribeImagesError(Exception):
    """Root of every exception this library raises on purpose."""


class RequestError(DescribeImagesError):
    """A request (or part of one) is not acceptable; carries every violation found.

    The first violation decides the envelope's ``Code`` (spec/README.md §2.4).
    """

    def __init__(self, violations: Iterable[Violation]) -> None:
        found = tuple(violations)
        if not found:
            raise AssertionError("RequestError needs at least one violation")
        self.violations: tuple[Violation, ...] = found
        super().__init__(self._summary())

    def _summary(self) -> str:
        first = self.violations[0]
        more = len(self.violations) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"{first.code.value}: {first.message}{tail}"

    @property
    def code(self) -> ErrorCode:
        """The code of the first violation: what a server answers."""
        return self.violations[0].code

    @property
    def message(self) -> str:
        """The envelope's ``Message``: the first violation's message, with a count of the rest."""
        first = self.violations[0]
        more = len(self.violations) - 1
        if not more:
            return first.message
        return f"{first.message} (and {more} more problem{'s' if more > 1 else ''})"

    def to_response(self, request_id: str) -> dict[str, Any]:
        """The Tencent error envelope for this error."""
        return {
            "Response": {
                "Error": {"Code": self.code.value, "Message": self.message},
                "RequestId": request_id,
            }
        }


class WireError(RequestError):
    """The query string itself is malformed (a codec problem, code ``InvalidParameter``)."""


class AuthError(RequestError):
    """A signature, credential, timestamp or nonce check failed (spec/README.md Part 4)."""


class ServiceError(DescribeImagesError):
    """A server answered with the Tencent error envelope.

    ``code`` is the raw wire string (a server may send codes outside :class:`ErrorCode`);
    :attr:`error_code` is the matching :class:`ErrorCode` when there is one.
    """

    def __init__(self, code: str, message: str, request_id: str) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        super().__init__(f"{code}: {message} (RequestId {request_id})")

    @property
    def error_code(self) -> ErrorCode | None:
        try:
            return ErrorCode(self.code)
        except ValueError:
            return None

    def to_response(self) -> dict[str, Any]:
        """The error envelope this error was read from (``RequestId`` spelled so)."""
        return {
            "Response": {
                "Error": {"Code": self.code, "Message": self.message},
                "RequestId": self.request_id,
            }
        }


class UsageError(DescribeImagesError, ValueError):
    """A command-line usage problem: the CLI prints its one line and exits 2."""


def wire_violation(reason: str, key: str, message: str) -> Violation:
    """A codec violation: always ``InvalidParameter`` (spec/README.md §1.7)."""
    return Violation(ErrorCode.INVALID_PARAMETER, reason, key, message)
