"""The legacy v1 signature (HmacSHA1 / HmacSHA256): sign requests, verify them.

The algorithm and the error table are spec/README.md Part 4; the replay store is
:mod:`._nonces`; the vectors are spec/vectors/signing.json.

Strategy: every public function checks its arguments at the door, so that only the
library's errors escape. A problem in the request's parameters, or in the method, host
or path it is sent to, is a :class:`WireError` or :class:`RequestError` (an
:class:`AuthError` from :func:`verify`) whose violations name it; a misused argument (a
wrong type, a secret key that is not text, a NaN ``max_skew``) is a :class:`UsageError`.
What a caller's own ``secrets`` function or nonce store raises propagates unchanged.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

from ._encode import encode_request
from ._errors import (
    WIRE_REASONS,
    AuthError,
    RequestError,
    UsageError,
    Violation,
    WireError,
    violation,
)
from ._grammar import DEFAULT_LIMITS, is_utf8, kind, printable, quoted, too_large
from ._model import DescribeImagesRequest

# The replay store's names live in _nonces; they are re-exported from here too (the
# package's __init__ imports them from here).
from ._nonces import MemoryNonceStore as MemoryNonceStore
from ._nonces import NonceKey as NonceKey
from ._nonces import NonceStore as NonceStore
from ._nonces import NonceStoreFull as NonceStoreFull
from ._nonces import seconds
from ._pairs import check_pairs, format_query
from ._rules import validate
from ._spec import DIGITS_RE, HOST, PATH

__all__ = [
    "DEFAULT_MAX_SKEW",
    "Params",
    "Verifier",
    "make_verifier",
    "sign",
    "signed_query",
    "string_to_sign",
    "verify",
]

# FACTS "Replay rule": a Timestamp more than 5 minutes off is rejected.
DEFAULT_MAX_SKEW = 300
# spec/README.md §4.2: "a random positive integer"; kept within a signed 32-bit int so
# that no server can overflow parsing it.
MAX_NONCE = 2**31 - 1
# A Timestamp with more significant digits than this is centuries away from any clock; it
# is refused as skewed without calling int() (which is slow or raises on huge strings).
_MAX_TIMESTAMP_DIGITS = 18
_FAR = 10**_MAX_TIMESTAMP_DIGITS
# signed_query's timestamp and nonce: an int of more digits than a value may have
# (spec/README.md §1.6) is refused before str() is called, which raises past 4,300 digits.
_VALUE_CAP = DEFAULT_LIMITS.max_value_length
_TOO_MANY_DIGITS = 10**_VALUE_CAP
_SHA256 = "HmacSHA256"

Params: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Parameters as a mapping or as (name, value) pairs (the form :func:`parse_query` gives)."""

Verifier: TypeAlias = Callable[[str, str, str, list[tuple[str, str]]], None]
"""A server hook: ``(method, host, path, pairs) -> None``, raising :class:`AuthError`."""


# --- arguments -----------------------------------------------------------------------------


