"""The replay store of signature verification: which nonces were seen, until when.

:func:`~describe_images.verify` records ``(SecretId, Nonce, Timestamp)`` of each request
whose signature is right, and refuses one already recorded (spec/README.md §4.4).
:class:`NonceStore` is the interface (implement it over Redis or SQL to share replay
protection between processes); :class:`MemoryNonceStore` is the in-process one.
"""

from __future__ import annotations

import heapq
import math
import sys
import threading
from typing import NamedTuple, Protocol, runtime_checkable

from ._errors import AuthError, UsageError, violation
from ._grammar import kind, shown_argument

__all__ = [
    "MemoryNonceStore",
    "NonceKey",
    "NonceStore",
    "NonceStoreFull",
    "NonceStoreUnavailable",
]


class NonceKey(NamedTuple):
    """What a nonce store remembers: the SecretId and the Nonce as sent, and the
    Timestamp as an integer (so ``0001408704141`` and ``1408704141`` are one key).

    A ``tuple``: hashable, and equal to ``(secret_id, nonce, timestamp)``. A shared store
    needs an unambiguous serialisation of it, e.g. ``json.dumps(key)``.

    >>> NonceKey("AKIDx", "7", 1700000000).timestamp
    1700000000
    """

    secret_id: str
    nonce: str
    timestamp: int


# --- argument checks shared with _signing --------------------------------------------------


def seconds(
    name: str, value: object, *, finite: bool = False, non_negative: bool = False
) -> float:
    """``value`` as a float number of seconds, or :class:`UsageError` naming ``name``.

    An int or a float, never a bool or NaN, nor an int too large for a float; infinite
    only when ``finite`` is false; ``>= 0`` when ``non_negative``.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float
            number = math.nan
        refused = math.isnan(number) or (finite and math.isinf(number))
        if not (refused or (non_negative and number < 0)):
            return number
    what = "a finite number" if finite else "a number"
    at_least = " >= 0" if non_negative else ""
    raise UsageError(f"{name} must be {what} of seconds{at_least}, not {shown_argument(value)}")


def max_entries_of(value: object) -> int:
    """``value`` if it is a positive int (at most ``sys.maxsize``), else :class:`UsageError`."""
    if type(value) is int and 1 <= value <= sys.maxsize:
        return value
    raise UsageError(
        f"max_entries must be a positive int (at most sys.maxsize), not {shown_argument(value)}"
    )


# --- the store -----------------------------------------------------------------------------


class NonceStoreFull(AuthError):
    """The nonce store is at its cap: the request is refused, never let through unchecked.

    Its violation has code ``RequestLimitExceeded`` and reason ``nonce-store-full``.
    ``max_entries`` is a positive int (else :class:`UsageError`).
    """

    def __init__(self, max_entries: int) -> None:
        cap = max_entries_of(max_entries)
        super().__init__(
            [
                violation(
                    "nonce-store-full",
                    "Nonce",
                    f"the replay cache holds {cap} live nonces, its maximum; try again shortly",
                )
            ]
        )


class NonceStoreUnavailable(AuthError):
    """A shared nonce store cannot be reached (Redis down, a timeout): the request is
    refused, never let through unchecked (fail closed, spec/README.md §4.4).

    Its violation has code ``InternalError`` and reason ``nonce-store-unavailable``; its
    message tells the client to retry and never names the store (the store logs why).
    """

    def __init__(self) -> None:
        super().__init__(
            [
                violation(
                    "nonce-store-unavailable",
                    "Nonce",
                    "the replay check is unavailable, so the request is refused; try again shortly",
                )
            ]
        )


@runtime_checkable
class NonceStore(Protocol):
    """Remembers which (SecretId, Nonce, Timestamp) were seen, until they expire.

    Implement it over Redis (``SET key 1 NX EXAT expires_at``) or a database to share
    replay protection between processes.
    """

    def add(self, key: NonceKey, *, now: float, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (inclusive) and return True; return False
        if it is already recorded and ``now <= expires_at`` of that record.

        Must be atomic: of concurrent adds of one key, exactly one returns True. Must
        return a bool (:func:`~describe_images.verify` refuses anything else). May raise
        :class:`NonceStoreFull`, :class:`NonceStoreUnavailable` (or any
        :class:`AuthError`) to refuse the request.
        """
        ...


def _key(key: object) -> NonceKey:
    if (
        isinstance(key, tuple)
        and len(key) == 3
        and isinstance(key[0], str)
        and isinstance(key[1], str)
        and type(key[2]) is int
    ):
        return NonceKey(*key)
    raise UsageError(f"a nonce key is a NonceKey (str, str, int), not {kind(key)}")


class MemoryNonceStore:
    """A bounded, thread-safe, in-process :class:`NonceStore`.

    An entry lives until its ``expires_at`` (the request's Timestamp + max_skew: after that
    the timestamp check refuses the request anyway). At most ``max_entries`` live entries
    are kept: when the store is full after dropping expired entries, :meth:`add` raises
    :class:`NonceStoreFull` (fail closed: a replay check that silently forgets is no check).
    Size it to at least the peak request rate times ``2 * max_skew``. Bad arguments raise
    :class:`UsageError`.

    >>> store = MemoryNonceStore(max_entries=2)
    >>> store.add(NonceKey("AKID", "1", 1700000000), now=1700000000, expires_at=1700000300)
    True
    >>> store.add(NonceKey("AKID", "1", 1700000000), now=1700000001, expires_at=1700000300)
    False
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max_entries = max_entries_of(max_entries)
        self._live: set[NonceKey] = set()
        # (expires_at, key), soonest first: what to drop, without scanning the set.
        self._heap: list[tuple[float, NonceKey]] = []
        self._lock = threading.Lock()

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)

    def add(self, key: NonceKey, *, now: float, expires_at: float) -> bool:
        # Checked before the lock: a NaN in the heap would break its order for good.
        key = _key(key)
        now = seconds("now", now, finite=True)
        expires_at = seconds("expires_at", expires_at)
        with self._lock:
            self._drop_expired(now)
            if key in self._live:
                return False
            if len(self._live) >= self._max_entries:
                raise NonceStoreFull(self._max_entries)
            self._live.add(key)
            heapq.heappush(self._heap, (expires_at, key))
            return True

    def _drop_expired(self, now: float) -> None:
        heap, live = self._heap, self._live
        # The heap and the set hold the same keys: a key is only ever added when it is
        # absent, and only ever removed here.
        while heap and heap[0][0] < now:
            live.remove(heapq.heappop(heap)[1])
