"""The reference DescribeImages server (public submodule).

:func:`make_app` returns a stdlib WSGI application, so it runs under gunicorn, uWSGI or
any WSGI server; :func:`serve` runs it with the stdlib ``wsgiref`` server. The HTTP
behaviour (which method, path, content type and size gets which status) is the table in
spec/README.md §3.4.

    $ describe-images serve --port 8000 &
    $ curl 'http://127.0.0.1:8000/v2/index.php?Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7'
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from ._catalog import default_catalog
from ._decode import decode_pairs, decode_request, query_part
from ._errors import AuthError, ErrorCode, RequestError, Violation, envelope, violation
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._json import decode_json_request
from ._model import CommonParams, DescribeImagesRequest, shown
from ._pairs import parse_query
from ._query import ValidRequest, answer_valid
from ._response import Image, ImageNames
from ._signing import Verifier
from ._spec import ACTION, METHODS, PATH, TC3_ALGORITHM, VERSION
from ._tc3 import Tc3Verifier

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "API_PATHS",
    "DEFAULT_MAX_BODY_BYTES",
    "OUTCOME_KEY",
    "create_app",
    "make_app",
    "serve",
]

#: The paths that answer API calls: the documented one, and the root.
API_PATHS: Final = (PATH, "/")
#: The largest POST body read into memory (larger ones get 413 unread). It is above the
#: codec's own cap (64 KiB by default) on purpose: a body between the two gets the API's
#: ``InvalidParameter`` (reason ``too-large``) answer, which tells a client more than 413.
DEFAULT_MAX_BODY_BYTES: Final = 1 << 20
#: The WSGI environ key where the app leaves what it answered: the error Code, or
#: ``"OK <shown>/<TotalCount>"``; :func:`serve` logs it, other servers' middleware may.
OUTCOME_KEY: Final = "describe_images.outcome"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
#: The media type of an API 3.0 POST body (spec/README.md §2.10).
API3_TYPE: Final = "application/json"
JSON_TYPE: Final = ("Content-Type", "application/json")
TEXT_TYPE: Final = ("Content-Type", "text/plain; charset=utf-8")
INTERNAL_ERROR_MESSAGE: Final = (
    "the server failed to answer this request; quote the RequestId when you report it"
)
#: A refusal shows at most this many characters of what the client sent (spec/README.md
#: §3.4: a refusal echoes its input ASCII-escaped and cut).
ECHO_MAX: Final = 100

logger = logging.getLogger(__name__)

_Answer = tuple[str, list[tuple[str, str]], bytes, str]  # status, headers, body, outcome


class _HttpRefusal(Exception):
    """An answer outside the API (404, 405, 411, 413, 415, 400): no envelope."""

    def __init__(self, status: str, message: str, *headers: tuple[str, str]):
        super().__init__(message)
        self.status = status
        self.headers = headers

    def answer(self) -> _Answer:
        # Every piece of client input in the message went through _echo: it is ASCII.
        body = f"{self.status}: {self}\n".encode("ascii", "backslashreplace")
        return self.status, [TEXT_TYPE, *self.headers], body, "-"


class _BrokenEnviron(Exception):
    """The WSGI server broke PEP 3333 (a CGI value that is not a str, a ``wsgi.input``
    that is missing or yields something other than bytes): answered as an internal error."""


def make_app(
    images: Iterable[Image] | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    limits: WireLimits = DEFAULT_LIMITS,
    verify: Verifier | None = None,
    verify_tc3: Tc3Verifier | None = None,
) -> WSGIApplication:
    """A WSGI application answering DescribeImages from ``images`` (default: the embedded
    catalog), as legacy calls and as API 3.0 calls (``X-TC-*`` headers, a GET query or a
    JSON POST body; spec/README.md §3.4).

    Every API answer is HTTP 200, ``Content-Type: application/json``, with the Tencent
    envelope and a fresh UUID4 ``RequestId``; requests that are not API calls get a plain
    HTTP status. Whatever the environ holds, it answers one of the statuses of
    spec/README.md §3.4 and never lets an exception reach the WSGI server.

    ``verify`` (e.g. :func:`~describe_images.make_verifier`) is called as
    ``verify(method, host, path, pairs)`` after the wire parse and before decoding; a
    :class:`RequestError` it raises (an ``AuthError``) is the answer.
    ``verify_tc3`` (e.g. :func:`~describe_images.make_tc3_verifier`) is called as
    ``verify_tc3(method, host, path, query, headers, body)`` on an API 3.0 call before
    anything else is read from it. With either one given, every call must be signed: a
    call of the kind whose verifier is missing is refused.

    >>> from wsgiref.util import setup_testing_defaults
    >>> environ = {"QUERY_STRING": "Action=DescribeImages&Version=2017-03-12&Limit=0"}
    >>> setup_testing_defaults(environ)
    >>> body = make_app()(environ, lambda status, headers: print(status, headers[0]))
    200 OK ('Content-Type', 'application/json')
    >>> b'"Code":"InvalidParameterValue.InvalidParameterValueLimit"' in b"".join(body)
    True
    """
    if type(max_body_bytes) is not int or max_body_bytes < 0:
        raise ValueError(f"max_body_bytes must be an int >= 0, not {max_body_bytes!r}")
    catalog = default_catalog() if images is None else tuple(images)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        try:
            try:
                status, headers, body, outcome = _answer(
                    environ, catalog, max_body_bytes, limits, verify, verify_tc3
                )
            except _HttpRefusal as refusal:
                status, headers, body, outcome = refusal.answer()
        except Exception:
            # spec/README.md §3.4: never a traceback on the wire. The traceback goes
            # to the log with the RequestId the client sees.
            request_id = _request_id()
            logger.exception("internal error answering RequestId %s", request_id)
            status, headers, outcome = "200 OK", [JSON_TYPE], ErrorCode.INTERNAL_ERROR.value
            body = _json(envelope(outcome, INTERNAL_ERROR_MESSAGE, request_id))
        if isinstance(environ, dict):  # PEP 3333 says it is; a broken server is answered too
            environ[OUTCOME_KEY] = outcome
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    return app


def _json(payload: object) -> bytes:
    # ASCII-only and compact: no client can get the charset wrong (spec/README.md §3.4).
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


# RFC 9562 UUID version 4: 122 random bits, the version nibble 4 and the variant bits 10.
_UUID4_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET: Final = (0x4000 << 64) | (0x8000 << 48)


def _request_id() -> str:
    """A fresh UUID4 in its canonical form; what ``str(uuid.uuid4())`` gives, built
    without the UUID object (the server makes one per answer)."""
    number = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
    h = f"{number:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _answer(
    environ: WSGIEnvironment,
    catalog: tuple[Image, ...],
    max_body_bytes: int,
    limits: WireLimits,
    verify: Verifier | None,
    verify_tc3: Tc3Verifier | None = None,
) -> _Answer:
    path = _cgi(environ, "PATH_INFO") or "/"
    if path not in API_PATHS:
        raise _HttpRefusal("404 Not Found", f"no API at {_echo(path)}; send calls to {PATH}")
    method = _cgi(environ, "REQUEST_METHOD")
    if method in METHODS and _is_api3(environ):
        return _answer_api3(environ, method, path, catalog, max_body_bytes, limits, verify,
                            verify_tc3)  # fmt: skip
    if method == "GET":
        raw = _environ_bytes(_cgi(environ, "QUERY_STRING"))
    elif method == "POST":
        # The API documents POST parameters as the form body only: the query string of a
        # POST is ignored, never merged (spec/README.md §3.4).
        raw = _read_body(environ, max_body_bytes, FORM_TYPE)
    else:
        raise _HttpRefusal(
            "405 Method Not Allowed",
            f"{_echo(method, quote=False)} is not allowed; use GET or POST",
            ("Allow", ", ".join(METHODS)),
        )
    request_id = _request_id()
    try:
        # The bytes are decoded once. Unsigned: decode_request on the bytes, which takes
        # the plain-query fast path (spec/README.md §2.2). decode_request reads a URL's
        # query part, but a query string or body is never a URL: one that looks like one
        # ("/...", "http://...") goes through the pairs, as it always did. Signed: the
        # verifier needs the pairs; decode_pairs places them without checking them again.
        if verify is None and verify_tc3 is None and query_part(raw, limits) == raw:
            request = decode_request(raw, limits=limits)
        else:
            pairs = parse_query(raw, limits=limits)
            if verify is not None:
                verify(method, _host(environ), _cgi(environ, "SCRIPT_NAME") + path, pairs)
            elif verify_tc3 is not None:
                raise AuthError([_unverifiable("SignatureMethod", "v1", TC3_ALGORITHM)])
            request = decode_pairs(pairs, limits=limits)
    except RequestError as exc:
        return _refused(exc, request_id)
    # At API 3.0's own path a legacy-signed call is API 3.0's "signature v1" call (the
    # official SDKs' HmacSHA1/HmacSHA256 profiles): answered in API 3.0's names (§3.1).
    return _answered(request, catalog, request_id, "legacy" if path == PATH else "api3")


def _refused(error: RequestError, request_id: str) -> _Answer:
    return "200 OK", [JSON_TYPE], _json(error.to_response(request_id)), error.code


def _answered(
    request: DescribeImagesRequest,
    catalog: tuple[Image, ...],
    request_id: str,
    names: ImageNames = "legacy",
) -> _Answer:
    try:
        # Every caller passes what decode_request, decode_pairs or decode_json_request
        # returned: only valid requests, so they are not validated again.
        response = answer_valid(ValidRequest(request), catalog, request_id=request_id)
    except RequestError as exc:
        return _refused(exc, request_id)
    outcome = f"OK {len(response.image_set)}/{response.total_count}"
    return "200 OK", [JSON_TYPE], response.to_json(names).encode("ascii"), outcome


def _unverifiable(path: str, kind: str, other: str) -> Violation:
    # Fail closed (spec/README.md §3.4): an app given one verifier requires signatures,
    # and a call signed the other way cannot be checked.
    return violation(
        "unsupported-signature-method",
        path,
        f"this server verifies only {other} signatures: a {kind} call is refused here",
    )


# --- API 3.0 calls (spec/README.md §3.4, "API 3.0 calls") --------------------------------

# X-TC-<name> header (as a WSGI environ key) -> CommonParams attribute. X-TC-Version is
# checked, not kept (a request has one version); X-TC-Action is required.
_API3_HEADERS: Final = {
    "HTTP_X_TC_ACTION": "action",
    "HTTP_X_TC_REGION": "region",
    "HTTP_X_TC_TIMESTAMP": "timestamp",
    "HTTP_X_TC_TOKEN": "token",
    "HTTP_X_TC_LANGUAGE": "language",
    "HTTP_X_TC_REQUESTCLIENT": "request_client",
}


def _is_api3(environ: WSGIEnvironment) -> bool:
    """An API 3.0 call names its action in ``X-TC-Action`` or is TC3-signed."""
    if "HTTP_X_TC_ACTION" in environ:
        return True
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    return isinstance(authorization, str) and authorization.startswith(TC3_ALGORITHM)


def _answer_api3(
    environ: WSGIEnvironment,
    method: str,
    path: str,
    catalog: tuple[Image, ...],
    max_body_bytes: int,
    limits: WireLimits,
    verify: Verifier | None,
    verify_tc3: Tc3Verifier | None,
) -> _Answer:
    query = _cgi(environ, "QUERY_STRING")
    # A GET has no body; a POST's business parameters are its JSON body, and its query
    # (signed as sent, if any) is never read for parameters, as for a legacy POST.
    body = b"" if method == "GET" else _read_body(environ, max_body_bytes, API3_TYPE)
    request_id = _request_id()
    try:
        if verify_tc3 is not None:
            verify_tc3(
                method,
                _header_text(_host(environ)),
                _header_text(_cgi(environ, "SCRIPT_NAME") + path),
                _header_text(query),
                _headers(environ),
                body,
            )
        elif verify is not None:
            raise AuthError([_unverifiable("authorization", TC3_ALGORITHM, "v1")])
        common = _api3_common(environ)
        if method == "GET":
            request = decode_request(_environ_bytes(query), limits=limits, common=common)
        else:
            request = decode_json_request(body, common=common, limits=limits)
    except RequestError as exc:
        return _refused(exc, request_id)
    # API 3.0 answers name an Image's members as API 3.0 does (spec/README.md §3.1).
    return _answered(request, catalog, request_id, "api3")


def _header_text(value: str) -> str:
    """A PEP 3333 header string (latin-1 for the bytes sent) read as the UTF-8 the client
    sent; bytes that are not UTF-8 become lone surrogates, which the checks refuse."""
    return _environ_bytes(value).decode("utf-8", "surrogateescape")


def _headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    """The request's headers as (lower-case name, UTF-8 text), as the client sent them
    (WSGI keeps ``Content-Type`` and ``Content-Length`` outside ``HTTP_*``)."""
    out = []
    for key in environ:
        if key.startswith("HTTP_") and key[5:] not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        out.append((name.replace("_", "-").lower(), _header_text(_cgi(environ, key))))
    return out


def _api3_common(environ: WSGIEnvironment) -> CommonParams:
    """The common parameters of an API 3.0 call, from its ``X-TC-*`` headers.

    Like the API's gateway, which routes on them, this is decided before the parameters
    are read, and alone: ``X-TC-Action`` and ``X-TC-Version`` must be sent (else
    ``MissingParameter``), the action must be DescribeImages (else ``InvalidAction``) and
    the version 2017-03-12 (else ``NoSuchVersion``)."""
    values = {
        attr: _header_text(_cgi(environ, key))
        for key, attr in _API3_HEADERS.items()
        if key in environ
    }
    version = None
    if "HTTP_X_TC_VERSION" in environ:
        version = _header_text(_cgi(environ, "HTTP_X_TC_VERSION"))
    found = [
        violation("missing-parameter", name, f"{name} is required: send the X-TC-{name} header")
        for name, value in (("Action", values.get("action")), ("Version", version))
        if not value
    ]
    action = values.get("action")
    if action and action != ACTION:
        found.append(
            violation(
                "unsupported-action",
                "Action",
                f"X-TC-Action {shown(action)} is not supported; this endpoint serves {ACTION}",
            )
        )
    if version and version != VERSION:
        found.append(
            violation(
                "no-such-version",
                "Version",
                f"X-TC-Version {shown(version)} does not exist for {ACTION}; use {VERSION!r}",
            )
        )
    if found:
        raise RequestError(found)
    return CommonParams(**values)


def _cgi(environ: WSGIEnvironment, key: str) -> str:
    """A CGI variable of the environ; an absent one is empty (PEP 3333)."""
    value = environ.get(key, "")
    if not isinstance(value, str):
        raise _BrokenEnviron(f"environ[{key!r}] must be a str, not {type(value).__name__}")
    return value


def _echo(text: str, quote: bool = True) -> str:
    """Client input shown in a refusal: ASCII only (anything else backslash-escaped, as
    ``ascii()`` does), at most :data:`ECHO_MAX` characters of it, quoted unless told not."""
    cut = text[:ECHO_MAX]
    shown = ascii(cut) if quote else cut.encode("unicode_escape").decode("ascii")
    return shown + "..." if len(text) > ECHO_MAX else shown


def _environ_bytes(text: str) -> bytes:
    # PEP 3333: environ strings carry the raw bytes as latin-1. A server that broke the
    # rule (a character above U+00FF) most likely meant UTF-8.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _read_body(environ: WSGIEnvironment, cap: int, media_type: str) -> bytes:
    content_type = _cgi(environ, "CONTENT_TYPE")
    media, *params = content_type.split(";")
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != media_type or charset not in ("utf-8", "utf8"):
        sent = _echo(content_type, quote=False) if content_type else "none"
        kind = "an API 3.0 POST body" if media_type == API3_TYPE else "a POST body"
        raise _HttpRefusal(
            "415 Unsupported Media Type",
            f"{kind} must be {media_type} (UTF-8), not {sent}",
        )
    length_text = _cgi(environ, "CONTENT_LENGTH").strip()
    if not length_text:
        if not environ.get("wsgi.input_terminated"):
            raise _HttpRefusal("411 Length Required", "a POST needs a Content-Length")
        # The server de-chunked the body and ends the stream: read one byte past the cap.
        body = _read(environ, cap + 1, until_end=True)
        if len(body) > cap:
            raise _HttpRefusal("413 Content Too Large", f"the body is over {cap} bytes")
        return body
    if not length_text.isdigit() or not length_text.isascii():
        raise _HttpRefusal(
            "400 Bad Request", f"Content-Length {_echo(length_text)} is not a number"
        )
    # Leading zeros do not make a body larger; the digits are counted before int() reads
    # them (spec/README.md §2.1: never int() of an unbounded string).
    digits = length_text.lstrip("0") or "0"
    if len(digits) > len(str(cap)) or int(digits) > cap:
        raise _HttpRefusal(
            "413 Content Too Large",
            f"the body is {_echo(length_text, quote=False)} bytes; at most {cap} are allowed",
        )
    return _read(environ, int(digits), until_end=False)


def _read(environ: WSGIEnvironment, size: int, *, until_end: bool) -> bytes:
    """``size`` bytes of ``wsgi.input`` (fewer when ``until_end`` and the stream ends).

    A stream may return fewer bytes than asked: it is read until it has given them all.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        raise _BrokenEnviron("a POST environ without wsgi.input")
    chunks: list[bytes] = []
    got = 0
    while got < size:
        try:
            chunk = stream.read(size - got)
        except OSError as exc:  # the connection broke or timed out under the server
            raise _HttpRefusal(
                "400 Bad Request", f"the body could not be read after {got} bytes"
            ) from exc
        if not isinstance(chunk, (bytes, bytearray)):
            raise _BrokenEnviron(
                f"wsgi.input.read({size - got}) must give bytes, not {type(chunk).__name__}"
            )
        if len(chunk) > size - got:
            raise _BrokenEnviron(f"wsgi.input.read({size - got}) gave {len(chunk)} bytes")
        if not chunk:
            if until_end:
                break
            raise _HttpRefusal("400 Bad Request", f"the body ended after {got} of {size} bytes")
        chunks.append(bytes(chunk))
        got += len(chunk)
    return b"".join(chunks)


def _host(environ: WSGIEnvironment) -> str:
    host = _cgi(environ, "HTTP_HOST")
    if host:
        return host
    name, port = _cgi(environ, "SERVER_NAME"), _cgi(environ, "SERVER_PORT")
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return name if port in ("", default) else f"{name}:{port}"


# --- the stdlib HTTP runner -------------------------------------------------------------
# serve() lives in _http and create_app() in _deploy, which import make_app from here:
# they are loaded on first use (PEP 562), so this module never imports them at import
# time and the modules never cycle.

if TYPE_CHECKING:
    from ._deploy import create_app as create_app
    from ._http import serve as serve

_LAZY: Final = {"serve": "._http", "create_app": "._deploy"}


def __getattr__(name: str) -> object:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(where, __package__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
