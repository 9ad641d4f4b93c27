"""``serve`` under load and abuse, over real loopback sockets: concurrent clients, stalled
clients, floods of connections, the stdlib's own refusals, chunked bodies, SIGTERM.

Bounded in count and time: a 0.5 s read timeout, at most a few hundred sockets.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from describe_images import AuthError, DescribeImagesRequest, UsageError, parse_query, signed_query
from describe_images._cli import main
from describe_images._cli import serve as cli_serve
from describe_images._deploy import MEMORY
from describe_images._http import (
    DEFAULT_READ_TIMEOUT,
    DEFAULT_THREADS,
    MAX_HEADER_BYTES,
    MAX_REQUEST_LINE,
    _Server,
)
from describe_images.server import serve
from tests.redis_server import free_port
from tests.seed import SEED_1_IMAGE
from tests.test_server import Live, start, stop

ROOT = Path(__file__).resolve().parent.parent
SEED_1 = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
FORM = "application/x-www-form-urlencoded"
TIMEOUT = 0.5


@pytest.fixture
def live() -> Iterator[Live]:
    server = start(read_timeout=TIMEOUT, threads=8)
    try:
        yield server
    finally:
        stop(server)


def raw_call(port: int, data: bytes, *, timeout: float = 10) -> bytes:
    """Send ``data`` on a fresh connection; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        raw.sendall(data)
        chunks = []
        while chunk := raw.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def split(reply: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def get(port: int, query: str = SEED_1) -> tuple[int, dict[str, str], bytes]:
    return split(raw_call(port, f"GET /v2/index.php?{query} HTTP/1.1\r\nHost: h\r\n\r\n".encode()))


def assert_seed_1(reply: tuple[int, dict[str, str], bytes]) -> None:
    status, headers, body = reply
    assert (status, headers["content-type"]) == (200, "application/json")
    data = json.loads(body)
    data["Response"].pop("RequestId")
    assert data == {"Response": {"ImageSet": [SEED_1_IMAGE], "TotalCount": 1}}


def assert_plain(reply: bytes, status: int, message: str) -> None:
    code, headers, body = split(reply)
    assert code == status
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["content-length"] == str(len(body))
    assert body.decode("ascii") == f"{message}\n"


@contextmanager
def stalled(
    port: int, count: int, data: bytes = b"GET /v2/index.php?Act"
) -> Iterator[list[socket.socket]]:
    """``count`` clients that sent ``data`` and then nothing."""
    with ExitStack() as stack:
        clients = []
        for _ in range(count):
            client = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            client.sendall(data)
            clients.append(client)
        yield clients


# --- Load -----------------------------------------------------------------------------------


def test_50_concurrent_clients_of_20_requests_are_all_answered(live: Live) -> None:
    def client(_: int) -> list[tuple[int, dict[str, str], bytes]]:
        return [get(live.port) for _ in range(20)]

    with ThreadPoolExecutor(50) as pool:
        replies = [reply for replies in pool.map(client, range(50)) for reply in replies]
    assert len(replies) == 1000
    for reply in replies:
        assert_seed_1(reply)
    ids = {json.loads(body)["Response"]["RequestId"] for _, _, body in replies}
    assert len(ids) == 1000
    assert len(re.findall(r" GET /v2/index.php 200 OK 1/1 ", live.log.getvalue())) == 1000


def test_threads_stay_bounded_under_a_flood(live: Live) -> None:
    before = threading.active_count()
    with stalled(live.port, 200):
        time.sleep(0.1)
        during = threading.active_count()
        assert_seed_1(get(live.port))
    # 8 workers (started already by the first requests or now), never one per connection.
    assert during <= before + 8
    assert len([t for t in threading.enumerate() if t.name.startswith("describe-images-")]) == 8


# --- Stalled clients --------------------------------------------------------------------------


def test_a_stalled_request_head_is_cut_off_within_the_timeout(live: Live) -> None:
    started = time.monotonic()
    reply = raw_call(live.port, b"GET /v2/index.php?Action=Describe")
    took = time.monotonic() - started
    assert TIMEOUT <= took < TIMEOUT + 1.0
    assert_plain(reply, 408, "408 Request Timeout: the request did not arrive within 0.5 s")
    assert (
        "127.0.0.1 read timeout: no whole request head after 0.5 s (33 bytes); disconnected\n"
        in live.log.getvalue()
    )


def test_a_client_that_never_sends_is_cut_off(live: Live) -> None:
    started = time.monotonic()
    reply = raw_call(live.port, b"")
    assert time.monotonic() - started < TIMEOUT + 1.0
    assert split(reply)[0] == 408
    assert "(0 bytes); disconnected" in live.log.getvalue()


def test_a_stalled_body_is_cut_off_within_the_timeout(live: Live) -> None:
    head = (
        f"POST /v2/index.php HTTP/1.1\r\nHost: h\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {len(SEED_1) + 10}\r\n\r\n"
    )
    started = time.monotonic()
    reply = raw_call(live.port, head.encode() + SEED_1.encode())  # 10 bytes short
    took = time.monotonic() - started
    assert TIMEOUT <= took < TIMEOUT + 1.0
    assert_plain(
        reply, 400, f"400 Bad Request: the body could not be read after {len(SEED_1)} bytes"
    )
    log = live.log.getvalue()
    assert re.search(r"127\.0\.0\.1 POST /v2/index\.php 400 - \d+\.\dms\n", log)
    assert re.search(
        r"127\.0\.0\.1 read timeout: the request body did not arrive within 0\.5 s; "
        r"disconnected after 0\.\d s\n",
        log,
    )


def test_a_request_is_answered_promptly_while_200_clients_stall(live: Live) -> None:
    with stalled(live.port, 200):
        time.sleep(0.05)
        started = time.monotonic()
        for _ in range(5):
            assert_seed_1(get(live.port))
        assert time.monotonic() - started < 1.0  # well inside the stalled ones' timeout
    # ... and each stalled one was cut off in its turn.


def test_stalled_clients_are_all_cut_off(live: Live) -> None:
    with stalled(live.port, 50) as clients:
        time.sleep(TIMEOUT + 0.5)
        for client in clients:
            client.settimeout(5)
            assert client.recv(100).startswith(b"HTTP/1.0 408 Request Timeout\r\n")
    assert live.log.getvalue().count("; disconnected\n") == 50


# --- Refusals the stdlib or the server makes itself -------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (
            b"GET /" + b"x" * MAX_REQUEST_LINE + b" HTTP/1.1\r\n\r\n",
            414,
            f"414 Request-URI Too Long: the request line is over {MAX_REQUEST_LINE} bytes",
        ),
        (
            b"GET /" + b"x" * MAX_REQUEST_LINE,  # no line end yet, and no room left for one
            414,
            f"414 Request-URI Too Long: the request line is over {MAX_REQUEST_LINE} bytes",
        ),
        (
            b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * (MAX_HEADER_BYTES // 8 + 1),
            431,
            f"431 Request Header Fields Too Large: the headers are over {MAX_HEADER_BYTES} bytes",
        ),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: b\r\n" % n for n in range(101)) + b"\r\n",
            431,
            "431 Request Header Fields Too Large: Too many headers",
        ),
        (
            b"GET / HTTP/1.1\r\nX: " + b"y" * 100 + b"\r\n\r\n",
            200,
            None,
        ),
        (
            b"GET / HTTP/9.9\r\n\r\n",
            505,
            "505 HTTP Version Not Supported: Invalid HTTP version (9.9)",
        ),
        (b"GET / HTTX/1.1\r\n\r\n", 400, "400 Bad Request: Bad request version ('HTTX/1.1')"),
        (
            b"GET / H\xe9\r\n\r\n",
            400,
            "400 Bad Request: Bad request version ('H\\xe9')",
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
            "501 Not Implemented: Transfer-Encoding gzip, chunked is not supported; "
            "send the body with a Content-Length, or chunked",
        ),
    ],
    ids=[
        "414",
        "414-unfinished",
        "431-bytes",
        "431-count",
        "200-control",
        "505",
        "400",
        "400-latin1",
        "501",
    ],
)
def test_the_servers_own_refusals_are_plain_text(
    live: Live, data: bytes, status: int, message: str | None
) -> None:
    reply = raw_call(live.port, data)
    if message is None:
        assert split(reply)[0] == status
    else:
        assert_plain(reply, status, message)
    assert b"<html" not in reply.lower() and b"Traceback" not in reply
    if status != 200:
        assert f"127.0.0.1 code {status}, message " in live.log.getvalue()


