"""The stdlib HTTP runner of the reference server: :func:`serve` (spec/README.md §3.4).

:mod:`describe_images.server` holds the WSGI application (:func:`make_app`) and re-exports
:func:`serve` from here; this module holds only the HTTP serving around it.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, TextIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._catalog import default_catalog
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._response import Image
from ._signing import Verifier
from ._spec import ACTION, PATH, VERSION
from .server import DEFAULT_MAX_BODY_BYTES, OUTCOME_KEY, make_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["serve"]


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
