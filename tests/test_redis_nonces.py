"""The Redis nonce store (describe_images.redis_nonces) against a real redis-server
(tests/redis_server.py): atomicity across processes, expiry, failing closed, odd keys."""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from multiprocessing import get_context
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
import redis

from describe_images import (
    AuthError,
    DescribeImagesRequest,
    MemoryNonceStore,
    NonceKey,
    NonceStore,
    NonceStoreUnavailable,
    UsageError,
    make_verifier,
    signed_query,
)
from describe_images._errors import REASONS
from describe_images.redis_nonces import DEFAULT_PREFIX, RedisNonceStore, key_name
from describe_images.server import make_app
from tests.redis_server import RedisProcess, add_all, free_port

ROOT = Path(__file__).resolve().parent.parent
NOW = 1700000000.0
KEY = NonceKey("AKIDx", "345122", 1700000000)


@pytest.fixture
def prefix() -> str:
    """A prefix of its own for each test: tests never see each other's keys."""
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def store(redis_url: str, prefix: str) -> Iterator[RedisNonceStore]:
    made = RedisNonceStore(redis_url, prefix=prefix)
    try:
        yield made
    finally:
        made.close()


def test_first_use_is_recorded_and_a_second_is_refused(
    store: RedisNonceStore, redis_client: redis.Redis, prefix: str
) -> None:
    assert isinstance(store, NonceStore)
    assert store.add(KEY, now=NOW, expires_at=NOW + 300) is True
    assert store.add(KEY, now=NOW + 1, expires_at=NOW + 300) is False
    # A plain tuple is the same key; another nonce, SecretId or Timestamp is another.
    plain = ("AKIDx", "345122", 1700000000)
    assert store.add(plain, now=NOW, expires_at=NOW + 300) is False  # type: ignore[arg-type]
    for other in [KEY._replace(nonce="345123"), KEY._replace(secret_id="AKIDy"),
                  KEY._replace(timestamp=1700000001)]:  # fmt: skip
        assert store.add(other, now=NOW, expires_at=NOW + 300) is True
    assert redis_client.get(f'{prefix}["AKIDx","345122",1700000000]') == b"1"
    assert len(redis_client.keys(f"{prefix}*")) == 4


def test_the_window_is_expires_at_minus_now(
    store: RedisNonceStore, redis_client: redis.Redis
) -> None:
    store.add(KEY, now=NOW, expires_at=NOW + 300)
    ttl = redis_client.pttl(key_name(KEY, store.prefix))
    assert 299_000 < ttl <= 300_000
    # Rounded up to the millisecond: never shorter than asked.
    other = KEY._replace(nonce="2")
    store.add(other, now=NOW, expires_at=NOW + 0.0101)
    assert 0 < redis_client.pttl(key_name(other, store.prefix)) <= 11


def test_an_entry_expires_and_the_nonce_is_accepted_again(store: RedisNonceStore) -> None:
    now = time.time()
    assert store.add(KEY, now=now, expires_at=now + 0.2) is True
    assert store.add(KEY, now=now, expires_at=now + 0.2) is False
    time.sleep(0.35)
    assert store.add(KEY, now=time.time(), expires_at=time.time() + 0.2) is True


def test_an_infinite_window_never_expires(
    store: RedisNonceStore, redis_client: redis.Redis
) -> None:
    assert store.add(KEY, now=NOW, expires_at=math.inf) is True
    assert redis_client.pttl(key_name(KEY, store.prefix)) == -1  # no expiry
    huge = KEY._replace(nonce="huge")
    assert store.add(huge, now=NOW, expires_at=1e300) is True
    assert redis_client.pttl(key_name(huge, store.prefix)) == -1
    assert store.add(huge, now=NOW, expires_at=1e300) is False


def test_an_entry_already_past_its_expiry_is_still_recorded_atomically(
    store: RedisNonceStore, redis_client: redis.Redis
) -> None:
    assert store.add(KEY, now=NOW, expires_at=NOW - 10) is True
    assert 0 <= redis_client.pttl(key_name(KEY, store.prefix)) <= 1 or not redis_client.exists(
        key_name(KEY, store.prefix)
    )


def test_concurrent_adds_from_several_processes_accept_each_key_once(
    redis_url: str, prefix: str
) -> None:
    processes, count, rounds = 4, 2000, 20
    context = get_context("spawn")
    barrier, queue = context.Barrier(processes), context.Queue()
    children = [
        context.Process(
            target=add_all, args=(redis_url, prefix, index, count, rounds, barrier, queue)
        )
        for index in range(processes)
    ]
    for child in children:
        child.start()
    try:
        results = [queue.get(timeout=60) for _ in children]
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join(10)
    accepted = [sum(result[n] for result in results) for n in range(count)]
    assert accepted == [1] * count
    # The keys were contended for: more than one process accepted some of them.
    assert sum(1 for result in results if any(result)) > 1


