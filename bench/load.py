"""Load and replay figures for the production side (issue 10), loopback only, bounded.

    python bench/load.py serve      # describe-images serve, 50 concurrent clients
    python bench/load.py gunicorn   # gunicorn 2 workers x 4 threads, 50 concurrent clients
    python bench/load.py replay     # one signed request x 20 under gunicorn 4 workers:
                                    # MemoryNonceStore (accepted N times) vs Redis (once)

Every server is started on 127.0.0.1 at a free port and stopped at the end. The load is
seed Example 1 (a GET of ``ImageIds.0=img-pmqg1cw7``) from ``--processes`` client processes
of ``--clients / --processes`` threads each, ``--requests`` per client, stopped after
``--max-seconds`` whatever the count. It prints req/s and p50/p99/max latency.

The client is wrk (Debian's ``wrk`` package) when it is on PATH, or ``--client python``: a
Python client costs the 2-core machine more CPU per request than the server under test
(``client_cpu_s``), so it caps the figure; wrk, written in C, barely does. wrk runs for
``--seconds`` with ``--clients`` connections on one thread, and a Lua hook counts every
answer that is not HTTP 200 with ``"TotalCount":1`` in its body (``errors``), since the
API answers its own errors with HTTP 200.

``--connection close`` (the default) opens a new connection for every request.
``--connection keep-alive`` keeps one connection per client open across its requests, as
the official SDKs do (their ``requests.Session`` pools connections); a client reconnects
whenever the server closes (``serve`` answers one request per connection).

``replay`` needs Redis: ``DESCRIBE_IMAGES_REDIS_URL`` or a ``redis-server`` on PATH (a
private one is started on a free port).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from describe_images import (  # noqa: E402  # the checkout's package, not an installed one
    DescribeImagesRequest,
    MemoryNonceStore,
    make_verifier,
    signed_query,
)
from describe_images.server import make_app  # noqa: E402

SEED_1 = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
SECRET_ID, SECRET_KEY = "AKIDloadBench", "load-bench-key"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def memory_app() -> Any:
    """The deployment the issue measured: make_app + make_verifier + a MemoryNonceStore,
    one per worker (create_app refuses it under several workers)."""
    return make_app(verify=make_verifier({SECRET_ID: SECRET_KEY}, nonces=MemoryNonceStore()))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            one_request(port, b"GET /nope HTTP/1.0\r\n\r\n")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


@contextmanager
def running(command: list[str], port: int, env: dict[str, str]) -> Iterator[None]:
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, cwd=ROOT, env=env)
        try:
            wait_port(port, process)
            time.sleep(1.0)  # every worker booted
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def get_request(query: str, host: str, *, close: bool = True) -> bytes:
    # Connection: close, or a keep-alive server (gunicorn's threaded worker) holds the
    # connection open after its answer and the client waits out its keep-alive timeout.
    connection = "Connection: close\r\n" if close else ""
    return f"GET /v2/index.php?{query} HTTP/1.1\r\nHost: {host}\r\n{connection}\r\n".encode()


def one_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(data)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


class Persistent:
    """One client's connection, kept open across requests and reopened when the server
    closes it. Answers are read by their Content-Length (every answer here has one)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: Any = None
        self.connection: socket.socket | None = None

    def request(self, data: bytes) -> bytes:
        if self.connection is None:
            self.connection = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.reader = self.connection.makefile("rb")
        self.connection.sendall(data)
        head = [self.reader.readline()]
        while head[-1] not in (b"\r\n", b""):
            head.append(self.reader.readline())
        fields = dict(
            line.decode("latin-1").rstrip("\r\n").lower().split(": ", 1)
            for line in head[1:-1]
        )
        body: bytes = self.reader.read(int(fields.get("content-length", "0")))
        # HTTP/1.0 (serve's wsgiref) closes unless it says keep-alive; 1.1 unless close.
        connection = fields.get("connection")
        if head[0].startswith(b"HTTP/1.0"):
            stays_open = connection == "keep-alive"
        else:
            stays_open = bool(head[0]) and connection != "close"
        if not stays_open:
            self.close()
        return b"".join(head) + body

    def close(self) -> None:
        if self.connection is not None:
            self.reader.close()
            self.connection.close()
            self.connection = None


