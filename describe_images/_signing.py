"""The legacy v1 signature (HmacSHA1 / HmacSHA256): sign requests, verify them.

The algorithm, the error table and the nonce store semantics are spec/README.md Part 4
(merged into spec/README.md Part 4); the vectors are spec/vectors/signing.json.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import heapq
import hmac
import math
import secrets as _secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeAlias

from ._encode import encode_request
from ._errors import AuthError, RequestError, Violation, WireError, violation
from ._grammar import is_utf8
from ._model import DescribeImagesRequest
from ._pairs import format_query
from ._rules import validate
from ._spec import DIGITS_RE, HOST, PATH

__all__ = [
    "DEFAULT_MAX_SKEW",
    "MemoryNonceStore",
    "NonceKey",
    "NonceStore",
    "NonceStoreFull",
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

Params: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Parameters as a mapping or as (name, value) pairs (the form :func:`parse_query` gives)."""

NonceKey: TypeAlias = tuple[str, str, int]
"""What a nonce store remembers: (SecretId, Nonce, Timestamp as an integer)."""

Verifier: TypeAlias = Callable[[str, str, str, list[tuple[str, str]]], None]
"""A server hook: ``(method, host, path, pairs) -> None``, raising :class:`AuthError`."""


# --- the string to sign and the signature ------------------------------------------------


def _sign_name(name: str) -> str:
    # FACTS "Legacy v1 signature": "_" becomes "." in names, in the string to sign only.
    return name.replace("_", ".")