def test_concurrent_adds_from_threads_accept_one(store: RedisNonceStore) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def add() -> None:
        barrier.wait()
        results.append(store.add(KEY, now=NOW, expires_at=NOW + 300))

    threads = [threading.Thread(target=add) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False] * 15 + [True]


UNUSUAL = [
    "",
    " ",
    "a b",
    ":",
    "a:b",
    "*",
    "[*]?",
    '"',
    "\\",
    "\x00",
    "\n",
    "é",
    "图像",
    "\U0001f600",
    "\udc80",  # a lone surrogate: a caller's str, never from the wire
    "x" * 10_000,
    '["AKID","1",1]',
]


def test_unusual_secret_ids_and_nonces_are_distinct_keys(
    store: RedisNonceStore, redis_client: redis.Redis, prefix: str
) -> None:
    keys = [NonceKey(a, b, 1700000000) for a in UNUSUAL for b in ("1", *UNUSUAL[:6])]
    # Pairs that a naive "a:b" join would make one key.
    keys += [NonceKey("a:b", "c", 1), NonceKey("a", "b:c", 1)]
    for key in keys:
        assert store.add(key, now=NOW, expires_at=NOW + 60) is True, key
    for key in keys:
        assert store.add(key, now=NOW, expires_at=NOW + 60) is False, key
    stored = redis_client.keys(f"{prefix}*")
    assert len(stored) == len(keys) == len(set(keys))
    # Every key is ASCII JSON after the prefix, and reads back as the key.
    texts = [name.decode("ascii") if isinstance(name, bytes) else name for name in stored]
    assert {NonceKey(*json.loads(text[len(prefix) :])) for text in texts} == set(keys)


def test_key_name() -> None:
    assert key_name(KEY) == f'{DEFAULT_PREFIX}["AKIDx","345122",1700000000]'
    assert key_name(NonceKey("a\udc80", "é", 1), "p:") == 'p:["a\\udc80","\\u00e9",1]'
    with pytest.raises(UsageError, match="a nonce key is a NonceKey"):
        key_name(("a", "b", "1"))  # type: ignore[arg-type]  # the Timestamp as a str
    with pytest.raises(UsageError, match="prefix must be a str, not bytes"):
        key_name(KEY, b"p:")  # type: ignore[arg-type]  # bytes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"now": math.nan, "expires_at": NOW}, "now must be a finite number of seconds"),
        ({"now": math.inf, "expires_at": NOW}, "now must be a finite number of seconds"),
        ({"now": NOW, "expires_at": math.nan}, "expires_at must be a number of seconds"),
        ({"now": True, "expires_at": NOW}, "now must be a finite number"),
        ({"now": NOW, "expires_at": "1"}, "expires_at must be a number"),
    ],
)
def test_bad_times_are_usage_errors(
    store: RedisNonceStore, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        store.add(KEY, **kwargs)  # type: ignore[arg-type]  # the values are wrong on purpose


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("http://127.0.0.1:6390/0",), {}, "a Redis URL starts with redis://, rediss://, unix://"),
        (("127.0.0.1:6390",), {}, "a Redis URL starts with"),
        (("redis://127.0.0.1:notaport/0",), {}, "cannot read the Redis URL"),
        (("redis://127.0.0.1:6390/x",), {}, "the database of a Redis URL is a number"),
        (("redis://127.0.0.1:6390/-1",), {}, "the database of a Redis URL is a number"),
        ((b"redis://127.0.0.1",), {}, "takes a redis:// URL or a redis.Redis, not bytes"),
        ((None,), {}, "takes a redis:// URL or a redis.Redis, not None"),
        (("redis://127.0.0.1",), {"prefix": 1}, "prefix must be a str, not int"),
        (("redis://127.0.0.1",), {"timeout": -1}, "timeout must be a finite number"),
        (("redis://127.0.0.1",), {"timeout": math.inf}, "timeout must be a finite number"),
    ],
)
def test_bad_arguments_are_usage_errors(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        RedisNonceStore(*args, **kwargs)  # type: ignore[arg-type]  # wrong on purpose


def test_a_client_can_be_passed_in(redis_client: redis.Redis, prefix: str) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix)
    assert repr(store) == f"RedisNonceStore('the given Redis client', prefix={prefix!r})"
    assert store.ping() is True
    assert store.add(KEY, now=NOW, expires_at=NOW + 60) is True
    assert store.add(KEY, now=NOW, expires_at=NOW + 60) is False


def test_the_password_is_never_shown() -> None:
    store = RedisNonceStore("redis://user:s3cret@127.0.0.1:1/0")
    assert "s3cret" not in repr(store)
    assert repr(store).startswith("RedisNonceStore('redis://user:***@127.0.0.1:1/0'")


# --- Failing closed ---------------------------------------------------------------------


