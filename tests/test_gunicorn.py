"""The production deployment: ``create_app`` (describe_images._deploy) in-process, and real
gunicorn processes with 4 workers sharing the Redis nonce store (tests/redis_server.py).

One signed request sent 20 times, one after another and all at once, is accepted exactly
once; the memory store under several workers is refused at start.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import gunicorn.config  # type: ignore[import-untyped]  # gunicorn ships no types
import pytest

from describe_images import (
    CatalogError,
    DescribeImagesRequest,
    MemoryNonceStore,
    UsageError,
    signed_query,
)
from describe_images._deploy import ENVIRONMENT, create_app, gunicorn_workers, open_nonce_store
from describe_images.redis_nonces import RedisNonceStore
from tests.redis_server import free_port
from tests.seed import SEED_1_IMAGE

ROOT = Path(__file__).resolve().parent.parent
SECRET_ID, SECRET_KEY = "AKIDgunicornTest", "gunicorn-test-key"
REPLAY = "InvalidRequest.ReplayAttack"
# gunicorn 25+ opens a control socket in the home directory: not in tests.
NO_CONTROL_SOCKET = (
    ["--no-control-socket"]
    if any(s.name == "control_socket_disable" for s in gunicorn.config.KNOWN_SETTINGS)
    else []
)


@pytest.fixture
def credentials(tmp_path: Path) -> str:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({SECRET_ID: SECRET_KEY}))
    return str(path)


def signed(host: str, **kwargs: Any) -> str:
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",))
    return signed_query(request, secret_id=SECRET_ID, secret_key=SECRET_KEY, host=host, **kwargs)


def call(app: Any, query: str, host: str = "h") -> dict[str, Any]:
    environ: dict[str, Any] = {
        "QUERY_STRING": query,
        "HTTP_HOST": host,
        "PATH_INFO": "/v2/index.php",
    }
    setup_testing_defaults(environ)
    body = b"".join(app(environ, lambda status, headers: None))
    response: dict[str, Any] = json.loads(body)["Response"]
    return response


def code(response: Mapping[str, Any]) -> str:
    return str(response["Error"]["Code"]) if "Error" in response else "OK"


# --- create_app in-process ------------------------------------------------------------------


def test_without_settings_it_serves_the_embedded_catalog_unsigned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        app = create_app(environ={})
    response = call(app, "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7")
    assert response["ImageSet"] == [SEED_1_IMAGE]
    assert [r.getMessage() for r in caplog.records] == [
        "describe-images: signatures are NOT verified; any caller is answered"
    ]


def test_settings_come_from_the_environment(
    credentials: str, tmp_path: Path, redis_url: str
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([{**SEED_1_IMAGE, "ImageId": "img-00000001"}]))
    app = create_app(
        environ={
            ENVIRONMENT["catalog"]: str(catalog),
            ENVIRONMENT["credentials"]: credentials,
            ENVIRONMENT["nonce_store"]: redis_url,
            ENVIRONMENT["max_skew"]: "60",
        }
    )
    query = signed("h")
    assert call(app, query)["TotalCount"] == 0  # the seed's image is not in this catalog
    assert code(call(app, query)) == REPLAY  # the Redis store saw it
    late = signed("h", timestamp=int(time.time()) - 90)
    assert code(call(app, late)) == "AuthFailure.SignatureExpire"  # 60 s, not 300


def test_arguments_win_over_the_environment(credentials: str) -> None:
    app = create_app(
        None,
        credentials={SECRET_ID: SECRET_KEY},
        nonce_store=MemoryNonceStore(),
        max_skew=300,
        environ={ENVIRONMENT["credentials"]: "/nonexistent", ENVIRONMENT["max_skew"]: "x"},
    )
    query = signed("h")
    assert [code(call(app, query)) for _ in range(2)] == ["OK", REPLAY]


def test_two_apps_sharing_redis_see_each_others_nonces(credentials: str, redis_url: str) -> None:
    settings = {ENVIRONMENT["credentials"]: credentials, ENVIRONMENT["nonce_store"]: redis_url}
    first, second = create_app(environ=settings), create_app(environ=settings)
    query = signed("h")
    assert [code(call(first, query)), code(call(second, query))] == ["OK", REPLAY]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"credentials": "CREDENTIALS"},
            "signatures are verified but no nonce store is set: set DESCRIBE_IMAGES_NONCE_STORE"
            "=redis://HOST:PORT/DB (shared by every worker), or =memory for a single process",
        ),
        (
            {"nonce_store": "memory"},
            "a nonce store is set but no credentials (DESCRIBE_IMAGES_CREDENTIALS): without "
            "signatures there is nothing to check replays of",
        ),
        (
            {"credentials": "CREDENTIALS", "nonce_store": "http://x"},
            "a nonce store is 'memory' or a Redis URL (redis://HOST:PORT/DB), not 'http://x'",
        ),
        (
            {"credentials": "CREDENTIALS", "nonce_store": "redis://h:1/x"},
            "the database of a Redis URL is a number",
        ),
        (
            {"credentials": "/nonexistent/c.json", "nonce_store": "memory"},
            "cannot read credentials",
        ),
        (
            {"max_skew": "nan"},
            "DESCRIBE_IMAGES_MAX_SKEW must be a finite number of seconds >= 0, not 'nan'",
        ),
        ({"max_skew": "-1"}, "not '-1'"),
        ({"max_skew": " 1"}, "not ' 1'"),
        ({"max_skew": "inf"}, "not 'inf'"),
        ({"max_skew": "x"}, "not 'x'"),
    ],
)
def test_it_refuses_to_start_when_misconfigured(
    settings: dict[str, str], message: str, credentials: str
) -> None:
    environ = {
        ENVIRONMENT[name]: credentials if value == "CREDENTIALS" else value
        for name, value in settings.items()
    }
    with pytest.raises(UsageError, match=re.escape(message)):
        create_app(environ=environ)


def test_a_bad_catalog_is_a_catalog_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{}]")
    with pytest.raises(CatalogError):
        create_app(environ={ENVIRONMENT["catalog"]: str(bad)})


def test_an_unreachable_redis_is_logged_at_start_and_fails_closed(
    credentials: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with caplog.at_level(logging.WARNING):
        app = create_app(credentials=credentials, nonce_store=url, environ={})
    assert caplog.records[0].getMessage() == (
        f"describe-images: the nonce store RedisNonceStore({url!r}, "
        "prefix='describe-images:nonce:') does not answer: every signed request is refused "
        "(InternalError) until it does"
    )
    assert code(call(app, signed("h"))) == "InternalError"


def test_open_nonce_store() -> None:
    assert isinstance(open_nonce_store("memory"), MemoryNonceStore)
    store = open_nonce_store("redis://127.0.0.1:1/2")
    assert isinstance(store, RedisNonceStore)
    assert isinstance(open_nonce_store("REDISS://127.0.0.1:1/2"), RedisNonceStore)
    for bad, message in [
        ("Memory", "not 'Memory'"),
        ("", "not ''"),
        (b"memory", "by a str, not bytes"),
    ]:
        with pytest.raises(UsageError, match=re.escape(message)):
            open_nonce_store(bad)  # type: ignore[arg-type]  # bytes on purpose


class FakeArbiterApp:
    """What gunicorn's application looks like from the factory's call stack."""

    __module__ = "gunicorn.app.wsgiapp"

    def __init__(self, workers: Any) -> None:
        self.cfg = type("Config", (), {"workers": workers})()

    def wsgi(self, **kwargs: Any) -> Any:
        return create_app(**kwargs)


def test_the_memory_store_is_refused_under_several_gunicorn_workers(
    monkeypatch: pytest.MonkeyPatch, credentials: str
) -> None:
    settings = {"credentials": credentials, "nonce_store": "memory", "environ": {}}
    assert gunicorn_workers() is None
    assert callable(FakeArbiterApp(4).wsgi(**settings))  # not under gunicorn: allowed
    monkeypatch.setitem(sys.modules, "gunicorn.arbiter", sys.modules[__name__])
    assert gunicorn_workers() == -1
    for workers, many in [(4, "4"), (2, "2"), ("4", "an unknown number of")]:
        with pytest.raises(UsageError) as refused:
            FakeArbiterApp(workers).wsgi(**settings)
        assert str(refused.value) == (
            f"the memory nonce store is per process: under gunicorn with {many} workers a "
            "replayed request would be accepted once per worker; set "
            "DESCRIBE_IMAGES_NONCE_STORE=redis://HOST:PORT/DB"
        )
    with pytest.raises(UsageError, match="an unknown number of"):
        create_app(**settings)  # type: ignore[arg-type]  # under gunicorn, no count found
    with pytest.raises(UsageError, match="with 3 workers"):
        FakeArbiterApp(3).wsgi(credentials=credentials, nonce_store=MemoryNonceStore(), environ={})
    assert callable(FakeArbiterApp(1).wsgi(**settings))  # one worker: its store sees all


def test_create_app_is_the_servers() -> None:
    from describe_images import server

    assert server.create_app is create_app
    assert "create_app" in server.__all__


# --- Real gunicorn --------------------------------------------------------------------------


class Gunicorn:
    """A gunicorn process serving ``create_app()``; its output goes to ``log_path``."""

    def __init__(self, tmp_path: Path, workers: int, env: dict[str, str], *, wait: bool = True):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"gunicorn-{uuid.uuid4().hex[:8]}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "--bind", self.host,
                    "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "2",
                    "--access-logfile", "-", "--access-logformat", "access %(p)s %(s)s",
                    *NO_CONTROL_SOCKET,
                    "describe_images.server:create_app()",
                ],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            )  # fmt: skip
        if wait:
            self.wait_ready(workers)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self, workers: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited {self.process.returncode}:\n{self.log}")
            if self.log.count("Booting worker with pid") >= workers:
                try:
                    self.get("/nope")
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not start:\n{self.log}")

    def get(self, target: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://{self.host}{target}", timeout=10) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def answer(self, query: str) -> str:
        status, body = self.get(f"/v2/index.php?{query}")
        assert status == 200
        return code(json.loads(body)["Response"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def gunicorn_redis(tmp_path: Path, credentials: str, redis_url: str) -> Iterator[Gunicorn]:
    # Every signed() call has a fresh random Nonce: runs never see each other's keys.
    server = Gunicorn(
        tmp_path,
        4,
        {
            ENVIRONMENT["credentials"]: credentials,
            ENVIRONMENT["nonce_store"]: redis_url,
        },
    )
    try:
        yield server
    finally:
        server.stop()


def test_gunicorn_4_workers_with_redis_accept_a_request_once_sequentially(
    gunicorn_redis: Gunicorn,
) -> None:
    query = signed(gunicorn_redis.host)
    answers = [gunicorn_redis.answer(query) for _ in range(20)]
    assert answers == ["OK"] + [REPLAY] * 19


def at_once(server: Gunicorn, query: str, count: int) -> list[str]:
    barrier = threading.Barrier(count)
    answers: list[str] = []

    def send() -> None:
        barrier.wait(10)
        answers.append(server.answer(query))

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_gunicorn_4_workers_with_redis_accept_a_request_once_in_parallel(
    gunicorn_redis: Gunicorn,
) -> None:
    # Each round, a fresh request 20 times at once: accepted once. Rounds go on (at most
    # 5) until one was answered by several workers, so that the store, not one process's
    # memory, is what refused the replays (a loaded machine may wake one worker only).
    workers_per_round = []
    for _ in range(5):
        seen = len(gunicorn_redis.log)
        answers = at_once(gunicorn_redis, signed(gunicorn_redis.host), 20)
        assert sorted(answers) == sorted(["OK"] + [REPLAY] * 19)
        time.sleep(0.2)  # the access log lines are written
        pids = set(re.findall(r"^access <(\d+)> 200$", gunicorn_redis.log[seen:], re.M))
        workers_per_round.append(len(pids))
        if len(pids) > 1:
            break
    assert max(workers_per_round) > 1, workers_per_round


def test_gunicorn_refuses_to_start_with_the_memory_store_and_4_workers(
    tmp_path: Path, credentials: str
) -> None:
    server = Gunicorn(
        tmp_path,
        4,
        {ENVIRONMENT["credentials"]: credentials, ENVIRONMENT["nonce_store"]: "memory"},
        wait=False,
    )
    try:
        status = server.process.wait(30)
    finally:
        server.stop()
    assert status != 0
    assert (
        "UsageError: the memory nonce store is per process: under gunicorn with 4 workers"
        in server.log
    )


def test_gunicorn_1_worker_with_the_memory_store_starts(tmp_path: Path, credentials: str) -> None:
    server = Gunicorn(
        tmp_path,
        1,
        {ENVIRONMENT["credentials"]: credentials, ENVIRONMENT["nonce_store"]: "memory"},
    )
    try:
        query = signed(server.host)
        assert [server.answer(query) for _ in range(3)] == ["OK", REPLAY, REPLAY]
    finally:
        server.stop()