def _collect(params: Params) -> dict[str, str]:
    """The parameters by name; a name sent twice raises :class:`WireError` (duplicate-key).

    Two names that differ only by ``_`` and ``.`` (``a_b`` and ``a.b``) are the same name
    in the string to sign, so they count as a duplicate too.
    """
    items: Iterable[object] = params.items() if isinstance(params, Mapping) else params
    found: dict[str, str] = {}
    by_sign_name: dict[str, str] = {}
    problems: list[Violation] = []
    for item in items:
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            raise TypeError(f"a parameter is a (str, str) pair, not {item!r:.60}")
        name, value = item
        if not (name.isascii() and value.isascii()) and not is_utf8(name + value):
            problems.append(
                violation(
                    "bad-utf8", name, f"{name[:40]!r} is not valid UTF-8 (lone surrogate)"
                )
            )
            continue
        first = by_sign_name.setdefault(_sign_name(name), name)
        if first == name and name not in found:
            found[name] = value
        elif first == name:
            problems.append(
                violation("duplicate-key", name, f"{name!r} is sent more than once")
            )
        else:
            problems.append(
                violation(
                    "duplicate-key",
                    name,
                    f"{name!r} and {first!r} are the same name in the string to sign "
                    "('_' is signed as '.')",
                )
            )
    if problems:
        raise WireError(problems)
    return found


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
    A name given twice raises :class:`WireError` (reason ``duplicate-key``).

    >>> string_to_sign("get", "cvm.api.qcloud.com", "/v2/index.php",
    ...                {"Nonce": "345122", "Action": "DescribeInstances", "limit_x": "a b"})
    'GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=345122&limit.x=a b'
    """
    return _string_to_sign(method, host, path, _collect(params))


def _digest(secret_key: str, text: str, signature_method: str | None) -> str:
    # FACTS: HMAC-SHA256 when SignatureMethod is exactly "HmacSHA256", HMAC-SHA1 otherwise.
    algorithm = hashlib.sha256 if signature_method == "HmacSHA256" else hashlib.sha1
    try:  # the parameters were checked by _collect; the method, host or path may not be
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WireError(
            [violation("bad-utf8", "", "the method, host or path is not valid UTF-8")]
        ) from exc
    mac = hmac.new(secret_key.encode("utf-8"), data, algorithm)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign(
    method: str,
    host: str,
    path: str,
    params: Params,
    secret_key: str,
    signature_method: str = "HmacSHA1",
) -> str:
    """The Base64 signature of ``params``: HMAC-SHA256 when ``signature_method`` is exactly
    ``"HmacSHA256"``, HMAC-SHA1 for anything else.

    ``signature_method`` is not read from ``params``: pass the value you send as
    ``SignatureMethod`` (:func:`signed_query` and :func:`verify` do).

    >>> sign("GET", "cvm.api.qcloud.com", "/v2/index.php",
    ...      {"Action": "DescribeInstances", "Nonce": "345122", "Region": "gz",
    ...       "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "Timestamp": "1408704141"},
    ...      "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA")
    'HgIYOPcx5lN6gz8JsCFBNAWp2oQ='
    """
    return _digest(secret_key, string_to_sign(method, host, path, params), signature_method)


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
    first: an invalid one raises :class:`RequestError` with every violation.

    >>> signed_query(DescribeImagesRequest(image_ids=("img-pmqg1cw7",)), secret_id="AKIDx",
    ...              secret_key="key", timestamp=1700000000, nonce=7)  # doctest: +ELLIPSIS
    'Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7&Timestamp=1700000000&...'
    """
    common = request.common
    request = dataclasses.replace(
        request,
        common=dataclasses.replace(
            common,
            region=common.region if region is None else region,
            timestamp=str(int(time.time()) if timestamp is None else timestamp),
            nonce=str(_secrets.randbelow(MAX_NONCE) + 1 if nonce is None else nonce),
            secret_id=secret_id,
            signature_method=signature_method,
            token=common.token if token is None else token,
            signature=None,
        ),
    )
    problems = validate(request)
    if problems:
        raise RequestError(problems)
    pairs = encode_request(request)
    found = _collect(pairs)
    signature = _digest(secret_key, _string_to_sign(method, host, path, found), signature_method)
    pairs.append(("Signature", signature))
    return format_query(pairs)


# --- the nonce store ---------------------------------------------------------------------


class NonceStoreFull(AuthError):
    """The nonce store is at its cap: the request is refused, never let through unchecked.

    Its violation has code ``RequestLimitExceeded`` and reason ``nonce-store-full``.
    """

    def __init__(self, max_entries: int) -> None:
        super().__init__(
            [
                violation(
                    "nonce-store-full",
                    "Nonce",
                    f"the replay cache holds {max_entries} live nonces, its maximum; "
                    "try again shortly",
                )
            ]
        )


class NonceStore(Protocol):
    """Remembers which (SecretId, Nonce, Timestamp) were seen, until they expire.

    Implement it over Redis (``SET key 1 NX EXAT expires_at``) or a database to share
    replay protection between processes.
    """

    def add(self, key: NonceKey, *, now: float, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (inclusive); False if it is already recorded
        and ``now <= expires_at`` of that record.

        Must be atomic: of concurrent adds of one key, exactly one returns True. May raise
        :class:`NonceStoreFull` (or any :class:`AuthError`) to refuse the request.
        """
        ...


class MemoryNonceStore:
    """A bounded, thread-safe, in-process :class:`NonceStore`.

    An entry lives until its ``expires_at`` (the request's Timestamp + max_skew: after that
    the timestamp check refuses the request anyway). At most ``max_entries`` live entries
    are kept: when the store is full after dropping expired entries, :meth:`add` raises
    :class:`NonceStoreFull` (fail closed: a replay check that silently forgets is no check).
    Size it to at least the peak request rate times ``2 * max_skew``.

    >>> store = MemoryNonceStore(max_entries=2)
    >>> store.add(("AKID", "1", 1700000000), now=1700000000, expires_at=1700000300)
    True
    >>> store.add(("AKID", "1", 1700000000), now=1700000001, expires_at=1700000300)
    False
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if type(max_entries) is not int or max_entries < 1:
            raise ValueError(f"max_entries must be a positive int, not {max_entries!r}")
        self._max_entries = max_entries
        self._expiry: dict[NonceKey, float] = {}
        # (expires_at, key), soonest first: what to drop, without scanning the dict.
        self._heap: list[tuple[float, NonceKey]] = []
        self._lock = threading.Lock()

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def add(self, key: NonceKey, *, now: float, expires_at: float) -> bool:
        with self._lock:
            self._drop_expired(now)
            if key in self._expiry:
                return False
            if len(self._expiry) >= self._max_entries:
                raise NonceStoreFull(self._max_entries)
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return True

    def _drop_expired(self, now: float) -> None:
        heap, expiry = self._heap, self._expiry
        # The heap and the dict hold the same entries: a key is only ever added when it is
        # absent, and only ever removed here.
        while heap and heap[0][0] < now:
            del expiry[heapq.heappop(heap)[1]]


# --- verification ------------------------------------------------------------------------

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
    is right is looked at further (its Timestamp read, its nonce recorded).

    >>> verify("GET", "cvm.api.qcloud.com", "/v2/index.php",
    ...        [("Action", "DescribeInstances"), ("Nonce", "345122"), ("Region", "gz"),
    ...         ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
    ...         ("Timestamp", "1408704141"), ("Signature", "HgIYOPcx5lN6gz8JsCFBNAWp2oQ=")],
    ...        secrets={"AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA":
    ...                 "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"}.get, now=1408704141)
    """
    if not max_skew >= 0:  # also refuses NaN
        raise ValueError(f"max_skew must be >= 0, not {max_skew!r}")
    if now is not None and not math.isfinite(now):
        raise ValueError(f"now must be a finite Unix time, not {now!r}")
    try:
        found = _collect(params)
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
                    f"SecretId {secret_id[:64]!r} is not known",
                )
            ]
        )
    try:
        expected = _digest(
            secret_key,
            _string_to_sign(method, host, path, found),
            found.get("SignatureMethod"),
        ).encode("ascii")
    except WireError as exc:
        raise AuthError(exc.violations) from None
    # Constant time: compare_digest on bytes (a str with non-ASCII would raise, and ==
    # leaks the length of the common prefix through timing). _collect checked the UTF-8.
    given = found["Signature"].encode("utf-8")
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
    if now is None:
        now = time.time()
    if abs(now - timestamp) > max_skew:
        raise AuthError(
            [
                violation(
                    "timestamp-skew",
                    "Timestamp",
                    f"Timestamp {found['Timestamp'][:40]} is more than {max_skew:g} s "
                    f"from the server's time {int(now)}",
                )
            ]
        )
    if nonces is not None and not nonces.add(
        (secret_id, found["Nonce"], timestamp), now=now, expires_at=timestamp + max_skew
    ):
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


def make_verifier(
    credentials: Mapping[str, str],
    *,
    max_skew: float = DEFAULT_MAX_SKEW,
    nonces: NonceStore | None = None,
) -> Verifier:
    """A server hook ``(method, host, path, pairs) -> None`` that calls :func:`verify`.

    ``credentials`` maps SecretId to SecretKey and is copied. ``nonces=None`` gives the hook
    its own :class:`MemoryNonceStore`, so a server verifies replays by default.

    >>> hook = make_verifier({"AKIDx": "key"})
    >>> try:
    ...     hook("GET", "image.api.qcloud.com", "/v2/index.php", [("SecretId", "AKIDx")])
    ... except AuthError as exc:
    ...     print([v.reason for v in exc.violations])
    ['missing-parameter', 'missing-parameter', 'missing-signature']
    """
    table = dict(credentials)
    for secret_id, secret_key in table.items():
        if not isinstance(secret_id, str) or not isinstance(secret_key, str):
            raise TypeError("credentials map a SecretId (str) to its SecretKey (str)")
    if not max_skew >= 0:  # also refuses NaN
        raise ValueError(f"max_skew must be >= 0, not {max_skew!r}")
    store: NonceStore = MemoryNonceStore() if nonces is None else nonces

    def verifier(method: str, host: str, path: str, pairs: list[tuple[str, str]]) -> None:
        verify(method, host, path, pairs, secrets=table.get, max_skew=max_skew, nonces=store)

    return verifier