def assert_unavailable(
    store: RedisNonceStore, caplog: pytest.LogCaptureFixture, cause: str, within: float
) -> None:
    caplog.clear()
    started = time.monotonic()
    with (
        caplog.at_level(logging.ERROR, "describe_images.redis_nonces"),
        pytest.raises(NonceStoreUnavailable) as info,
    ):
        store.add(KEY, now=NOW, expires_at=NOW + 60)
    assert time.monotonic() - started < within
    error = info.value
    assert isinstance(error, AuthError)
    assert (error.code, error.violations[0].reason, error.path) == (
        "InternalError", "nonce-store-unavailable", "Nonce",
    )  # fmt: skip
    assert error.message == (
        "the replay check is unavailable, so the request is refused; try again shortly"
    )
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(f"nonce store {store._where} unavailable ({cause}")
    assert record.getMessage().endswith("): request refused")
    assert store.ping() is False


def test_nothing_listening_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisNonceStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    assert_unavailable(store, caplog, "ConnectionError", within=2)


def test_a_redis_that_stops_fails_closed_and_one_that_comes_back_works(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = RedisProcess()
    try:
        store = RedisNonceStore(server.url, timeout=0.5)
        assert store.add(KEY, now=NOW, expires_at=NOW + 60) is True
        server.stop()
        assert_unavailable(store, caplog, "ConnectionError", within=2)
        assert_unavailable(store, caplog, "ConnectionError", within=2)  # every time
    finally:
        server.stop()


def test_a_redis_that_never_answers_fails_closed_within_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A listener that accepts and never answers: each add waits `timeout`, then refuses.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        store = RedisNonceStore(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.3)
        assert_unavailable(store, caplog, "TimeoutError", within=1.5)
        store.close()


def test_a_redis_error_reply_fails_closed(
    redis_client: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A server that answers with an error (here: a database it does not have).
    port = redis_client.connection_pool.connection_kwargs["port"]
    store = RedisNonceStore(f"redis://127.0.0.1:{port}/99", prefix=prefix)
    assert_unavailable(store, caplog, "ResponseError", within=2)


def test_the_reason_is_in_the_vocabulary() -> None:
    assert REASONS["nonce-store-unavailable"] == "InternalError"
    assert NonceStoreUnavailable().violations[0].reason == "nonce-store-unavailable"


# --- Through the verifier and the app -----------------------------------------------------

CREDENTIALS = {"AKIDx": "secret-key"}


def signed() -> str:
    """Seed example 1, signed for the host ``h``."""
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",))
    return signed_query(request, secret_id="AKIDx", secret_key="secret-key", host="h")


def signed_call(app: object, query: str) -> dict[str, object]:
    environ: dict[str, object] = {
        "QUERY_STRING": query,
        "HTTP_HOST": "h",
        "PATH_INFO": "/v2/index.php",
    }
    setup_testing_defaults(environ)
    body = b"".join(app(environ, lambda status, headers: None))  # type: ignore[operator]
    return json.loads(body)["Response"]  # type: ignore[no-any-return]


def test_two_apps_sharing_redis_accept_a_request_once(redis_url: str, prefix: str) -> None:
    # Two apps (as two workers would be), one store: the second sees the replay.
    apps = [
        make_app(
            verify=make_verifier(CREDENTIALS, nonces=RedisNonceStore(redis_url, prefix=prefix))
        )
        for _ in range(2)
    ]
    query = signed()
    assert "Error" not in signed_call(apps[0], query)
    assert signed_call(apps[1], query)["Error"] == {
        "Code": "InvalidRequest.ReplayAttack",
        "Message": signed_call(apps[0], query)["Error"]["Message"],  # type: ignore[index]
    }
    # Memory stores, for contrast: each app accepts it once.
    memory = [make_app(verify=make_verifier(CREDENTIALS, nonces=MemoryNonceStore()))
              for _ in range(2)]  # fmt: skip
    assert ["Error" in signed_call(app, query) for app in memory] == [False, False]


def test_an_app_whose_redis_is_down_answers_internal_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisNonceStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    app = make_app(verify=make_verifier(CREDENTIALS, nonces=store))
    query = signed()
    with caplog.at_level(logging.ERROR):
        answer = signed_call(app, query)
    assert answer["Error"] == {
        "Code": "InternalError",
        "Message": "the replay check is unavailable, so the request is refused; try again shortly",
    }
    assert "ImageSet" not in answer
    assert [r.name for r in caplog.records] == ["describe_images.redis_nonces"]


# --- Never imported by the core ----------------------------------------------------------

BLOCK_REDIS = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "redis" or name.startswith("redis."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
"""


def run_without_redis(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_REDIS + code],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_the_core_never_imports_redis() -> None:
    done = run_without_redis(
        "import describe_images, describe_images.server, describe_images._http\n"
        "import describe_images._cli, describe_images._cli.serve\n"
        "describe_images.server.make_app(); describe_images.server.serve\n"
        "assert 'redis' not in sys.modules\n"
        "print('ok')"
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_the_redis_module_without_redis_names_the_extra() -> None:
    done = run_without_redis("import describe_images.redis_nonces")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: describe_images.redis_nonces needs redis-py: "
        "pip install 'describe-images[redis]'"
    )
