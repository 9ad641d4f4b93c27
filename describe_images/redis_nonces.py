"""A :class:`~describe_images.NonceStore` on Redis: one replay check shared by every
process (public submodule; needs the extra: ``pip install 'describe-images[redis]'``).

The in-memory store is per process: under several workers each one accepts a replayed
request once (spec/README.md §4.4). :class:`RedisNonceStore` records each
``(SecretId, Nonce, Timestamp)`` with one atomic ``SET key 1 NX PX window``, so of all
the workers that see one request exactly one accepts it. When Redis cannot be reached it
fails closed: the request is refused with :class:`~describe_images.NonceStoreUnavailable`
(``InternalError``, reason ``nonce-store-unavailable``) and a log line, never accepted.

This module is never imported by the rest of the package: ``import describe_images``
works without redis-py installed.

    >>> from describe_images.redis_nonces import RedisNonceStore
    >>> store = RedisNonceStore("redis://127.0.0.1:6379/0")  # connects on first use
"""

from __future__ import annotations

import json
import logging
import math
from typing import Final
from urllib.parse import urlsplit, urlunsplit

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ModuleNotFoundError as exc:  # pragma: no cover - the test environment has it
    raise ModuleNotFoundError(
        "describe_images.redis_nonces needs redis-py: pip install 'describe-images[redis]'",
        name=exc.name,
    ) from exc

from ._errors import UsageError
from ._grammar import kind, quoted
from ._nonces import NonceKey, NonceStoreUnavailable, _key, seconds

__all__ = ["DEFAULT_PREFIX", "DEFAULT_TIMEOUT", "SCHEMES", "RedisNonceStore", "key_name"]

#: What every key of the store starts with (one Redis database can hold several stores,
#: or other data, side by side).
DEFAULT_PREFIX: Final = "describe-images:nonce:"
#: Seconds to connect to Redis, and to wait for one answer, before failing closed.
DEFAULT_TIMEOUT: Final = 1.0
#: The URL schemes redis-py reads (``rediss``: TLS; ``unix``: a socket path).
SCHEMES: Final = ("redis", "rediss", "unix")
# A window longer than this (about 285 years) is stored without expiry: Redis refuses an
# expiry that overflows its clock, and such an entry outlives any deployment anyway.
_MAX_WINDOW_MS: Final = 1 << 53

logger = logging.getLogger(__name__)


def key_name(key: NonceKey, prefix: str = DEFAULT_PREFIX) -> str:
    """The Redis key of a nonce key: the prefix, then the key as a JSON array.

    JSON makes it unambiguous (a ``:`` or ``"`` in a SecretId cannot make two keys one),
    and ASCII (every other character, a lone surrogate included, is a ``\\u`` escape),
    so any ``str`` the verifier passes has a key Redis can store.

    >>> key_name(NonceKey("AKIDx", "345122", 1408704141))
    'describe-images:nonce:["AKIDx","345122",1408704141]'
    """
    key = _key(key)
    if not isinstance(prefix, str):
        raise UsageError(f"prefix must be a str, not {kind(prefix)}")
    return prefix + json.dumps(list(key), separators=(",", ":"))


def _shown_url(url: str) -> str:
    """``url`` for a log line: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


class RedisNonceStore:
    """A :class:`~describe_images.NonceStore` shared through Redis.

    ``redis_url`` is a ``redis://HOST:PORT/DB`` URL (or ``rediss://``, ``unix://``; the
    forms redis-py reads), or an existing ``redis.Redis`` client. Nothing connects until
    the first :meth:`add`. ``timeout`` bounds connecting and each answer (seconds; a
    client passed in keeps its own). Bad arguments raise
    :class:`~describe_images.UsageError`.

    Each :meth:`add` is one ``SET key 1 NX PX window`` where the window runs from ``now``
    to ``expires_at`` (rounded up to the millisecond, so the entry lives at least until
    ``expires_at`` inclusive; an infinite ``expires_at``: no expiry). Redis drops expired
    entries itself. A command is never retried: a ``SET`` whose answer was lost may have
    been applied, and a retry would then refuse the first use of a nonce as a replay. Any
    Redis error (refused, timed out, out of memory, read-only) raises
    :class:`~describe_images.NonceStoreUnavailable` after one ``ERROR`` line on the
    ``describe_images.redis_nonces`` logger.
    """

    def __init__(
        self,
        redis_url: str | redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not isinstance(prefix, str):
            raise UsageError(f"prefix must be a str, not {kind(prefix)}")
        wait = seconds("timeout", timeout, finite=True, non_negative=True)
        if isinstance(redis_url, redis.Redis):
            self._client = redis_url
            self._where = "the given Redis client"
        elif isinstance(redis_url, str):
            self._client = _client(redis_url, wait)
            self._where = _shown_url(redis_url)
        else:
            raise UsageError(
                f"RedisNonceStore takes a redis:// URL or a redis.Redis, not {kind(redis_url)}"
            )
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        return self._prefix

    def __repr__(self) -> str:
        return f"RedisNonceStore({self._where!r}, prefix={self._prefix!r})"

    def add(self, key: NonceKey, *, now: float, expires_at: float) -> bool:
        name = key_name(key, self._prefix)
        now = seconds("now", now, finite=True)
        expires_at = seconds("expires_at", expires_at)
        window = math.ceil((expires_at - now) * 1000) if math.isfinite(expires_at) else None
        try:
            if window is None or window > _MAX_WINDOW_MS:
                done = self._client.set(name, 1, nx=True)
            else:
                # An entry already past its expiry is recorded for 1 ms: still atomic.
                done = self._client.set(name, 1, nx=True, px=max(window, 1))
        except redis.RedisError as exc:
            logger.error(
                "nonce store %s unavailable (%s: %s): request refused",
                self._where,
                type(exc).__name__,
                exc,
            )
            raise NonceStoreUnavailable() from None
        # SET ... NX answers OK (True) when it set the key, nil (None) when it existed.
        return done is True

    def ping(self) -> bool:
        """Whether Redis answers now (a deployment's start-up check; never raises)."""
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        """Close the client's connections (a new :meth:`add` reconnects)."""
        self._client.close()


def _client(url: str, timeout: float) -> redis.Redis:
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise UsageError(
            f"a Redis URL starts with {', '.join(s + '://' for s in SCHEMES)}, not {quoted(url)}"
        )
    url = scheme + url[len(scheme) :]  # a scheme is case-insensitive; redis-py's is not
    # redis-py reads a database path that is not a number as database 0: refused here.
    database = urlsplit(url).path.strip("/") if scheme != "unix" else ""
    if database and not (database.isascii() and database.isdigit()):
        raise UsageError(
            f"the database of a Redis URL is a number (redis://HOST:PORT/0), not {quoted(url)}"
        )
    try:
        return redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
    except (ValueError, TypeError) as exc:  # a port, a db or an option redis-py cannot read
        raise UsageError(f"cannot read the Redis URL {quoted(url)}: {exc}") from None


def __dir__() -> list[str]:
    return sorted(__all__)