def test_over_max_connections_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Server, "max_connections", 5)
    server = start(read_timeout=TIMEOUT)
    try:
        with stalled(server.port, 5):
            time.sleep(0.1)
            assert_plain(
                raw_call(server.port, b"GET / HTTP/1.1\r\n\r\n"),
                503,
                "503 Service Unavailable: 5 connections are open, the most this server takes; "
                "try again shortly",
            )
        time.sleep(TIMEOUT + 0.3)  # the 5 were cut off: room again
        assert_seed_1(get(server.port))
    finally:
        stop(server)
    assert "127.0.0.1 code 503, message 5 connections open\n" in server.log.getvalue()


# --- Chunked bodies ---------------------------------------------------------------------------


def chunked_post(port: int, chunks: bytes, *, length: str = "") -> bytes:
    head = (
        f"POST /v2/index.php HTTP/1.1\r\nHost: h\r\nContent-Type: {FORM}\r\n"
        f"Transfer-Encoding: chunked\r\n{length}\r\n"
    )
    return raw_call(port, head.encode() + chunks)


def chunk(data: bytes, ext: bytes = b"") -> bytes:
    return b"%x%s\r\n%s\r\n" % (len(data), ext, data)


def test_a_chunked_post_is_dechunked(live: Live) -> None:
    body = SEED_1.encode()
    chunks = chunk(body[:10]) + chunk(body[10:30], b";name=value") + chunk(body[30:]) + b"0\r\n\r\n"
    assert_seed_1(split(chunked_post(live.port, chunks)))
    # Upper-case hex, trailers, and a Content-Length beside the chunks (ignored).
    chunks = b"%X\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (len(body), body)
    assert_seed_1(split(chunked_post(live.port, chunks, length="Content-Length: 3\r\n")))


