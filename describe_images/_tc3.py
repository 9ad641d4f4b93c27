"""TC3-HMAC-SHA256, the API 3.0 signature: sign calls, verify them.

The algorithm and the error table are spec/README.md §4.7; the vectors are
spec/vectors/tc3.json. The v1 signature beside it is :mod:`._signing`, and this module
follows its error design: a misused argument (a wrong type, a key that is not text) is a
:class:`UsageError`; a problem in what is signed or verified (a header, the
``Authorization`` value, the timestamp) is a :class:`RequestError` (an :class:`AuthError`
from :func:`tc3_verify`) whose violations name it. The lowest-level functions take text and
bytes (method, host, path, query, headers, payload), so that any call can be signed and
checked; :func:`tc3_sign` builds a whole DescribeImages call on top of them.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import itertools
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeAlias

from ._encode import encode_query
from ._errors import (
    WIRE_REASONS,
    AuthError,
    RequestError,
    UsageError,
    Violation,
    WireError,
    violation,
)
from ._grammar import DEFAULT_LIMITS, has_control, is_utf8, kind, quoted, too_large
from ._json import encode_json
from ._model import CommonParams, DescribeImagesRequest, value_problems
from ._nonces import seconds
from ._rules import validate
from ._signing import (
    DEFAULT_MAX_SKEW,
    _max_skew,
    _secret_key,
    _text,
    _timestamp,
    check_skew,
    credential_table,
)
from ._spec import (
    API3_HOST,
    API3_PATH,
    SERVICE,
    TC3_ALGORITHM,
    TC3_CONTENT_TYPES,
    TC3_REQUIRED_SIGNED_HEADERS,
    TC3_TERMINATOR,
    UNSIGNED_PAYLOAD,
    VERSION,
)

__all__ = [
    "Tc3Call",
    "Tc3Verifier",
    "make_tc3_verifier",
    "tc3_authorization",
    "tc3_canonical_request",
    "tc3_sign",
    "tc3_signing_key",
    "tc3_string_to_sign",
    "tc3_verify",
]

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""HTTP headers as a mapping or as (name, value) pairs; names are case-insensitive."""

Tc3Verifier: TypeAlias = Callable[[str, str, str, str, Headers, bytes], str]
"""A server hook ``(method, host, path, query, headers, body) -> SecretId``."""

# spec/README.md §4.7.5: caps, checked before the work they bound. A header is read only
# when it is one of those the checks need; no such header is anywhere near 8 KiB (an STS
# token is about 1 KiB), and common servers refuse larger ones.
MAX_HEADERS = 256
MAX_HEADER_LENGTH = 8_192
# The credential scope's date is YYYY-MM-DD: no timestamp after 9999-12-31T23:59:59Z has one.
MAX_TIMESTAMP = 253_402_300_799
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_DAY = 86_400
_DEFAULT_SIGNED = TC3_REQUIRED_SIGNED_HEADERS

# --- The Authorization grammar (spec/README.md §4.7.3) --------------------------------------
# authorization  = algorithm SP param *( "," *SP param )   ; each param exactly once
# param          = ("Credential" / "SignedHeaders" / "Signature") "=" value
# credential     = secret-id "/" date "/" service "/" "tc3_request"
# signed-headers = header-name *( ";" header-name )         ; lower case, strictly ascending
# signature      = 64 lower-case hex digits
_PRINTABLE_RE = re.compile(r"[\x20-\x7e]*\Z")
_SECRET_ID_RE = re.compile(r"[\x21-\x2b\x2d-\x2e\x30-\x7e]+\Z")  # visible, no "," or "/"
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_SERVICE_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_HEADER_NAME_RE = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+\Z")  # an RFC 9110 token, lower case
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}\Z")
_PARAMS = ("Credential", "SignedHeaders", "Signature")
_OWS = " \t"
_NO_TIMESTAMP = "X-TC-Timestamp is required on a TC3-signed call"
_BAD_PAYLOAD = "the payload is not valid UTF-8 (a lone surrogate)"


