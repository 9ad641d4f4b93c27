"""The stdlib HTTP runner of the reference server: :func:`serve`
(README.md#the-serve-http-server).

:mod:`describe_images.server` holds the WSGI application (:func:`make_app`) and re-exports
:func:`serve` from here; this module holds only the HTTP serving around it, built for a
test suite's load on one machine (production: gunicorn, README "Production"):

- one thread (the caller's) accepts connections and reads each request head without
  blocking, so a client that connects and stalls holds a socket, never a thread;
- a fixed pool of ``threads`` workers answers the requests whose head has arrived;
- each request must arrive whole within ``read_timeout`` seconds of its connection
  (head and body), else the client is answered 408 (or 400 mid-body), cut off and logged;
- at most :data:`MAX_CONNECTIONS` are open at once (503 beyond), the listen backlog is
  :data:`BACKLOG`; SIGTERM stops the server as Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import io
import re
import selectors
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from queue import SimpleQueue
from typing import IO, TYPE_CHECKING, Any, Final, TextIO, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from ._catalog import default_catalog
from ._errors import UsageError
from ._grammar import DEFAULT_LIMITS, WireLimits, shown_argument
from ._nonces import seconds
from ._response import Image
from ._signing import Verifier
from ._spec import ACTION, PATH, VERSION
from ._tc3 import Tc3Verifier
from .server import DEFAULT_MAX_BODY_BYTES, OUTCOME_KEY, make_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["serve"]

#: Worker threads answering requests (the accepting thread is the caller's).
DEFAULT_THREADS: Final = 16
#: Seconds a connection has to deliver its whole request.
DEFAULT_READ_TIMEOUT: Final = 10.0
#: The listen backlog (the kernel caps it at ``net.core.somaxconn``).
BACKLOG: Final = 1024
#: Open connections at most; one more is answered 503 and closed.
MAX_CONNECTIONS: Final = 1000
#: The longest request line, as the stdlib's (over it: 414).
MAX_REQUEST_LINE: Final = 65536
#: The header lines of a request together, at most (over it: 431).
MAX_HEADER_BYTES: Final = 32768
#: A chunk-size line or a trailer line of a chunked body, at most.
MAX_CHUNK_LINE: Final = 4096

# The end of a request head: the empty line after the request line and the headers (the
# stdlib reads bare LF line ends too).
_HEAD_END: Final = re.compile(rb"\n\r?\n")
_CHUNK_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")


# --- the log ------------------------------------------------------------------------------

_LOG_LOCK = threading.Lock()


def _write(stream: TextIO, line: str) -> None:
    with _LOG_LOCK:
        stream.write(line + "\n")
        stream.flush()


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


def _plain(code: int, message: str) -> bytes:
    """A whole HTTP/1.0 answer in the app's plain-text style (README.md#the-serve-http-server)."""
    status = f"{code} {_phrase(code)}"
    body = f"{status}: {message}\n".encode("ascii", "backslashreplace")
    head = (
        f"HTTP/1.0 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


# --- reading a request ----------------------------------------------------------------------


class _Cut(OSError):
    """The request did not arrive in time, or its body is not valid chunked coding: the
    app reads it as a body that could not be read (400)."""


class _SocketInput(io.RawIOBase):
    """A connection's bytes: first the ones the accepting thread read, then the socket's,
    each read bounded by what is left of the request's deadline."""

    def __init__(self, connection: socket.socket, head: bytearray, deadline: float) -> None:
        self._connection = connection
        self._head = memoryview(bytes(head))
        self._deadline = deadline
        self.timed_out = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        left = self._deadline - time.monotonic()
        if left <= 0:
            self.timed_out = True
            raise _Cut("read timeout")
        self._connection.settimeout(left)
        try:
            return self._connection.recv_into(buffer)
        except TimeoutError:
            self.timed_out = True
            raise


class _Dechunked(io.RawIOBase):
    """A ``Transfer-Encoding: chunked`` body, de-chunked (RFC 9112 §7.1): chunk sizes in
    hex (extensions ignored), then the trailers, which are read and dropped."""

    def __init__(self, stream: io.BufferedIOBase) -> None:
        self._stream = stream
        self._left = 0  # bytes of the current chunk not read yet
        self._done = False

    def readable(self) -> bool:
        return True

    def _line(self) -> bytes:
        line = self._stream.readline(MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\n"):
            raise _Cut("the chunked body ended early, or has a line over 4096 bytes")
        return line.rstrip(b"\r\n")

    def readinto(self, buffer: Any) -> int:
        if self._done or not len(buffer):
            return 0
        if not self._left:
            size = self._line().split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size):
                raise _Cut("a chunk size is not hexadecimal")
            self._left = int(size, 16)
            if not self._left:
                for _ in range(100):  # the trailers, until the empty line
                    if not self._line():
                        self._done = True
                        return 0
                raise _Cut("a chunked body has over 100 trailer lines")
        count = self._stream.readinto(memoryview(buffer)[: min(len(buffer), self._left)])
        if not count:
            raise _Cut("the chunked body ended early")
        self._left -= count
        if not self._left and self._line():
            raise _Cut("a chunk is longer than its size")
        return count


class _Input(io.RawIOBase):
    """``wsgi.input``: each read gives what has arrived (at least a byte, until the end),
    so when a body stalls the app has the bytes that came before, and says how many."""

    def __init__(self, stream: io.BufferedIOBase) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._stream.readinto1(buffer)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read1(size)


class _Output(io.BufferedIOBase):
    """A connection's answer: each write sent whole, waiting at most ``timeout`` seconds
    for a client that does not read."""

    def __init__(self, connection: socket.socket, timeout: float) -> None:
        self._connection = connection
        self._timeout = timeout

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._connection.settimeout(self._timeout)
        self._connection.sendall(data)
        return len(data)


@dataclass
class _Accepted:
    """A connection whose request head has arrived (or that is to be refused)."""

    connection: socket.socket
    address: tuple[Any, ...]
    deadline: float
    opened: float = field(default_factory=time.monotonic)
    head: bytearray = field(default_factory=bytearray)
    scanned: int = 0  # where to look for the end of the head next


class _Handler(WSGIRequestHandler):
    """wsgiref's handler over an :class:`_Accepted` connection: the head already read,
    chunked bodies de-chunked, its own errors in the app's plain-text style, and the
    per-request line :func:`_logged`'s."""

    server: _Server

    def setup(self) -> None:
        accepted: _Accepted = self.request
        self.connection = accepted.connection
        self.input = _SocketInput(accepted.connection, accepted.head, accepted.deadline)
        self.reader = io.BufferedReader(self.input)
        self.rfile = self.reader
        self.wfile = _Output(accepted.connection, self.server.read_timeout)

    def handle(self) -> None:
        # wsgiref's handle(), with the 414 message, Transfer-Encoding and a threaded
        # ServerHandler; one request per connection (README.md#the-serve-http-server).
        self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414, f"the request line is over {MAX_REQUEST_LINE} bytes")
            return
        if not self.parse_request():
            return
        stdin: io.BufferedIOBase = self.reader
        environ = self.get_environ()
        codings = [
            coding.strip().lower()
            for value in self.headers.get_all("Transfer-Encoding", [])
            for coding in value.split(",")
            if coding.strip()
        ]
        if codings:
            if codings != ["chunked"]:
                self.send_error(
                    501,
                    f"Transfer-Encoding {', '.join(codings)[:100]} is not supported; "
                    "send the body with a Content-Length, or chunked",
                )
                return
            # The length comes from the chunks: a Content-Length beside them is dropped
            # (RFC 9112 §6.3), and the app reads the stream to its end.
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input_terminated"] = True
            stdin = io.BufferedReader(_Dechunked(self.reader))
        output = cast("IO[bytes]", self.wfile)
        handler = ServerHandler(
            cast("IO[bytes]", _Input(stdin)), output, self.get_stderr(), environ, multithread=True
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # as wsgiref does
        handler.run(self.server.wsgi_app)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib's 400, 414, 431 and 505, and this handler's 501: plain text, as the
        # app's own refusals are, never the stdlib's HTML page.
        text = message or _phrase(code)
        self.log_message("code %d, message %s", code, text[:200])
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(_plain(code, text[:200]))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        _write(self.server.log_stream, f"{self.address_string()} {format % args}")


# --- the server ---------------------------------------------------------------------------


class _Server(WSGIServer):
    """A WSGIServer whose accepting thread reads request heads without blocking and hands
    whole ones to a fixed pool of worker threads (see the module docstring)."""

    request_queue_size = BACKLOG
    max_connections = MAX_CONNECTIONS

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApplication,
        *,
        threads: int,
        read_timeout: float,
        log_stream: TextIO,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.threads = threads
        self.read_timeout = read_timeout
        self.log_stream = log_stream
        # Opened, head not whole yet: in the order they came, so the oldest expires first.
        self._reading: OrderedDict[int, _Accepted] = OrderedDict()
        self._open = 0  # reading, queued or being answered
        self._count_lock = threading.Lock()
        self._work: SimpleQueue[_Accepted | None] = SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._stopping = False
        self._stopped = threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_write.setblocking(False)  # a signal handler writes to it: never blocks
        super().__init__((host, port), _Handler)
        self.wsgi_app = app
        self.set_app(app)

    # The accepting thread.

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stopped.clear()
        for number in range(self.threads - len(self._workers)):
            worker = threading.Thread(
                target=self._answer_loop, name=f"describe-images-{number}", daemon=True
            )
            worker.start()
            self._workers.append(worker)
        self.socket.setblocking(False)
        self._wake_read.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            self._selector = selector
            try:
                while not self._stopping:
                    self._expire(time.monotonic())
                    oldest = next(iter(self._reading.values()), None)
                    wait = poll_interval
                    if oldest is not None:
                        wait = min(wait, max(0.0, oldest.deadline - time.monotonic()))
                    for key, _ in selector.select(wait):
                        if key.fileobj is self.socket:
                            self._accept()
                        elif key.fileobj is self._wake_read:
                            self._drain_wake()
                        else:
                            self._read_head(key.data)
            finally:
                self._stopping = False
                self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread) and wait until it has."""
        self.stop_soon()
        self._stopped.wait()

    def stop_soon(self) -> None:
        """Make :meth:`serve_forever` return soon (safe in a signal handler)."""
        self._stopping = True
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # the pipe is full (already woken) or closed
            self._wake_write.send(b"x")

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_read.recv(512):
                pass

    def _accept(self) -> None:
        for _ in range(64):  # a burst at a time; the loop comes back for the rest
            try:
                connection, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: the rest wait in the backlog
                _write(self.log_stream, f"describe-images: cannot accept: {exc}")
                time.sleep(0.1)  # the socket stays readable: do not spin
                return
            with self._count_lock:
                full = self._open >= self.max_connections
                self._open += not full
            if full:
                _write(
                    self.log_stream,
                    f"{address[0]} code 503, message {self.max_connections} connections open",
                )
                self._refuse(
                    connection,
                    503,
                    f"{self.max_connections} connections are open, the most this server "
                    "takes; try again shortly",
                    counted=False,
                )
                continue
            connection.setblocking(False)
            now = time.monotonic()
            accepted = _Accepted(connection, address, now + self.read_timeout, now)
            self._reading[connection.fileno()] = accepted
            self._selector.register(connection, selectors.EVENT_READ, accepted)

    def _read_head(self, accepted: _Accepted) -> None:
        try:
            data = accepted.connection.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # closed before a whole head: nothing to answer
            self._forget(accepted)
            self._close(accepted.connection)
            return
        head = accepted.head
        head += data
        line_end = head.find(b"\n")
        if line_end < 0 or line_end >= MAX_REQUEST_LINE:
            if line_end >= 0 or len(head) > MAX_REQUEST_LINE:
                self._forget(accepted)
                self._log(
                    accepted, f"code 414, message the request line is over {MAX_REQUEST_LINE} bytes"
                )
                self._refuse(
                    accepted.connection, 414, f"the request line is over {MAX_REQUEST_LINE} bytes"
                )
            return
        # A request line without a version (HTTP/0.9, or garbage) has no headers: the
        # handler answers it now.
        # The end is searched for in the new bytes only (and the 2 before them): a head
        # that trickles in a byte at a time costs linear time, not quadratic.
        start = max(line_end, accepted.scanned - 2)
        accepted.scanned = len(head)
        whole = len(head[:line_end].split()) < 3 or _HEAD_END.search(head, start) is not None
        if whole:
            self._forget(accepted)
            accepted.connection.setblocking(True)
            self._work.put(accepted)
        elif len(head) - line_end - 1 > MAX_HEADER_BYTES:
            self._forget(accepted)
            self._log(accepted, f"code 431, message the headers are over {MAX_HEADER_BYTES} bytes")
            self._refuse(accepted.connection, 431, f"the headers are over {MAX_HEADER_BYTES} bytes")

    def _expire(self, now: float) -> None:
        while self._reading:
            accepted = next(iter(self._reading.values()))
            if accepted.deadline > now:
                return
            self._forget(accepted)
            message = (
                f"read timeout: no whole request head after {self.read_timeout:g} s "
                f"({len(accepted.head)} bytes); disconnected"
            )
            self._log(accepted, message)
            self._refuse(
                accepted.connection,
                408,
                f"the request did not arrive within {self.read_timeout:g} s",
            )

    def _forget(self, accepted: _Accepted) -> None:
        self._reading.pop(accepted.connection.fileno(), None)
        self._selector.unregister(accepted.connection)

    def _log(self, accepted: _Accepted, message: str) -> None:
        _write(self.log_stream, f"{accepted.address[0]} {message}")

    def _refuse(
        self, connection: socket.socket, code: int, message: str, *, counted: bool = True
    ) -> None:
        """Answer ``code`` without waiting for the client (a stalled one may never read)."""
        with contextlib.suppress(OSError):
            connection.setblocking(False)
            connection.send(_plain(code, message))
        self._close(connection, counted=counted)

    def _close(self, connection: socket.socket, *, counted: bool = True) -> None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_WR)
        connection.close()
        if counted:
            with self._count_lock:
                self._open -= 1

    # The workers.

    def _answer_loop(self) -> None:
        while True:
            accepted = self._work.get()
            if accepted is None:
                return
            try:
                self._answer(accepted)
            finally:
                self._close(accepted.connection)

    def _answer(self, accepted: _Accepted) -> None:
        handler: _Handler | None = None
        try:
            # The "request" is the _Accepted connection, which _Handler.setup() reads.
            handler = _Handler(accepted, accepted.address, self)  # type: ignore[arg-type]
        except OSError as exc:  # the client went away, or stopped reading the answer
            _write(self.log_stream, f"{accepted.address[0]} connection error: {exc!r}")
        except Exception as exc:  # wsgiref's own failure; the app never raises
            _write(self.log_stream, f"{accepted.address[0]} server error: {exc!r}")
        if handler is not None and handler.input.timed_out:
            took = time.monotonic() - accepted.opened
            self._log(
                accepted,
                f"read timeout: the request body did not arrive within "
                f"{self.read_timeout:g} s; disconnected after {took:.1f} s",
            )

    def server_close(self) -> None:
        """Close the listening socket and every connection still reading its head; let
        the workers finish the requests they have (at most ``read_timeout`` more)."""
        super().server_close()
        for accepted in list(self._reading.values()):
            self._reading.pop(accepted.connection.fileno(), None)
            self._close(accepted.connection)
        for _ in self._workers:
            self._work.put(None)
        deadline = time.monotonic() + self.read_timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._workers.clear()
        self._wake_read.close()
        self._wake_write.close()


# --- serve -----------------------------------------------------------------------------------


def _threads(value: object) -> int:
    if type(value) is int and 1 <= value <= 1024:
        return value
    raise UsageError(f"threads must be an int from 1 to 1024, not {shown_argument(value)}")


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    images: Iterable[Image] | None = None,
    *,
    verify: Verifier | None = None,
    verify_tc3: Tc3Verifier | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    limits: WireLimits = DEFAULT_LIMITS,
    log: TextIO | None = None,
    catalog_name: str = "the embedded catalog",
    ready: Callable[[WSGIServer], object] | None = None,
    threads: int = DEFAULT_THREADS,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> None:
    """Serve DescribeImages on ``host:port`` until Ctrl-C or SIGTERM, then return.

    Logs a start line, one line per request and a stop line to ``log`` (stderr by
    default). ``port=0`` picks a free port (the start line names it). ``threads``
    workers (1 to 1024) answer requests; a connection has ``read_timeout`` seconds (> 0)
    to deliver its whole request. ``ready`` is called with the bound server before
    serving (tests use it to learn the port and to stop it with ``server.shutdown()``
    from another thread). Binding errors raise ``OSError``; bad options ``UsageError``.
    """
    workers = _threads(threads)
    timeout = seconds("read_timeout", read_timeout, finite=True, non_negative=True)
    if not timeout:
        raise UsageError("read_timeout must be a finite number of seconds > 0, not 0")
    stream = sys.stderr if log is None else log
    catalog = default_catalog() if images is None else tuple(images)
    app = make_app(
        catalog, max_body_bytes=max_body_bytes, limits=limits, verify=verify,
        verify_tc3=verify_tc3,
    )  # fmt: skip
    httpd = _Server(
        host,
        port,
        _logged(app, stream),
        threads=workers,
        read_timeout=timeout,
        log_stream=stream,
    )
    previous = _on_sigterm(httpd)
    try:
        bound_port = httpd.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        _write(
            stream,
            f"describe-images: serving {ACTION} {VERSION} on "
            f"http://{shown_host}:{bound_port}{PATH} from {catalog_name} ({len(catalog)} images)",
        )
        if verify is None and verify_tc3 is None:
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
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        httpd.server_close()
    _write(stream, "describe-images: stopped")


def _on_sigterm(httpd: _Server) -> Any:
    """Make SIGTERM stop ``httpd`` as Ctrl-C does; the previous handler, or None when this
    is not the main thread (only it can set one)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: object) -> None:
        # The accepting loop sees the flag once woken; nothing is interrupted half-way.
        httpd.stop_soon()

    return signal.signal(signal.SIGTERM, stop)