# --- load -----------------------------------------------------------------------------------


def client_process(
    port: int, threads: int, requests: int, stop_at: float, start_at: float, keep_alive: bool
) -> Any:
    """In a child: ``threads`` clients of ``requests`` each; their latencies and errors."""
    data = get_request(SEED_1, "127.0.0.1", close=not keep_alive)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        mine: list[float] = []
        persistent = Persistent(port)
        for _ in range(requests):
            if time.time() > stop_at:
                break
            started = time.perf_counter()
            try:
                reply = persistent.request(data) if keep_alive else one_request(port, data)
            except (OSError, ValueError) as exc:
                persistent.close()
                with lock:
                    errors.append(repr(exc))
                continue
            mine.append(time.perf_counter() - started)
            if b'"TotalCount":1' not in reply:
                with lock:
                    errors.append(reply[:80].decode("latin-1"))
        persistent.close()
        with lock:
            latencies.extend(mine)

    time.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, errors, time.process_time() - cpu


def load(
    port: int, clients: int, processes: int, requests: int, max_seconds: float, keep_alive: bool
) -> dict[str, Any]:
    context = get_context("spawn")
    start_at = time.time() + 2.0
    stop_at = start_at + max_seconds
    per = [clients // processes + (n < clients % processes) for n in range(processes)]
    with context.Pool(processes) as pool:
        jobs = [
            pool.apply_async(
                client_process, (port, threads, requests, stop_at, start_at, keep_alive)
            )
            for threads in per
        ]
        results = [job.get(max_seconds + 60) for job in jobs]
    took = time.time() - start_at
    latencies = sorted(t for result in results for t in result[0])
    errors = [e for result in results for e in result[1]]
    client_cpu = sum(result[2] for result in results)

    def percentile(p: float) -> float:
        return float(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000)

    return {
        "connection": "keep-alive" if keep_alive else "close",
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(took, 2),
        "req_per_s": round(len(latencies) / took, 1),
        "p50_ms": round(percentile(0.50), 1),
        "p99_ms": round(percentile(0.99), 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        # The client's own CPU seconds: on 2 cores shared with the server, the client's
        # share caps what the server can be measured at.
        "client_cpu_s": round(client_cpu, 2),
    }


# A wrk script: count the answers that are not Example 1's, over all of wrk's threads.
WRK_CHECK = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) wrong = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"TotalCount":1', 1, true) then
    wrong = wrong + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("wrong") end
  io.write(string.format("WRONG %d\\n", total))
  for _, p in ipairs({50, 99}) do
    io.write(string.format("P%d %d\\n", p, latency:percentile(p)))
  end
  io.write(string.format("MAX %d\\nREQUESTS %d\\nSECONDS %d\\n",
    latency.max, summary.requests, summary.duration))
  local e = summary.errors
  io.write(string.format("SOCKET %d\\n", e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_load(port: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_CHECK)
        script.flush()
        headers = ["-H", "Connection: close"] if args.connection == "close" else []
        command = [
            "wrk", "-t1", f"-c{args.clients}", f"-d{args.seconds}s", "--timeout", "10s",
            "-s", script.name, *headers, f"http://127.0.0.1:{port}/v2/index.php?{SEED_1}",
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    # The script's "NAME number" lines, below wrk's own report.
    fields = [line.split() for line in output.splitlines()]
    figures = {f[0]: int(f[1]) for f in fields if len(f) == 2 and f[0].isupper()}
    seconds = figures["SECONDS"] / 1e6
    return {
        "client": "wrk",
        "connection": args.connection,
        "requests": figures["REQUESTS"],
        "errors": figures["WRONG"] + figures["SOCKET"],
        "seconds": round(seconds, 2),
        "req_per_s": round(figures["REQUESTS"] / seconds, 1),
        "p50_ms": round(figures["P50"] / 1000, 1),
        "p99_ms": round(figures["P99"] / 1000, 1),
        "max_ms": round(figures["MAX"] / 1000, 1),
    }


def drive(port: int, args: argparse.Namespace) -> dict[str, Any]:
    """The load on ``port`` from the client ``args`` chose."""
    if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk")):
        return wrk_load(port, args)
    return {"client": "python", **load(
        port, args.clients, args.processes, args.requests, args.max_seconds,
        args.connection == "keep-alive",
    )}  # fmt: skip


def bench_serve(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, "-m", "describe_images", "serve", "--port", str(port)]
    with running([*command, "--threads", str(args.threads)], port, ENV):
        return drive(port, args)


def _no_control_socket() -> list[str]:
    # gunicorn 25+ opens a control socket in the home directory: not for a bench.
    try:
        import gunicorn.config  # type: ignore[import-untyped]  # gunicorn ships no types
    except ModuleNotFoundError:
        return []
    names = {setting.name for setting in gunicorn.config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


NO_CONTROL_SOCKET = _no_control_socket()


def gunicorn(port: int, workers: int, threads: int, app: str) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--timeout", "30",
        "--graceful-timeout", "2", "--log-level", "warning", *NO_CONTROL_SOCKET, app,
    ]  # fmt: skip


def bench_gunicorn(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with running(gunicorn(port, 2, 4, "describe_images.server:create_app()"), port, ENV):
        return drive(port, args)


# --- replay -----------------------------------------------------------------------------------


def replay_counts(port: int, rounds: int) -> dict[str, list[int]]:
    """Accepted answers to one signed request sent 20 times, per round: sequentially, then
    20 at once (a fresh request each time)."""
    counts: dict[str, list[int]] = {"sequential": [], "parallel": []}
    host = f"127.0.0.1:{port}"
    for _ in range(rounds):
        for mode in counts:
            query = signed_query(
                DescribeImagesRequest(image_ids=("img-pmqg1cw7",)),
                secret_id=SECRET_ID,
                secret_key=SECRET_KEY,
                host=host,
            )
            data = get_request(query, host)
            if mode == "sequential":
                replies = [one_request(port, data) for _ in range(20)]
            else:
                replies = at_once(port, data, 20)
            counts[mode].append(sum(b'"TotalCount":1' in reply for reply in replies))
    return counts


def at_once(port: int, data: bytes, count: int) -> list[bytes]:
    """``data`` sent on ``count`` connections at the same moment; the replies."""
    barrier = threading.Barrier(count)
    replies: list[bytes] = []

    def send() -> None:
        barrier.wait()
        replies.append(one_request(port, data))

    senders = [threading.Thread(target=send) for _ in range(count)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return replies


@contextmanager
def redis_url() -> Iterator[str]:
    url = os.environ.get("DESCRIBE_IMAGES_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("replay needs DESCRIBE_IMAGES_REDIS_URL or redis-server on PATH")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def bench_replay(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    port = free_port()
    with running(gunicorn(port, 4, 1, "bench.load:memory_app()"), port, ENV):
        out["memory_store_4_workers"] = replay_counts(port, args.rounds)
    with tempfile.TemporaryDirectory() as scratch, redis_url() as url:
        credentials = Path(scratch) / "credentials.json"
        credentials.write_text(json.dumps({SECRET_ID: SECRET_KEY}))
        env = {
            **ENV,
            "DESCRIBE_IMAGES_CREDENTIALS": str(credentials),
            "DESCRIBE_IMAGES_NONCE_STORE": url,
        }
        port = free_port()
        with running(gunicorn(port, 4, 1, "describe_images.server:create_app()"), port, env):
            out["redis_store_4_workers"] = replay_counts(port, args.rounds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("what", choices=["serve", "gunicorn", "replay"])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--requests", type=int, default=100, help="requests per client")
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--connection", choices=["close", "keep-alive"], default="close")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--seconds", type=int, default=10, help="wrk's run time")
    parser.add_argument("--threads", type=int, default=16, help="serve's worker threads")
    parser.add_argument("--rounds", type=int, default=5, help="replay rounds")
    args = parser.parse_args()
    run = {"serve": bench_serve, "gunicorn": bench_gunicorn, "replay": bench_replay}[args.what]
    print(json.dumps({args.what: run(args)}))


if __name__ == "__main__":
    main()
