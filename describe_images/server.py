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
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Final, TextIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._catalog import default_catalog
from ._decode import decode_request
from ._errors import ErrorCode, RequestError, envelope
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._pairs import parse_query
from ._query import run
from ._response import Image
from ._spec import ACTION, PATH, VERSION

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "API_PATHS",
    "DEFAULT_MAX_BODY_BYTES",
    "OUTCOME_KEY",
    "Verifier",
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
JSON_HEADERS: Final = [("Content-Type", "application/json")]
INTERNAL_ERROR_MESSAGE: Final = (
    "the server failed to answer this request; quote the RequestId when you report it"
)

#: ``verify(method, host, path, pairs)``: raises a :class:`RequestError` subclass (e.g.
#: ``AuthError``) to refuse the call; called after the query is parsed, before it is
#: decoded, so an unsigned call is refused whatever else is wrong with it.
Verifier = Callable[[str, str, str, list[tuple[str, str]]], None]

logger = logging.getLogger(__name__)


class _HttpRefusal(Exception):
    """An answer outside the API (404, 405, 411, 413, 415, 400): no envelope."""

    def __init__(self, status: str, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or []


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
    HTTP status. It never lets an exception reach the WSGI server.

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
            status, headers, body = _answer(environ, catalog, max_body_bytes, limits, verify)
        except _HttpRefusal as refusal:
            environ[OUTCOME_KEY] = "-"
            status, body = refusal.status, f"{refusal.status}: {refusal}\n".encode()
            headers = [("Content-Type", "text/plain; charset=utf-8"), *refusal.headers]
        except Exception:
            # spec/README.md §3.4: never a traceback on the wire. The traceback goes
            # to the log with the RequestId the client sees.
            request_id = str(uuid.uuid4())
            logger.exception("internal error answering RequestId %s", request_id)
            environ[OUTCOME_KEY] = ErrorCode.INTERNAL_ERROR.value
            status, headers = "200 OK", list(JSON_HEADERS)
            body = _json(envelope(ErrorCode.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, request_id))
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return app


def _json(payload: object) -> bytes:
    # ASCII-only and compact: no client can get the charset wrong (spec/README.md §3.4).
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def _answer(
    environ: WSGIEnvironment,
    catalog: tuple[Image, ...],
    max_body_bytes: int,
    limits: WireLimits,
    verify: Verifier | None,
) -> tuple[str, list[tuple[str, str]], bytes]:
    path = environ.get("PATH_INFO") or "/"
    if path not in API_PATHS:
        raise _HttpRefusal("404 Not Found", f"no API at {path!r}; send calls to {PATH}")
    method = environ.get("REQUEST_METHOD", "")
    if method == "GET":
        raw = _environ_bytes(environ.get("QUERY_STRING", ""))
    elif method == "POST":
        # The API documents POST parameters as the form body only: the query string of a
        # POST is ignored, never merged (spec/README.md §3.4).
        raw = _read_form(environ, max_body_bytes)
    else:
        raise _HttpRefusal(
            "405 Method Not Allowed",
            f"{method} is not allowed; use GET or POST",
            [("Allow", "GET, POST")],
        )
    request_id = str(uuid.uuid4())
    try:
        pairs = parse_query(raw, limits=limits)
        if verify is not None:
            verify(method, _host(environ), environ.get("SCRIPT_NAME", "") + path, pairs)
        request = decode_request(pairs, limits=limits)
        response = run(request, catalog, request_id=request_id)
    except RequestError as exc:
        environ[OUTCOME_KEY] = exc.code
        return "200 OK", list(JSON_HEADERS), _json(exc.to_response(request_id))
    environ[OUTCOME_KEY] = f"OK {len(response.image_set)}/{response.total_count}"
    return "200 OK", list(JSON_HEADERS), response.to_json().encode("ascii")


def _environ_bytes(text: str) -> bytes:
    # PEP 3333: environ strings carry the raw bytes as latin-1. A server that broke the
    # rule (a character above U+00FF) most likely meant UTF-8.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _read_form(environ: WSGIEnvironment, cap: int) -> bytes:
    media, *params = environ.get("CONTENT_TYPE", "").split(";")
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != FORM_TYPE or charset not in ("utf-8", "utf8"):
        shown = environ.get("CONTENT_TYPE", "") or "none"
        raise _HttpRefusal(
            "415 Unsupported Media Type",
            f"a POST body must be {FORM_TYPE} (UTF-8), not {shown}",
        )
    stream = environ["wsgi.input"]
    length_text = environ.get("CONTENT_LENGTH", "").strip()
    if not length_text:
        if not environ.get("wsgi.input_terminated"):
            raise _HttpRefusal("411 Length Required", "a POST needs a Content-Length")
        # The server de-chunked the body and ends the stream: read one byte past the cap.
        body: bytes = stream.read(cap + 1)
        if len(body) > cap:
            raise _HttpRefusal("413 Content Too Large", f"the body is over {cap} bytes")
        return body
    if not length_text.isdigit() or not length_text.isascii():
        raise _HttpRefusal("400 Bad Request", f"Content-Length {length_text!r} is not a number")
    if len(length_text) > len(str(cap)) or int(length_text) > cap:
        raise _HttpRefusal(
            "413 Content Too Large", f"the body is {length_text} bytes; at most {cap} are allowed"
        )
    length = int(length_text)
    chunks: list[bytes] = []
    got = 0
    while got < length:
        chunk = stream.read(length - got)
        if not chunk:
            raise _HttpRefusal("400 Bad Request", f"the body ended after {got} of {length} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _host(environ: WSGIEnvironment) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name, port = environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
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
) -> int:
    """Serve DescribeImages on ``host:port`` with wsgiref until Ctrl-C; returns 0.

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
    return 0
