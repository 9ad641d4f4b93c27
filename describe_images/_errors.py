"""The library's one exception family and its error vocabulary.

Every public function reports problems by raising a subclass of
:class:`DescribeImagesError`; each problem is a :class:`Violation` carrying a
Tencent error code, a kebab-case reason, the wire path it concerns and a human
message (spec/README.md §2.8). Violations are made by :func:`violation` only, which
looks the code up in :data:`REASONS`; error envelopes are made by :func:`envelope` only.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final


class ErrorCode(str, enum.Enum):
    """The closed vocabulary of wire error codes (values are the exact wire strings)."""

    INVALID_PARAMETER = "InvalidParameter"
    MISSING_PARAMETER = "MissingParameter"
    INVALID_ACTION = "InvalidAction"
    NO_SUCH_VERSION = "NoSuchVersion"
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
    INVALID_AUTHORIZATION = "AuthFailure.InvalidAuthorization"
    REPLAY_ATTACK = "InvalidRequest.ReplayAttack"
    INTERNAL_ERROR = "InternalError"
    REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"

    def __str__(self) -> str:
        return self.value


_E = ErrorCode

#: The codec's reasons (spec/README.md §1.7): all are ``InvalidParameter``.
WIRE_REASONS: Final = (
    "bad-percent-escape",
    "bad-utf8",
    "control-character",
    "bad-key",
    "bad-index",
    "index-out-of-range",
    "bad-index-start",
    "index-gap",
    "duplicate-key",
    "shape-conflict",
    "too-deep",
    "too-large",
    "bad-pair",
)

#: The request rules in reporting order (spec/README.md §2.3): reason -> code. Violations
#: are sorted by this order first, then by wire order, so the first one is what a server
#: answers. Any codec reason ranks before every rule.
RULES: Final = {
    "wrong-shape": _E.INVALID_PARAMETER,
    "wrong-type": _E.INVALID_PARAMETER,  # a value built in code (or JSON) of the wrong type
    "missing-parameter": _E.MISSING_PARAMETER,
    "unsupported-action": _E.INVALID_ACTION,
    "unknown-parameter": _E.UNKNOWN_PARAMETER,
    "unsupported-version": _E.INVALID_PARAMETER_VALUE,
    "not-an-integer": _E.INVALID_PARAMETER,
    "unsupported-signature-method": _E.INVALID_PARAMETER_VALUE,
    "coexist-imageids-filters": _E.COEXIST_IMAGE_IDS_FILTERS,
    "too-many-filters": _E.INVALID_FILTER,
    "missing-filter-name": _E.INVALID_FILTER,
    "unknown-filter-name": _E.INVALID_FILTER,
    "missing-filter-values": _E.INVALID_FILTER,
    "too-many-filter-values": _E.INVALID_FILTER,
    "empty-filter-value": _E.INVALID_FILTER,
    "invalid-filter-value": _E.INVALID_FILTER,
    "malformed-image-id": _E.MALFORMED_IMAGE_ID,
    "too-many-image-ids": _E.LIMIT_EXCEEDED,
    "invalid-offset": _E.INVALID_PARAMETER_VALUE,
    "invalid-limit": _E.INVALID_LIMIT,
}
RULE_RANK: Final = {reason: rank for rank, reason in enumerate(RULES, 1)}

#: The reasons of an API 3.0 JSON body (spec/README.md §2.10) that the codec's
#: reasons and the rules do not already give: a body that is not JSON text at all (a syntax
#: error, NaN or Infinity, a byte order mark). The body's other problems reuse the codec's
#: reasons (``too-large``, ``too-deep``, ``bad-utf8``, ``duplicate-key``...) and the rules'.
JSON_REASONS: Final = {
    "bad-json": _E.INVALID_PARAMETER,
}

#: The reasons only an API 3.0 call's headers give (spec/README.md §3.4): the server checks
#: ``X-TC-Version`` itself, as API 3.0's gateway does, with API 3.0's common error code.
API3_REASONS: Final = {
    "no-such-version": _E.NO_SUCH_VERSION,
}

#: The rank of every request reason: every codec reason (0) before every rule.
REQUEST_RANK: Final = {
    **dict.fromkeys(WIRE_REASONS, 0),
    **dict.fromkeys(JSON_REASONS, 0),
    **dict.fromkeys(API3_REASONS, 0),
    **RULE_RANK,
}

#: The signature checks' reasons (spec/README.md §4.3) that are not also rules or codec
#: reasons (``missing-parameter``, ``not-an-integer``, ``bad-utf8`` and ``duplicate-key``
#: are shared, with the same codes).
AUTH_REASONS: Final = {
    "missing-signature": _E.SIGNATURE_FAILURE,
    "bad-signature": _E.SIGNATURE_FAILURE,
    "unknown-secret-id": _E.SECRET_ID_NOT_FOUND,
    "timestamp-skew": _E.SIGNATURE_EXPIRE,
    "nonce-reused": _E.REPLAY_ATTACK,
    "nonce-store-full": _E.REQUEST_LIMIT_EXCEEDED,
    # TC3-HMAC-SHA256 (spec/README.md §4.7.4).
    "bad-authorization": _E.INVALID_AUTHORIZATION,
    "required-header-unsigned": _E.INVALID_AUTHORIZATION,
    "wrong-credential-date": _E.SIGNATURE_FAILURE,
    "wrong-credential-service": _E.SIGNATURE_FAILURE,
}

#: Reasons of documents a server or its operator supplies (a response, a catalog): the
#: fault is the server's, so the code is ``InternalError`` (spec/README.md §3.1, §3.3).
DOCUMENT_REASONS: Final = {
    "not-json": _E.INTERNAL_ERROR,
    "wrong-member-type": _E.INTERNAL_ERROR,
    "missing-member": _E.INTERNAL_ERROR,
    "bad-document": _E.INTERNAL_ERROR,
}

#: Every reason this library reports -> its code: one closed vocabulary.
REASONS: Final[dict[str, ErrorCode]] = {
    **dict.fromkeys(WIRE_REASONS, _E.INVALID_PARAMETER),
    **RULES,
    **JSON_REASONS,
    **API3_REASONS,
    **AUTH_REASONS,
    **DOCUMENT_REASONS,
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem: its error code (the exact wire string), reason, path and a message.

    Made by :func:`violation`, which takes the code from the reason.
    """

    code: str
    reason: str
    path: str
    message: str

    @property
    def key(self) -> str:
        """The wire key (or segment) the problem concerns; the same as :attr:`path`."""
        return self.path

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "reason": self.reason,
            "path": self.path,
            "message": self.message,
        }


