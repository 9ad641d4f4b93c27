"""The real Redis the store's tests run against (a pytest plugin: tests/conftest.py).

``.ci/run`` starts one on 127.0.0.1:6390 and exports ``DESCRIBE_IMAGES_REDIS_URL``. Without
that variable, the ``redis_url`` fixture starts a private ``redis-server`` on a free
loopback port for the session (and stops it); without ``redis-server`` either, every test
that needs Redis FAILS (never skips), saying how to get one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

URL_VARIABLE = "DESCRIBE_IMAGES_REDIS_URL"
HOW = (
    "these tests need a real Redis: run .ci/run, or install redis-server "
    "(apt-get install -y redis-server) and either leave it on PATH or start one with "
    "`redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes` "
    f"and `export {URL_VARIABLE}=redis://127.0.0.1:6390/0`"
)

# Loopback only, nothing written to disk, in the foreground (a child the fixture stops).
SERVER_OPTIONS = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 10.0) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return True
            except redis.RedisError:
                time.sleep(0.05)
        return False
    finally:
        client.close()


class RedisProcess:
    """A private redis-server on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(HOW, pytrace=False)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), *SERVER_OPTIONS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.url):
            self.stop()
            pytest.fail(f"redis-server did not start on port {self.port}; {HOW}", pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A reachable Redis URL: the exported one, else a private server's."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        if not wait_for(url, 5):
            pytest.fail(f"{URL_VARIABLE}={url} does not answer; {HOW}", pytrace=False)
        yield url
        return
    server = RedisProcess()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


def add_all(
    url: str, prefix: str, index: int, count: int, rounds: int, barrier: Any, results: Any
) -> None:
    """In child process ``index`` of ``barrier.parties``: add keys 0 … count-1 to a Redis
    store in ``rounds`` rounds that every child starts together (``barrier``), each child
    from its own place in the round's keys and then on through the others' (so the
    children contend for the keys even when the machine runs one of them alone for a
    while); put the list of answers, by key, on ``results``."""
    from describe_images import NonceKey
    from describe_images.redis_nonces import RedisNonceStore

    store = RedisNonceStore(url, prefix=prefix)
    store.ping()  # connected before the start
    per_round = count // rounds
    offset = index * per_round // barrier.parties
    answers = [False] * count
    try:
        for first in range(0, count, per_round):
            barrier.wait(30)
            now = time.time()
            for j in range(per_round):
                n = first + (offset + j) % per_round
                key = NonceKey("AKID", str(n), 1700000000)
                answers[n] = store.add(key, now=now, expires_at=now + 60)
        results.put(answers)
    finally:
        store.close()