# --- arguments -----------------------------------------------------------------------------


def _payload(value: object, name: str = "payload") -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise UsageError(f"{name} must be bytes, not {kind(value)}")


def _instant(name: str, value: object) -> int:
    if type(value) is not int:
        raise UsageError(f"{name} must be an int (Unix seconds), not {kind(value)}")
    if not 0 <= value <= MAX_TIMESTAMP:
        raise UsageError(
            f"{name} must be from 0 to {MAX_TIMESTAMP} (9999-12-31T23:59:59Z): the credential "
            "scope needs its YYYY-MM-DD date"
        )
    return value


def _utc_date(timestamp: int) -> str:
    """The UTC date of ``timestamp`` (0 … MAX_TIMESTAMP) as ``YYYY-MM-DD``."""
    day = datetime.date.fromordinal(_EPOCH_ORDINAL + timestamp // _DAY)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _signed_names(value: object) -> tuple[str, ...]:
    """``signed_headers`` lower-cased and sorted, or :class:`UsageError`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise UsageError(f"signed_headers must be header names (str), not {kind(value)}")
    names: list[str] = []
    for name in value:
        if not (isinstance(name, str) and _HEADER_NAME_RE.match(name.lower())):
            shown = quoted(name) if isinstance(name, str) else kind(name)
            raise UsageError(f"signed_headers holds {shown}, which is not a header name")
        names.append(name.lower())
    ordered = tuple(sorted(set(names)))
    if len(ordered) != len(names):
        raise UsageError("signed_headers names a header twice")
    for needed in TC3_REQUIRED_SIGNED_HEADERS:
        if needed not in ordered:
            raise UsageError(
                f"signed_headers must include {needed!r}: a server refuses a signature "
                "that does not cover content-type and host (spec/README.md §4.7.4)"
            )
    return ordered


# --- headers -------------------------------------------------------------------------------


def _table(headers: object) -> tuple[dict[str, list[str]], list[Violation]]:
    """Header values by lower-case name, in order; or :class:`UsageError` when ``headers``
    is not a mapping or pairs of text. More than MAX_HEADERS is ``too-large`` (path ``""``),
    counted before any more is read."""
    if isinstance(headers, Mapping):
        items: Iterable[object] = headers.items()
    elif isinstance(headers, (str, bytes, bytearray, memoryview)) or not isinstance(
        headers, Iterable
    ):
        raise UsageError(
            f"headers must be a mapping or (name, value) pairs of str, not {kind(headers)}"
        )
    else:
        items = headers
    table: dict[str, list[str]] = {}
    for count, item in enumerate(items, 1):
        if count > MAX_HEADERS:
            what = f"the request has more than {MAX_HEADERS} headers"
            return {}, [too_large("", what, MAX_HEADERS, "MAX_HEADERS")]
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            raise UsageError(f"headers must be (str, str) pairs, not {kind(item)}")
        table.setdefault(item[0].lower(), []).append(item[1])
    return table, []


def _read(table: Mapping[str, list[str]], name: str, out: list[Violation]) -> str | None:
    """The header ``name`` (lower case) with spaces and tabs trimmed, or None when absent;
    a violation in ``out`` (and None) when it is sent twice, too long, or not UTF-8 text
    free of controls (spec/README.md §4.7.5)."""
    values = table.get(name)
    if values is None:
        return None
    if len(values) > 1:
        message = f"the header {name!r} is sent more than once"
        out.append(violation("duplicate-key", name, message))
        return None
    value = values[0]
    if len(value) > MAX_HEADER_LENGTH:
        what = f"the header {name!r} is {len(value)} characters long"
        out.append(too_large(name, what, MAX_HEADER_LENGTH, "MAX_HEADER_LENGTH"))
        return None
    if not is_utf8(value):
        out.append(violation("bad-utf8", name, f"the header {name!r} is not valid UTF-8"))
        return None
    value = value.strip(_OWS)
    if has_control(value):
        out.append(
            violation(
                "control-character",
                name,
                f"the header {name!r} contains a control character (U+0000-U+001F or U+007F)",
            )
        )
        return None
    return value


def _signed_values(
    table: Mapping[str, list[str]], host: str, names: Iterable[str], out: list[Violation]
) -> list[tuple[str, str]]:
    """(name, value) of each signed header; ``host`` is the argument, never a header."""
    found: list[tuple[str, str]] = []
    for name in names:
        problems = len(out)
        # The host is the argument's, checked as a header is.
        value = _read({"host": [host]} if name == "host" else table, name, out)
        if value is not None:
            found.append((name, value))
        elif len(out) == problems:
            out.append(
                violation("missing-parameter", name, f"the signed header {name!r} is not sent")
            )
    return found


def _where(method: str, path: str, query: str) -> list[Violation]:
    """A violation (path ``""``) for each of method, path, query that is not UTF-8 text, or
    holds a control character (a line break would make the canonical request ambiguous)."""
    problems: list[Violation] = []
    for what, text in (("method", method), ("path", path), ("query", query)):
        if not is_utf8(text):
            message = f"the {what} {quoted(text)} is not valid UTF-8 (a lone surrogate)"
            problems.append(violation("bad-utf8", "", message))
        elif has_control(text):
            message = f"the {what} {quoted(text)} contains a control character"
            problems.append(violation("control-character", "", message))
    return problems


# --- the canonical request, the string to sign, the key --------------------------------------


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload_hash(table: Mapping[str, list[str]], payload: bytes, out: list[Violation]) -> str:
    # spec/README.md §4.7.1 step 6: X-TC-Content-SHA256 exactly UNSIGNED-PAYLOAD replaces
    # the body by that literal (the official SDK's rule); any other value is not read.
    unsigned = _read(table, "x-tc-content-sha256", out) == UNSIGNED_PAYLOAD
    return _hash(UNSIGNED_PAYLOAD.encode() if unsigned else payload)


def _canonical(
    method: str, path: str, query: str, signed: list[tuple[str, str]], payload_hash: str
) -> str:
    headers = "".join([f"{name}:{value}\n" for name, value in signed])
    names = ";".join([name for name, _ in signed])
    return f"{method}\n{path}\n{query}\n{headers}\n{names}\n{payload_hash}"


def _string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    return f"{TC3_ALGORITHM}\n{timestamp}\n{scope}\n{_hash(canonical.encode())}"


def _key(secret_key: str, date: str, service: str) -> bytes:
    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    return mac(mac(mac(f"TC3{secret_key}".encode(), date), service), TC3_TERMINATOR)


def _signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    key = _key(secret_key, date, service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _prepared(
    method: object,
    host: object,
    path: object,
    query: object,
    headers: object,
    payload: object,
    signed_headers: object,
) -> tuple[str, dict[str, list[str]], str]:
    """The canonical request of a call being signed, its header table and its method."""
    method, host = _text("method", method), _text("host", host)
    path, query = _text("path", path), _text("query", query)
    if isinstance(payload, str):
        body = payload.encode("utf-8", "surrogatepass")
        problems = [] if is_utf8(payload) else [violation("bad-utf8", "", _BAD_PAYLOAD)]
    else:
        body, problems = _payload(payload), []
    names = _signed_names(signed_headers)
    table, capped = _table(headers)
    problems += capped
    signed = _signed_values(table, host, names, problems)
    payload_hash = _payload_hash(table, body, problems)
    problems += _where(method, path, query)
    if problems:
        raise RequestError(problems)
    return _canonical(method, path, query, signed, payload_hash), table, method


def tc3_canonical_request(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Headers,
    payload: bytes | str,
    *,
    signed_headers: Iterable[str] = _DEFAULT_SIGNED,
) -> str:
    """The TC3 canonical request (spec/README.md §4.7.1): method, path, query exactly as
    sent, the signed headers (lower-case names, sorted, values trimmed; ``host`` is the
    ``host`` argument), their names, and the hex SHA-256 of the payload (of the literal
    ``UNSIGNED-PAYLOAD`` when the headers say ``X-TC-Content-SHA256: UNSIGNED-PAYLOAD``).

    A signed header that is absent, sent twice or not text is a :class:`RequestError`.

    >>> print(tc3_canonical_request("GET", "cvm.tencentcloudapi.com", "/", "Limit=1",
    ...       {"Content-Type": "application/x-www-form-urlencoded"}, b""))
    GET
    /
    Limit=1
    content-type:application/x-www-form-urlencoded
    host:cvm.tencentcloudapi.com
    <BLANKLINE>
    content-type;host
    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    """
    return _prepared(method, host, path, query, headers, payload, signed_headers)[0]


def tc3_string_to_sign(canonical_request: str, timestamp: int, service: str = SERVICE) -> str:
    """The TC3 string to sign: ``TC3-HMAC-SHA256``, the timestamp, the credential scope
    ``<UTC date>/<service>/tc3_request`` and the hex SHA-256 of the canonical request, one
    per line (spec/README.md §4.7.2).

    >>> print(tc3_string_to_sign("GET\\n/\\n", 1700000000))  # doctest: +ELLIPSIS
    TC3-HMAC-SHA256
    1700000000
    2023-11-14/cvm/tc3_request
    ...
    """
    canonical = _text("canonical_request", canonical_request)
    stamp = _instant("timestamp", timestamp)
    service = _text("service", service)
    if not is_utf8(canonical) or not is_utf8(service):
        raise UsageError("canonical_request and service must be valid UTF-8 text")
    scope = f"{_utc_date(stamp)}/{service}/{TC3_TERMINATOR}"
    return _string_to_sign(str(stamp), scope, canonical)


def tc3_signing_key(secret_key: str, date: str, service: str = SERVICE) -> bytes:
    """The derived key: HMAC-SHA256 chained over ``"TC3" + SecretKey``, the date
    (``YYYY-MM-DD``), the service and ``tc3_request`` (spec/README.md §4.7.2).

    >>> tc3_signing_key("key", "2023-11-14").hex()[:16]
    'd6ad0c16e86bdbd8'
    """
    secret_key = _secret_key(secret_key, "secret_key")
    date, service = _text("date", date), _text("service", service)
    if not is_utf8(date) or not is_utf8(service):
        raise UsageError("date and service must be valid UTF-8 text")
    return _key(secret_key, date, service)


def _read_stamp(table: Mapping[str, list[str]]) -> int:
    """X-TC-Timestamp of a call being signed, or :class:`RequestError`."""
    problems: list[Violation] = []
    text = _read(table, "x-tc-timestamp", problems)
    if not text and not problems:
        problems.append(violation("missing-parameter", "x-tc-timestamp", _NO_TIMESTAMP))
    if problems:
        raise RequestError(problems)
    assert text is not None
    stamp = _timestamp(text)
    if stamp is None:
        raise RequestError(
            [
                violation(
                    "not-an-integer",
                    "x-tc-timestamp",
                    f"X-TC-Timestamp is {text[:40]!r}; it must be an unsigned decimal integer",
                )
            ]
        )
    if stamp > MAX_TIMESTAMP:
        what = f"X-TC-Timestamp {text[:40]} is after 9999-12-31T23:59:59Z (no YYYY-MM-DD date)"
        raise RequestError([too_large("x-tc-timestamp", what, MAX_TIMESTAMP, "MAX_TIMESTAMP")])
    return stamp


def tc3_authorization(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Headers,
    payload: bytes | str,
    *,
    secret_id: str,
    secret_key: str,
    service: str = SERVICE,
    signed_headers: Iterable[str] = _DEFAULT_SIGNED,
) -> str:
    """The ``Authorization`` header value of a call (spec/README.md §4.7.3).

    The timestamp is the headers' ``X-TC-Timestamp`` (as sent: it is signed as text);
    the rest is :func:`tc3_canonical_request`'s.

    >>> print(tc3_authorization("GET", "cvm.tencentcloudapi.com", "/", "Limit=1",
    ...     {"Content-Type": "application/x-www-form-urlencoded", "X-TC-Timestamp": "1700000000"},
    ...     b"", secret_id="AKIDx", secret_key="key").replace(", ", "\\n"))  # doctest: +ELLIPSIS
    TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/cvm/tc3_request
    SignedHeaders=content-type;host
    Signature=...
    """
    secret_key = _secret_key(secret_key, "secret_key")
    secret_id, service = _text("secret_id", secret_id), _text("service", service)
    if not _SECRET_ID_RE.match(secret_id):
        raise UsageError(
            "secret_id must be visible ASCII without ',' or '/' (it is sent in the header)"
        )
    if not _SERVICE_RE.match(service):
        raise UsageError(f"service {quoted(service)} is not a service name (a-z, 0-9, '-')")
    canonical, table, _ = _prepared(method, host, path, query, headers, payload, signed_headers)
    stamp = _read_stamp(table)
    text = table["x-tc-timestamp"][0].strip(_OWS)
    date = _utc_date(stamp)
    scope = f"{date}/{service}/{TC3_TERMINATOR}"
    signature = _signature(secret_key, date, service, _string_to_sign(text, scope, canonical))
    names = ";".join(_signed_names(signed_headers))
    return (
        f"{TC3_ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={names}, "
        f"Signature={signature}"
    )


# --- a complete call -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Tc3Call:
    """A signed API 3.0 call: send ``method`` to ``url`` with ``headers`` and ``body``.

    >>> Tc3Call("GET", "h", "/", "Limit=1", (), b"").target
    '/?Limit=1'
    """

    method: str
    host: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def target(self) -> str:
        """The request target: the path, and ``?`` + the query when there is one."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def url(self) -> str:
        """``https://`` + host + target."""
        return f"https://{self.host}{self.target}"


def _json_body(request: DescribeImagesRequest) -> bytes:
    # The body the official SDK writes for the business parameters (spec/README.md §2.10).
    return encode_json(request)


def _refuse(problems: Iterable[Violation]) -> None:
    problems = tuple(problems)
    if problems:
        # A value the wire cannot carry is a WireError, as parse_query would raise it.
        wire = all(v.reason in WIRE_REASONS for v in problems)
        raise (WireError if wire else RequestError)(problems)


def _optional(name: str, value: object, fallback: str | None) -> str | None:
    return fallback if value is None else _text(name, value)


def tc3_sign(
    request: DescribeImagesRequest,
    *,
    secret_id: str,
    secret_key: str,
    method: Literal["GET", "POST"] = "POST",
    host: str = API3_HOST,
    path: str = API3_PATH,
    service: str = SERVICE,
    region: str | None = None,
    timestamp: int | None = None,
    token: str | None = None,
    unsigned_payload: bool = False,
    language: str | None = None,
    request_client: str | None = None,
    body: bytes | None = None,
) -> Tc3Call:
    """A complete TC3-signed API 3.0 call for ``request`` (spec/README.md §4.7.6).

    GET sends the business parameters as the 0-based dotted query; POST sends ``body``
    (the JSON body). Action and Version go in ``X-TC-*`` headers; Region, Token, Language
    and RequestClient come from the arguments, else from ``request.common``. The headers
    are the official SDK's, in its order; an empty Region, Token, Language or
    RequestClient is not sent, as the SDK does. The request is validated first (an invalid
    one raises :class:`RequestError`).

    >>> call = tc3_sign(DescribeImagesRequest(image_ids=("img-pmqg1cw7",)), method="GET",
    ...                 secret_id="AKIDx", secret_key="key", timestamp=1700000000)
    >>> call.url
    'https://cvm.tencentcloudapi.com/?ImageIds.0=img-pmqg1cw7'
    >>> [name for name, _ in call.headers]  # doctest: +NORMALIZE_WHITESPACE
    ['Content-Type', 'Host', 'X-TC-Action', 'X-TC-Timestamp', 'X-TC-Version',
     'Authorization']
    """
    if not isinstance(request, DescribeImagesRequest):
        raise UsageError(f"request must be a DescribeImagesRequest, not {kind(request)}")
    if method not in ("GET", "POST"):
        raise UsageError(f"method must be 'GET' or 'POST', not {method!r:.40}")
    if not isinstance(unsigned_payload, bool):
        raise UsageError(f"unsigned_payload must be a bool, not {kind(unsigned_payload)}")
    host = _text("host", host)
    stamp = _instant("timestamp", int(time.time()) if timestamp is None else timestamp)
    # A value of the wrong type, or text no wire carries, anywhere in the request (its
    # common parameters included: some become headers) is refused before any is read.
    _refuse(value_problems(request))
    common = request.common
    optional = [
        ("X-TC-Region", _optional("region", region, common.region)),
        ("X-TC-Token", _optional("token", token, common.token)),
        ("X-TC-Language", _optional("language", language, common.language)),
    ]
    client = _optional("request_client", request_client, common.request_client)
    # Only the business parameters and the action are the request's: the rest travels in
    # headers, checked as headers below.
    business = dataclasses.replace(request, common=CommonParams(action=common.action))
    _refuse(validate(business))
    if method == "GET":
        if body is not None:
            raise UsageError("a GET has no body: leave body out")
        payload = b""
        # The encoder's query without its first two pairs, Action and Version (validated:
        # DescribeImages, 2017-03-12), which travel in headers.
        query = "".join(encode_query(business).split("&", 2)[2:])
        cap = DEFAULT_LIMITS.max_query_bytes
        if len(query) > cap:
            what = f"the query is {len(query)} bytes"
            raise WireError([too_large("", what, cap, "max_query_bytes")])
    else:
        payload = _json_body(business) if body is None else _payload(body, "body")
        query = ""
    # The official SDK's headers, in its order (abstract_client._build_req_with_tc3_signature).
    headers = [
        ("Content-Type", TC3_CONTENT_TYPES[method]),
        ("Host", host),
        ("X-TC-Action", common.action),
        *([("X-TC-RequestClient", client)] if client else []),
        ("X-TC-Timestamp", str(stamp)),
        ("X-TC-Version", VERSION),
        *([("X-TC-Content-SHA256", UNSIGNED_PAYLOAD)] if unsigned_payload else []),
        *[(name, value) for name, value in optional if value],
    ]
    # What travels in a header is checked as the verifier reads it (spec/README.md §4.7.5).
    troubles: list[Violation] = []
    table, _ = _table(headers)
    for name, _value in headers[2:]:
        _read(table, name.lower(), troubles)
    if troubles:
        raise RequestError(troubles)
    authorization = tc3_authorization(
        method, host, path, query, headers, payload,
        secret_id=secret_id, secret_key=secret_key, service=service,
    )  # fmt: skip
    headers.append(("Authorization", authorization))
    # tc3_authorization checked that path is a str.
    return Tc3Call(method, host, path, query, tuple(headers), payload)


# --- verification --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Authorization:
    secret_id: str
    date: str
    service: str
    signed: tuple[str, ...]
    signature: str


def _bad(message: str) -> AuthError:
    return AuthError([violation("bad-authorization", "authorization", message)])


def _parse_authorization(value: str) -> _Authorization:
    """The Authorization header's parts, or :class:`AuthError` (spec/README.md §4.7.3)."""
    if not _PRINTABLE_RE.match(value):
        raise _bad("the Authorization header is not printable ASCII")
    algorithm, _, rest = value.partition(" ")
    if algorithm != TC3_ALGORITHM:
        raise _bad(f"the Authorization algorithm is {algorithm[:40]!r}, not {TC3_ALGORITHM!r}")
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, text = part.strip(" ").partition("=")
        if not equals or name not in _PARAMS:
            raise _bad(
                f"the Authorization header has {part.strip(' ')[:40]!r} where Credential=, "
                "SignedHeaders= or Signature= belongs"
            )
        if name in params:
            raise _bad(f"the Authorization header gives {name} more than once")
        params[name] = text
    for name in _PARAMS:
        if name not in params:
            raise _bad(f"the Authorization header has no {name}")
    parts = params["Credential"].split("/")
    if not (
        len(parts) == 4
        and _SECRET_ID_RE.match(parts[0])
        and _DATE_RE.match(parts[1])
        and _SERVICE_RE.match(parts[2])
        and parts[3] == TC3_TERMINATOR
    ):
        raise _bad(
            f"the Credential {params['Credential'][:80]!r} is not "
            "<SecretId>/<YYYY-MM-DD>/<service>/tc3_request"
        )
    signed = tuple(params["SignedHeaders"].split(";"))
    if not all(_HEADER_NAME_RE.match(name) for name in signed) or any(
        a >= b for a, b in itertools.pairwise(signed)
    ):
        raise _bad(
            f"SignedHeaders {params['SignedHeaders'][:80]!r} are not lower-case header "
            "names in ascending order, each once, joined by ';'"
        )
    if not _SIGNATURE_RE.match(params["Signature"]):
        raise _bad("the Signature is not 64 lower-case hex digits")
    return _Authorization(parts[0], parts[1], parts[2], signed, params["Signature"])


def tc3_verify(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Headers,
    body: bytes,
    *,
    secrets: Callable[[str], str | None],
    now: float | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
    service: str = SERVICE,
) -> str:
    """Check a TC3-signed call; return its SecretId, or raise :class:`AuthError`.

    ``host`` is the Host the client sent (the canonical ``host`` header; a ``Host`` in
    ``headers`` is not read), ``query`` the raw query string (without ``?``), ``body`` the
    exact body bytes. The checks run in the order of spec/README.md §4.7.4: the headers'
    text, presence, the Authorization syntax, the signed headers, the SecretId, the
    signature (compared in constant time), and only then the timestamp, its window, the
    scope's date and service. TC3 has no nonce: a replay inside the window passes.

    >>> call = tc3_sign(DescribeImagesRequest(), method="GET", secret_id="AKIDx",
    ...                 secret_key="key", timestamp=1700000000)
    >>> tc3_verify(call.method, call.host, call.path, call.query, call.headers, call.body,
    ...            secrets={"AKIDx": "key"}.get, now=1700000000)
    'AKIDx'
    """
    method, host = _text("method", method), _text("host", host)
    path, query = _text("path", path), _text("query", query)
    payload = _payload(body, "body")
    if not callable(secrets):
        raise UsageError(
            f"secrets must be a function SecretId -> SecretKey, not {kind(secrets)}"
        )
    clock = None if now is None else seconds("now", now, finite=True)
    skew = _max_skew(max_skew)
    expected_service = _text("service", service)
    table, problems = _table(headers)
    if problems:
        raise AuthError(problems)
    authorization = _read(table, "authorization", problems)
    stamp_text = _read(table, "x-tc-timestamp", problems)
    if problems:
        raise AuthError(problems)
    if not stamp_text:
        problems.append(
            violation("missing-parameter", "x-tc-timestamp", _NO_TIMESTAMP)
        )
    if not authorization:
        problems.append(
            violation(
                "missing-signature",
                "authorization",
                "the call is not signed: the Authorization header is missing or empty",
            )
        )
    if problems:
        raise AuthError(problems)
    assert authorization is not None and stamp_text is not None
    parsed = _parse_authorization(authorization)
    for needed in TC3_REQUIRED_SIGNED_HEADERS:
        if needed not in parsed.signed:
            raise AuthError(
                [
                    violation(
                        "required-header-unsigned",
                        "authorization",
                        f"SignedHeaders must include {needed!r} (they are "
                        f"{';'.join(parsed.signed)[:80]!r})",
                    )
                ]
            )
    signed = _signed_values(table, host, parsed.signed, problems)
    payload_hash = _payload_hash(table, payload, problems)
    if problems:
        raise AuthError(problems)
    secret_key = secrets(parsed.secret_id)
    if secret_key is None:
        raise AuthError(
            [
                violation(
                    "unknown-secret-id",
                    "authorization",
                    f"SecretId {parsed.secret_id[:64]!r} is not known",
                )
            ]
        )
    secret_key = _secret_key(secret_key, "the SecretKey secrets returned for", parsed.secret_id)
    where = _where(method, path, query)
    if where:
        raise AuthError(where)
    scope = f"{parsed.date}/{parsed.service}/{TC3_TERMINATOR}"
    canonical = _canonical(method, path, query, signed, payload_hash)
    expected = _signature(
        secret_key, parsed.date, parsed.service, _string_to_sign(stamp_text, scope, canonical)
    )
    # Constant time, on ASCII bytes (the grammar checked the sent value is hex).
    if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
        raise AuthError(
            [
                violation(
                    "bad-signature",
                    "authorization",
                    "the signature does not match the call (check the SecretKey, the method, "
                    "host, path, query, signed headers and body, and the credential scope)",
                )
            ]
        )
    return _after_signature(parsed, stamp_text, clock, skew, expected_service)


def _after_signature(
    parsed: _Authorization, stamp_text: str, clock: float | None, skew: float, service: str
) -> str:
    stamp = _timestamp(stamp_text)
    if stamp is None:
        raise AuthError(
            [
                violation(
                    "not-an-integer",
                    "x-tc-timestamp",
                    f"X-TC-Timestamp is {stamp_text[:40]!r}; "
                    "it must be an unsigned decimal integer (Unix seconds)",
                )
            ]
        )
    check_skew("X-TC-Timestamp", "x-tc-timestamp", stamp_text, stamp, clock, skew)
    date = _utc_date(stamp) if stamp <= MAX_TIMESTAMP else None
    if parsed.date != date:
        raise AuthError(
            [
                violation(
                    "wrong-credential-date",
                    "authorization",
                    f"the Credential's date {parsed.date} is not the UTC date of "
                    f"X-TC-Timestamp {stamp_text[:40]} ({date or 'after 9999-12-31'})",
                )
            ]
        )
    if parsed.service != service:
        raise AuthError(
            [
                violation(
                    "wrong-credential-service",
                    "authorization",
                    f"the Credential's service is {parsed.service[:40]!r}, not {service!r}",
                )
            ]
        )
    return parsed.secret_id


def make_tc3_verifier(
    credentials: Mapping[str, str],
    *,
    max_skew: float = DEFAULT_MAX_SKEW,
    service: str = SERVICE,
) -> Tc3Verifier:
    """A server hook ``(method, host, path, query, headers, body) -> SecretId`` that calls
    :func:`tc3_verify` with a copy of ``credentials`` (SecretId -> SecretKey).

    >>> hook = make_tc3_verifier({"AKIDx": "key"})
    >>> try:
    ...     hook("POST", "cvm.tencentcloudapi.com", "/", "", {}, b"{}")
    ... except AuthError as exc:
    ...     print([v.reason for v in exc.violations])
    ['missing-parameter', 'missing-signature']
    """
    table = credential_table(credentials)
    skew = _max_skew(max_skew)
    expected = _text("service", service)

    def verifier(
        method: str, host: str, path: str, query: str, headers: Headers, body: bytes
    ) -> str:
        return tc3_verify(
            method, host, path, query, headers, body,
            secrets=table.get, max_skew=skew, service=expected,
        )  # fmt: skip

    return verifier