def _text(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    raise UsageError(f"{name} must be a str, not {kind(value)}")


def _target(method: object, host: object, path: object) -> tuple[str, str, str]:
    return _text("method", method), _text("host", host), _text("path", path)


def _optional_text(name: str, value: object) -> str | None:
    return None if value is None else _text(name, value)


def _secret_key(value: object, what: str, secret_id: str | None = None) -> str:
    """``value`` if it is UTF-8 text, else :class:`UsageError` naming ``what`` (and the
    SecretId it belongs to; the message is only built then). The key is never shown."""
    if isinstance(value, str) and is_utf8(value):
        return value
    if secret_id is not None:
        what = f"{what} {quoted(secret_id)}"
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a str, not {kind(value)}")
    raise UsageError(f"{what} is not valid UTF-8 text (it has a lone surrogate)")


def _max_skew(value: object) -> float:
    return seconds("max_skew", value, non_negative=True)


def _store(nonces: object) -> NonceStore | None:
    if nonces is None or (isinstance(nonces, NonceStore) and callable(nonces.add)):
        return nonces
    raise UsageError(
        f"nonces must be a NonceStore (with add(key, *, now, expires_at)), not {kind(nonces)}"
    )


# --- the parameters and the string to sign -------------------------------------------------


def _sign_name(name: str) -> str:
    # FACTS "Legacy v1 signature": "_" becomes "." in names, in the string to sign only.
    return name.replace("_", ".")


def _items(params: object) -> Iterable[object]:
    if isinstance(params, Mapping):
        return params.items()
    if isinstance(params, (str, bytes, bytearray, memoryview)) or not isinstance(
        params, Iterable
    ):
        raise WireError(
            [
                violation(
                    "bad-pair",
                    "",
                    f"params are a mapping or (str, str) pairs, not {kind(params)} "
                    "(parse a query with parse_query first)",
                )
            ]
        )
    return params


def _bad_utf8(name: str, value: str) -> Violation | None:
    if not is_utf8(name):
        return violation(
            "bad-utf8",
            printable(name, False),
            f"the name {quoted(name)} is not valid UTF-8 (a lone surrogate)",
        )
    if not is_utf8(value):
        return violation(
            "bad-utf8", name, f"the value of {quoted(name)} is not valid UTF-8 (a lone surrogate)"
        )
    return None


def _collect(params: object, where: list[Violation]) -> dict[str, str]:
    """The parameters by name, or :class:`WireError` with every problem of ``params``
    (spec/README.md §4.1 step 1), then ``where`` (those of the method, host and path).

    Each item gets at most one violation: ``bad-pair`` (path ``""``) when it is not a
    (str, str) tuple, ``bad-utf8`` when its name or value has a lone surrogate (the path
    is the name, ``\\uDNNN``-escaped when the name is the problem, as in §1.7), else
    ``duplicate-key`` when its name, or its name with ``_`` read as ``.``, came before.
    """
    found: dict[str, str] = {}
    by_sign_name: dict[str, str] = {}
    problems: list[Violation] = []
    for position, item in enumerate(_items(params)):
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            problems.append(
                violation(
                    "bad-pair",
                    "",
                    f"the parameter at position {position} is {kind(item)}, "
                    "not a (str, str) pair",
                )
            )
            continue
        name, value = item
        if not (name.isascii() and value.isascii()):  # ASCII is UTF-8: the common case
            bad = _bad_utf8(name, value)
            if bad is not None:
                problems.append(bad)
                continue
        first = by_sign_name.setdefault(_sign_name(name), name)
        if first != name:
            problems.append(
                violation(
                    "duplicate-key",
                    name,
                    f"{quoted(name)} and {quoted(first)} are the same name in the string "
                    "to sign ('_' is signed as '.')",
                )
            )
        elif name in found:
            problems.append(
                violation("duplicate-key", name, f"{quoted(name)} is sent more than once")
            )
        else:
            found[name] = value
    problems += where
    if problems:
        raise WireError(problems)
    return found


def _where(method: str, host: str, path: str) -> list[Violation]:
    """A ``bad-utf8`` violation (path ``""``) for each of method, host, path that is not
    valid UTF-8 (spec/README.md §4.3)."""
    return [
        violation(
            "bad-utf8", "", f"the {what} {quoted(text)} is not valid UTF-8 (a lone surrogate)"
        )
        for what, text in (("method", method), ("host", host), ("path", path))
        if not is_utf8(text)
    ]


def _string_to_sign(method: str, host: str, path: str, found: Mapping[str, str]) -> str:
    # Sorted by the names as sent (code point order, as str comparison is), and only then
    # is "_" replaced: the official SDK sorts first (spec/README.md §4.1, step 2).
    body = "&".join(
        [f"{_sign_name(name)}={found[name]}" for name in sorted(found) if name != "Signature"]
    )
    return f"{method.upper()}{host}{path}?{body}"


def string_to_sign(method: str, host: str, path: str, params: Params) -> str:
    """The legacy v1 string to sign: METHOD + host + path + ``?`` + sorted raw ``k=v``.

    ``Signature`` is left out; ``_`` in names becomes ``.``; values are not encoded.
    A name given twice, an item that is not a (str, str) pair, or a lone surrogate raises
    :class:`WireError` (spec/README.md §4.1); a method, host or path that is not a str,
    :class:`UsageError`.

    >>> string_to_sign("get", "cvm.api.qcloud.com", "/v2/index.php",
    ...                {"Nonce": "345122", "Action": "DescribeInstances", "limit_x": "a b"})
    'GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=345122&limit.x=a b'
    """
    method, host, path = _target(method, host, path)
    return _string_to_sign(method, host, path, _collect(params, _where(method, host, path)))


# --- signing -------------------------------------------------------------------------------


def _digest(secret_key: str, text: str, signature_method: str | None) -> str:
    # FACTS: HMAC-SHA256 when SignatureMethod is exactly "HmacSHA256", HMAC-SHA1 otherwise.
    algorithm = hashlib.sha256 if signature_method == _SHA256 else hashlib.sha1
    # UTF-8 (str.encode's default) for the key and the text; Base64 is ASCII.
    mac = hmac.new(secret_key.encode(), text.encode(), algorithm)
    return base64.b64encode(mac.digest()).decode()


def _signature_method(found: Mapping[str, str], argument: str | None) -> str | None:
    """The SignatureMethod the params carry, once ``argument`` is known to agree with it.

    The params decide the algorithm, as they do for :func:`verify`; an explicit argument
    may only say the same (spec/README.md §4.1, "sign").
    """
    sent = found.get("SignatureMethod")
    if argument is None or (argument == _SHA256) == (sent == _SHA256):
        return sent
    if sent is None:
        raise UsageError(
            "signature_method is 'HmacSHA256' but the params carry no SignatureMethod, so "
            "the request is signed and verified with HMAC-SHA1 (spec/README.md §4.1, step 6): "
            "add SignatureMethod=HmacSHA256 to the params"
        )
    raise UsageError(
        f"signature_method {quoted(argument)} contradicts SignatureMethod {quoted(sent)} in "
        "the params, which decides the algorithm (spec/README.md §4.1, step 6): leave "
        "signature_method out"
    )


def sign(
    method: str,
    host: str,
    path: str,
    params: Params,
    secret_key: str,
    signature_method: str | None = None,
) -> str:
    """The Base64 signature of ``params``: HMAC-SHA256 when their ``SignatureMethod`` is
    exactly ``"HmacSHA256"``, HMAC-SHA1 otherwise (absent included), as :func:`verify`
    reads it.

    ``signature_method``, when given, must select the same algorithm (else
    :class:`UsageError`): ``"HmacSHA256"`` needs ``SignatureMethod=HmacSHA256`` in the
    params. Problems in the params raise :class:`WireError`, as :func:`string_to_sign`.

    >>> sign("GET", "cvm.api.qcloud.com", "/v2/index.php",
    ...      {"Action": "DescribeInstances", "Nonce": "345122", "Region": "gz",
    ...       "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "Timestamp": "1408704141"},
    ...      "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA")
    'HgIYOPcx5lN6gz8JsCFBNAWp2oQ='
    """
    method, host, path = _target(method, host, path)
    secret_key = _secret_key(secret_key, "secret_key")
    argument = _optional_text("signature_method", signature_method)
    found = _collect(params, _where(method, host, path))
    chosen = _signature_method(found, argument)
    return _digest(secret_key, _string_to_sign(method, host, path, found), chosen)


def _decimal(path: str, name: str, value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise UsageError(f"{name} must be an int or None, not {kind(value)}")
    if not -_TOO_MANY_DIGITS < value < _TOO_MANY_DIGITS:
        what = f"the {name} has more than {_VALUE_CAP} digits"
        raise WireError([too_large(path, what, _VALUE_CAP, "max_value_length")])
    return str(int(value))


def signed_query(
    request: DescribeImagesRequest,
    *,
    secret_id: str,
    secret_key: str,
    region: str | None = None,
    method: str = "GET",
    host: str = HOST,
    path: str = PATH,
    signature_method: str = "HmacSHA256",
    timestamp: int | None = None,
    nonce: int | None = None,
    token: str | None = None,
) -> str:
    """The complete, percent-encoded, signed query (or POST form body) for ``request``.

    Timestamp, Nonce, SecretId and SignatureMethod always come from the arguments (the
    current time and a random nonce from :mod:`secrets` unless given); Region and Token
    come from the arguments when given, else from the request. The request is validated
    first: an invalid one raises :class:`RequestError` with every violation; a query that
    :func:`parse_query` would refuse raises :class:`WireError` (spec/README.md §4.2).

    >>> signed_query(DescribeImagesRequest(image_ids=("img-pmqg1cw7",)), secret_id="AKIDx",
    ...              secret_key="key", timestamp=1700000000, nonce=7)  # doctest: +ELLIPSIS
    'Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7&Timestamp=1700000000&...'
    """
    if not isinstance(request, DescribeImagesRequest):
        raise UsageError(f"request must be a DescribeImagesRequest, not {kind(request)}")
    method, host, path = _target(method, host, path)
    secret_key = _secret_key(secret_key, "secret_key")
    if not _text("secret_id", secret_id):
        raise UsageError("secret_id must not be empty: verification requires a SecretId")
    common = request.common
    request = dataclasses.replace(
        request,
        common=dataclasses.replace(
            common,
            region=common.region if region is None else _text("region", region),
            timestamp=_decimal(
                "Timestamp", "timestamp", int(time.time()) if timestamp is None else timestamp
            ),
            nonce=_decimal(
                "Nonce", "nonce", _secrets.randbelow(MAX_NONCE) + 1 if nonce is None else nonce
            ),
            secret_id=secret_id,
            signature_method=_text("signature_method", signature_method),
            token=common.token if token is None else _text("token", token),
            signature=None,
        ),
    )
    problems = validate(request)
    if problems:
        # A value the wire cannot carry is a WireError, as parse_query would raise it.
        wire = all(v.reason in WIRE_REASONS for v in problems)
        raise (WireError if wire else RequestError)(problems)
    pairs = encode_request(request)
    found = _collect(pairs, _where(method, host, path))
    signature = _digest(
        secret_key, _string_to_sign(method, host, path, found), found["SignatureMethod"]
    )
    pairs.append(("Signature", signature))
    # What the server's parse_query would refuse is refused here (spec/README.md §4.2).
    errors: list[Violation] = []
    check_pairs(pairs, DEFAULT_LIMITS, errors)
    if errors:
        raise WireError(errors)
    query = format_query(pairs)  # ASCII: its length is its size in bytes
    cap = DEFAULT_LIMITS.max_query_bytes
    if len(query) > cap:
        raise WireError(
            [too_large("", f"the signed query is {len(query)} bytes", cap, "max_query_bytes")]
        )
    return query


# --- verification --------------------------------------------------------------------------

_REQUIRED = ("Timestamp", "Nonce", "SecretId")


def _presence(found: Mapping[str, str]) -> list[Violation]:
    problems = [
        violation(
            "missing-parameter",
            name,
            f"{name} is required on a signed request",
        )
        for name in _REQUIRED
        if not found.get(name)
    ]
    if not found.get("Signature"):
        problems.append(
            violation(
                "missing-signature",
                "Signature",
                "the request is not signed: Signature is missing or empty",
            )
        )
    return problems


def _timestamp(text: str) -> int | None:
    """The Timestamp as an int: ASCII digits, leading zeros allowed; None otherwise.

    More than ``_MAX_TIMESTAMP_DIGITS`` significant digits read as ``_FAR`` (skewed under
    any finite max_skew) without calling int() on them (FACTS: never a bare int()).
    """
    if not DIGITS_RE.match(text):
        return None
    digits = text.lstrip("0") or "0"
    return _FAR if len(digits) > _MAX_TIMESTAMP_DIGITS else int(digits)


def check_skew(
    name: str, path: str, text: str, timestamp: int, clock: float | None, skew: float
) -> float:
    """The server's time (``clock``, or now); :class:`AuthError` (``timestamp-skew`` at
    ``path``) when ``timestamp`` is more than ``skew`` seconds from it. Shared by the v1
    and TC3 verifiers (spec/README.md §4.3, §4.7.4)."""
    now = time.time() if clock is None else clock
    if abs(now - timestamp) > skew:
        raise AuthError(
            [
                violation(
                    "timestamp-skew",
                    path,
                    f"{name} {text[:40]} is more than {skew:g} s from the server's time "
                    f"{int(now)}",
                )
            ]
        )
    return now


def verify(
    method: str,
    host: str,
    path: str,
    params: Params,
    *,
    secrets: Callable[[str], str | None],
    now: float | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
    nonces: NonceStore | None = None,
) -> None:
    """Check a signed request; return None, or raise :class:`AuthError` saying why not.

    ``secrets`` maps a SecretId to its SecretKey (None when unknown); ``now`` defaults to
    :func:`time.time`; ``nonces`` enables the replay check (None: no replay check). The
    checks run in the order of spec/README.md §4.3, and only a request whose signature
    is right is looked at further (its Timestamp read, its nonce recorded). A misused
    argument raises :class:`UsageError`.

    >>> verify("GET", "cvm.api.qcloud.com", "/v2/index.php",
    ...        [("Action", "DescribeInstances"), ("Nonce", "345122"), ("Region", "gz"),
    ...         ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
    ...         ("Timestamp", "1408704141"), ("Signature", "HgIYOPcx5lN6gz8JsCFBNAWp2oQ=")],
    ...        secrets={"AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA":
    ...                 "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"}.get, now=1408704141)
    """
    method, host, path = _target(method, host, path)
    if not callable(secrets):
        raise UsageError(
            f"secrets must be a function SecretId -> SecretKey, not {kind(secrets)}"
        )
    clock = None if now is None else seconds("now", now, finite=True)
    skew = _max_skew(max_skew)
    store = _store(nonces)
    try:
        found = _collect(params, [])
    except WireError as exc:
        raise AuthError(exc.violations) from None
    problems = _presence(found)
    if problems:
        raise AuthError(problems)
    secret_id = found["SecretId"]
    secret_key = secrets(secret_id)
    if secret_key is None:
        raise AuthError(
            [
                violation(
                    "unknown-secret-id",
                    "SecretId",
                    f"SecretId {found['SecretId'][:64]!r} is not known",
                )
            ]
        )
    secret_key = _secret_key(secret_key, "the SecretKey secrets returned for", secret_id)
    where = _where(method, host, path)
    if where:
        raise AuthError(where)
    expected = _digest(
        secret_key, _string_to_sign(method, host, path, found), found.get("SignatureMethod")
    ).encode()
    # Constant time: compare_digest on bytes (a str with non-ASCII would raise, and ==
    # leaks the length of the common prefix through timing). _collect checked the UTF-8.
    given = found["Signature"].encode()
    if not hmac.compare_digest(expected, given):
        raise AuthError(
            [
                violation(
                    "bad-signature",
                    "Signature",
                    "the signature does not match the request (check the SecretKey, the "
                    "method, host and path, and that values are signed before encoding)",
                )
            ]
        )
    timestamp = _timestamp(found["Timestamp"])
    if timestamp is None:
        raise AuthError(
            [
                violation(
                    "not-an-integer",
                    "Timestamp",
                    f"Timestamp is {found['Timestamp'][:40]!r}; "
                    "it must be an unsigned decimal integer (Unix seconds)",
                )
            ]
        )
    clock = check_skew("Timestamp", "Timestamp", found["Timestamp"], timestamp, clock, skew)
    if store is None:
        return
    added = store.add(
        NonceKey(secret_id, found["Nonce"], timestamp), now=clock, expires_at=timestamp + skew
    )
    if added is False:
        raise AuthError(
            [
                violation(
                    "nonce-reused",
                    "Nonce",
                    f"Nonce {found['Nonce'][:40]} was already used with this SecretId "
                    "and Timestamp",
                )
            ]
        )
    if added is not True:
        raise UsageError(f"the nonce store's add() must return a bool, not {kind(added)}")


def credential_table(credentials: object) -> dict[str, str]:
    """A copy of ``credentials`` (SecretId -> SecretKey) for a verifier, each key checked
    as :func:`verify` needs it; misuse is a :class:`UsageError`. Used by the v1 and TC3
    verifier factories alike."""
    if not isinstance(credentials, Mapping):
        raise UsageError(
            f"credentials must be a mapping of SecretId to SecretKey, not {kind(credentials)}"
        )
    table: dict[str, str] = {}
    for secret_id, secret_key in credentials.items():
        if not isinstance(secret_id, str):
            raise UsageError(
                f"credentials map a SecretId (str) to its SecretKey, not {kind(secret_id)}"
            )
        table[secret_id] = _secret_key(secret_key, "the SecretKey of", secret_id)
    return table


def make_verifier(
    credentials: Mapping[str, str],
    *,
    max_skew: float = DEFAULT_MAX_SKEW,
    nonces: NonceStore | None = None,
) -> Verifier:
    """A server hook ``(method, host, path, pairs) -> None`` that calls :func:`verify`.

    ``credentials`` maps SecretId to SecretKey (str to str, else :class:`UsageError`) and
    is copied. ``nonces=None`` gives the hook its own :class:`MemoryNonceStore`, so a
    server verifies replays by default.

    >>> hook = make_verifier({"AKIDx": "key"})
    >>> try:
    ...     hook("GET", "image.api.qcloud.com", "/v2/index.php", [("SecretId", "AKIDx")])
    ... except AuthError as exc:
    ...     print([v.reason for v in exc.violations])
    ['missing-parameter', 'missing-parameter', 'missing-signature']
    """
    table = credential_table(credentials)
    skew = _max_skew(max_skew)
    store = MemoryNonceStore() if nonces is None else _store(nonces)

    def verifier(method: str, host: str, path: str, pairs: list[tuple[str, str]]) -> None:
        verify(method, host, path, pairs, secrets=table.get, max_skew=skew, nonces=store)

    return verifier