def test_a_chunked_body_over_the_cap_is_413() -> None:
    server = start(read_timeout=TIMEOUT, max_body_bytes=100)
    try:
        reply = chunked_post(server.port, chunk(b"x" * 60) * 2 + b"0\r\n\r\n")
    finally:
        stop(server)
    assert_plain(reply, 413, "413 Content Too Large: the body is over 100 bytes")


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",  # not hex
        b"-1\r\n",
        b"3\r\nabcdef\r\n0\r\n\r\n",  # longer than its size
        b"10\r\nabc",  # ends early (the client closes its side)
        b"1" + b"0" * 17 + b"\r\n",  # 18 hex digits
        b"3;" + b"e" * 5000 + b"\r\nabc\r\n0\r\n\r\n",  # a line over 4096 bytes
        b"0\r\n" + b"X: 1\r\n" * 101 + b"\r\n",  # too many trailers
    ],
    ids=["not-hex", "negative", "too-long", "early-end", "18-digits", "long-line", "trailers"],
)
def test_a_malformed_chunked_body_is_400(live: Live, chunks: bytes) -> None:
    head = (
        f"POST /v2/index.php HTTP/1.1\r\nHost: h\r\nContent-Type: {FORM}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as raw:
        raw.sendall(head.encode() + chunks)
        raw.shutdown(socket.SHUT_WR)
        reply = raw.makefile("rb").read()
    status, _, body = split(reply)
    assert status == 400
    assert body.startswith(b"400 Bad Request: the body could not be read after ")


# --- Options and stopping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threads": 0}, "threads must be an int from 1 to 1024, not 0"),
        ({"threads": 1025}, "threads must be an int from 1 to 1024, not 1025"),
        ({"threads": True}, "threads must be an int from 1 to 1024, not True"),
        ({"threads": 2.0}, "threads must be an int from 1 to 1024, not 2.0"),
        ({"read_timeout": 0}, "read_timeout must be a finite number of seconds > 0, not 0"),
        ({"read_timeout": -1}, "read_timeout must be a finite number of seconds >= 0, not -1"),
        ({"read_timeout": float("inf")}, "read_timeout must be a finite number of seconds"),
        ({"read_timeout": "1"}, "read_timeout must be a finite number of seconds"),
    ],
)
def test_bad_options_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        serve("127.0.0.1", 0, log=io.StringIO(), **kwargs)