def violation(reason: str, path: str, message: str) -> Violation:
    """The one constructor of a :class:`Violation`: its code comes from :data:`REASONS`.

    >>> violation("invalid-limit", "Limit", "Limit is '101'").code
    'InvalidParameterValue.InvalidParameterValueLimit'
    """
    return Violation(REASONS[reason].value, reason, path, message)


def envelope(code: str, message: str, request_id: str) -> dict[str, Any]:
    """The one builder of the Tencent error envelope (spec/README.md §3.1).

    >>> envelope("InternalError", "try again", "r-1")
    {'Response': {'Error': {'Code': 'InternalError', 'Message': 'try again'}, 'RequestId': 'r-1'}}
    """
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


def _more(count: int) -> str:
    return f" (and {count} more problem{'s' if count > 1 else ''})" if count else ""


class DescribeImagesError(Exception):
    """Root of every exception this library raises on purpose."""


class _Violations(DescribeImagesError):
    """An error carrying one or more :class:`Violation` (the first one decides ``code``)."""

    def __init__(self, violations: Iterable[Violation], summary: str | None = None) -> None:
        found = tuple(violations)
        if not found:
            raise AssertionError(f"{type(self).__name__} needs at least one violation")
        self.violations: tuple[Violation, ...] = found
        super().__init__(f"{found[0].code}: {self.message}" if summary is None else summary)

    @property
    def code(self) -> str:
        """The code of the first violation: what a server answers."""
        return self.violations[0].code

    @property
    def message(self) -> str:
        """The envelope's ``Message``: the first violation's message, with a count of the rest."""
        return self.violations[0].message + _more(len(self.violations) - 1)

    @property
    def path(self) -> str:
        """The path of the first violation."""
        return self.violations[0].path


class RequestError(_Violations):
    """A request (or part of one) is not acceptable; carries every violation found.

    The first violation decides the envelope's ``Code`` (spec/README.md §2.4).
    """

    def to_response(self, request_id: str) -> dict[str, Any]:
        """The Tencent error envelope for this error."""
        return envelope(self.code, self.message, request_id)


class WireError(RequestError):
    """The query string itself is malformed (a codec problem, code ``InvalidParameter``)."""


class AuthError(RequestError):
    """A signature, credential, timestamp or nonce check failed (spec/README.md Part 4)."""


class DocumentError(_Violations):
    """A response or a catalog is not the documented JSON shape; carries every problem
    (reasons ``not-json``, ``missing-member``, ``wrong-member-type``, ``bad-document``)."""


class ServiceError(DescribeImagesError):
    """A server answered with the Tencent error envelope.

    ``code`` is the raw wire string, like every ``code`` in this library (a server may
    send codes outside :class:`ErrorCode`).
    """

    def __init__(self, code: str, message: str, request_id: str) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        super().__init__(f"{code}: {message} (RequestId {request_id})")

    def to_response(self) -> dict[str, Any]:
        """The error envelope this error was read from (``RequestId`` spelled so)."""
        return envelope(self.code, self.message, self.request_id)


class UsageError(DescribeImagesError, ValueError):
    """A usage problem (bad arguments to a function or a command): one line of text."""
