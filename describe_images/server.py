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
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Final, TextIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._catalog import default_catalog
from ._decode import decode_pairs, decode_request, query_part
from ._errors import ErrorCode, RequestError, envelope
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._pairs import parse_query
from ._query import ValidRequest, answer_valid
from ._response import Image
from ._signing import Verifier
from ._spec import ACTION, METHODS, PATH, VERSION

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "API_PATHS",
    "DEFAULT_MAX_BODY_BYTES",
    "OUTCOME_KEY",
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
) -> WSGIApplication:
    """A WSGI application answering DescribeImages from ``images`` (default: the embedded
    catalog).

    Every API answer is HTTP 200, ``Content-Type: application/json``, with the Tencent
    envelope and a fresh UUID4 ``RequestId``; requests that are not API calls get a plain
    HTTP status. Whatever the environ holds, it answers one of the statuses of
    spec/README.md §3.4 and never lets an exception reach the WSGI server.

    ``verify`` (e.g. :func:`~describe_images.make_verifier`) is called as
    ``verify(method, host, path, pairs)`` after the wire parse and before decoding; a
    :class:`RequestError` it raises (an ``AuthError``) is the answer.

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
                    environ, catalog, max_body_bytes, limits, verify
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
) -> _Answer:
    path = _cgi(environ, "PATH_INFO") or "/"
    if path not in API_PATHS:
        raise _HttpRefusal("404 Not Found", f"no API at {_echo(path)}; send calls to {PATH}")
    method = _cgi(environ, "REQUEST_METHOD")
    if method == "GET":
        raw = _environ_bytes(_cgi(environ, "QUERY_STRING"))
    elif method == "POST":
        # The API documents POST parameters as the form body only: the query string of a
        # POST is ignored, never merged (spec/README.md §3.4).
        raw = _read_form(environ, max_body_bytes)
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
        if verify is None and query_part(raw, limits) == raw:
            request = decode_request(raw, limits=limits)
        else:
            pairs = parse_query(raw, limits=limits)
            if verify is not None:
                verify(method, _host(environ), _cgi(environ, "SCRIPT_NAME") + path, pairs)
            request = decode_pairs(pairs, limits=limits)
        # decode_request and decode_pairs return only valid requests: not validated again.
        response = answer_valid(ValidRequest(request), catalog, request_id=request_id)
    except RequestError as exc:
        return "200 OK", [JSON_TYPE], _json(exc.to_response(request_id)), exc.code
    outcome = f"OK {len(response.image_set)}/{response.total_count}"
    return "200 OK", [JSON_TYPE], response.to_json().encode("ascii"), outcome


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


def _read_form(environ: WSGIEnvironment, cap: int) -> bytes:
    content_type = _cgi(environ, "CONTENT_TYPE")
    media, *params = content_type.split(";")
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != FORM_TYPE or charset not in ("utf-8", "utf8"):
        shown = _echo(content_type, quote=False) if content_type else "none"
        raise _HttpRefusal(
            "415 Unsupported Media Type",
            f"a POST body must be {FORM_TYPE} (UTF-8), not {shown}",
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


# --- wsgiref runner ----------------------------------------------------------------------


class _Handler(WSGIRequestHandler):
    """wsgiref's handler, with its per-request line replaced by :func:`_logged`'s."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        # Only wsgiref's own errors (a request line over 64 KiB, a bad request line) get here.
        stream = getattr(self.server, "log_stream", sys.stderr)
        _write(stream, f"{self.address_string()} {format % args}")


_LOG_LOCK = threading.Lock()


def _write(stream: TextIO, line: str) -> None:
    with _LOG_LOCK:
        stream.write(line + "\n")
        stream.flush()


def _server_class(host: str, stream: TextIO) -> type[WSGIServer]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class _Server(ThreadingMixIn, WSGIServer):
        address_family = family
        daemon_threads = True
        log_stream = stream

    return _Server


def _logged(app: WSGIApplication, stream: TextIO) -> WSGIApplication:
    """One line per request: client, method, path, status, what was answered, time taken."""

    def logged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: list[str] = []

        def recording(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, *exc)

        body = app(environ, recording)
        took = (time.perf_counter() - started) * 1000
        _write(
            stream,
            f"{environ.get('REMOTE_ADDR', '-')} {environ.get('REQUEST_METHOD', '-')} "
            f"{environ.get('PATH_INFO', '') or '/'} {seen[0] if seen else '-'} "
            f"{environ.get(OUTCOME_KEY, '-')} {took:.1f}ms",
        )
        return body

    return logged


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    images: Iterable[Image] | None = None,
    *,
    verify: Verifier | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    limits: WireLimits = DEFAULT_LIMITS,
    log: TextIO | None = None,
    catalog_name: str = "the embedded catalog",
    ready: Callable[[WSGIServer], object] | None = None,
) -> None:
    """Serve DescribeImages on ``host:port`` with wsgiref until Ctrl-C, then return.

    Logs a start line, one line per request and a stop line to ``log`` (stderr by
    default). ``port=0`` picks a free port (the start line names it). ``ready`` is called
    with the bound server before serving (tests use it to learn the port and to stop it
    with ``server.shutdown()`` from another thread). Binding errors raise ``OSError``.
    """
    stream = sys.stderr if log is None else log
    catalog = default_catalog() if images is None else tuple(images)
    app = make_app(catalog, max_body_bytes=max_body_bytes, limits=limits, verify=verify)
    httpd = make_server(
        host,
        port,
        _logged(app, stream),
        server_class=_server_class(host, stream),
        handler_class=_Handler,
    )
    try:
        bound_port = httpd.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        _write(
            stream,
            f"describe-images: serving {ACTION} {VERSION} on "
            f"http://{shown_host}:{bound_port}{PATH} from {catalog_name} ({len(catalog)} images)",
        )
        if verify is None:
            _write(
                stream,
                "describe-images: WARNING: signatures are NOT verified; any caller is answered",
            )
        _write(stream, "describe-images: press Ctrl-C to stop")
        if ready is not None:
            ready(httpd)
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    _write(stream, "describe-images: stopped")


def __dir__() -> list[str]:
    return sorted(__all__)