def test_shutdown_lets_a_request_in_flight_finish() -> None:
    server = start(read_timeout=2.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        head = (
            f"POST /v2/index.php HTTP/1.1\r\nHost: h\r\nContent-Type: {FORM}\r\n"
            f"Content-Length: {len(SEED_1)}\r\n\r\n"
        )
        raw.sendall(head.encode() + SEED_1.encode()[:5])
        time.sleep(0.2)  # the head is in: a worker is reading the body
        stopper = threading.Thread(target=stop, args=(server,))
        stopper.start()
        time.sleep(0.2)
        raw.sendall(SEED_1.encode()[5:])
        reply = raw.makefile("rb").read()
        stopper.join(10)
    assert_seed_1(split(reply))
    assert server.log.getvalue().endswith("describe-images: stopped\n")


def serve_process(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "describe_images", "serve", "--port", "0", *options],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child is POSIX-only")
def test_sigterm_stops_a_real_process_cleanly() -> None:
    with serve_process("--read-timeout", "0.5", "--threads", "2") as child:
        assert child.stderr is not None
        lines = [child.stderr.readline() for _ in range(3)]
        assert lines[2] == "describe-images: press Ctrl-C to stop\n"
        port = int(re.search(r":(\d+)/v2/index\.php", lines[0]).group(1))  # type: ignore[union-attr]
        assert_seed_1(get(port))
        with stalled(port, 3):  # stalled clients do not hold the stop up
            child.send_signal(signal.SIGTERM)
            assert child.wait(10) == 0
        rest = child.stderr.read()
    assert rest.splitlines()[-1] == "describe-images: stopped"
    assert "Traceback" not in rest


# --- The command line's options -----------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What describe_images.server.serve is called with (it returns at once)."""
    seen: dict[str, Any] = {}

    def fake_serve(host: str, port: int, images: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr("describe_images.server.serve", fake_serve)
    return seen


@pytest.fixture
def credentials(tmp_path: Path) -> str:
    path = tmp_path / "keys.json"
    path.write_text('{"AKIDx": "key"}')
    return str(path)


def cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    status = main(list(argv), out=io.StringIO(), err=err)
    return status, err.getvalue()


def test_threads_and_read_timeout_are_passed_on(served: dict[str, Any]) -> None:
    assert cli("serve", "--threads", "3", "--read-timeout", "0.25") == (0, "")
    assert (served["threads"], served["read_timeout"]) == (3, 0.25)
    assert cli("serve") == (0, "")
    assert (served["threads"], served["read_timeout"]) == (DEFAULT_THREADS, DEFAULT_READ_TIMEOUT)


def test_the_command_lines_defaults_are_the_servers() -> None:
    assert (cli_serve.DEFAULT_THREADS, cli_serve.DEFAULT_READ_TIMEOUT) == (
        DEFAULT_THREADS,
        DEFAULT_READ_TIMEOUT,
    )
    assert cli_serve.MEMORY == MEMORY


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--threads", "0"), "argument --threads: threads are 1 to 1024, not '0'"),
        (("--threads", "1025"), "argument --threads: threads are 1 to 1024, not '1025'"),
        (("--threads", "٣"), "argument --threads: threads are 1 to 1024, not '٣'"),
        (("--threads", "+3"), "argument --threads: threads are 1 to 1024, not '+3'"),
        (("--threads", "9" * 50), f"argument --threads: threads are 1 to 1024, not {'9' * 20!r}"),
        (
            ("--read-timeout", "0"),
            "argument --read-timeout: seconds must be a finite number > 0, not '0'",
        ),
        (
            ("--read-timeout", "-1"),
            "argument --read-timeout: seconds must be a finite number > 0, not '-1'",
        ),
        (
            ("--read-timeout", "nan"),
            "argument --read-timeout: seconds must be a finite number > 0, not 'nan'",
        ),
        (
            ("--nonce-store", "memory"),
            "--nonce-store checks replays of signed requests: it needs --credentials",
        ),
    ],
)
def test_bad_serve_options_are_usage_errors(
    served: dict[str, Any], argv: tuple[str, ...], message: str
) -> None:
    status, err = cli("serve", *argv)
    assert status == 2
    assert err == f"describe-images serve: error: {message}\n"
    assert served == {}


def test_nonce_store_options(served: dict[str, Any], credentials: str, redis_url: str) -> None:
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",))
    for store in (None, "memory", redis_url):
        argv = ["serve", "--credentials", credentials] + (["--nonce-store", store] if store else [])
        assert cli(*argv) == (0, "")
        hook = served["verify"]
        pairs = parse_query(signed_query(request, secret_id="AKIDx", secret_key="key", host="h"))
        hook("GET", "h", "/v2/index.php", pairs)
        with pytest.raises(AuthError) as replayed:
            hook("GET", "h", "/v2/index.php", pairs)
        assert replayed.value.code == "InvalidRequest.ReplayAttack"
    status, err = cli("serve", "--credentials", credentials, "--nonce-store", "redis://h:1/x")
    assert (status, err) == (
        2,
        "describe-images serve: error: the database of a Redis URL is a number "
        "(redis://HOST:PORT/0), not 'redis://h:1/x'\n",
    )
    assert cli("serve", "--credentials", credentials, "--nonce-store", "mem")[0] == 2


def test_a_redis_that_does_not_answer_is_a_warning(
    served: dict[str, Any], credentials: str
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    status, err = cli("serve", "--credentials", credentials, "--nonce-store", url)
    assert (status, err) == (
        0,
        f"describe-images serve: warning: the nonce store {url} does not answer; every signed "
        "request is refused until it does\n",
    )
    assert callable(served["verify"])
