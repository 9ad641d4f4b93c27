"""The production entry point: :func:`create_app`, an application factory for gunicorn
(or any WSGI server), configured from its arguments or ``DESCRIBE_IMAGES_*`` variables.

    DESCRIBE_IMAGES_CREDENTIALS=credentials.json \\
    DESCRIBE_IMAGES_NONCE_STORE=redis://127.0.0.1:6379/0 \\
    gunicorn --workers 4 'describe_images.server:create_app()'

Re-exported as ``describe_images.server.create_app`` (README.md "Production" and
#deployment). Redis is imported only when a ``redis://`` store is asked for.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import TYPE_CHECKING, Final

from ._catalog import default_catalog, load_catalog
from ._errors import UsageError
from ._grammar import kind, quoted
from ._nonces import MemoryNonceStore, NonceStore, seconds
from ._response import Image
from ._signing import DEFAULT_MAX_SKEW, _store, make_verifier
from ._tc3 import make_tc3_verifier
from .server import make_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["ENVIRONMENT", "MEMORY", "create_app", "open_nonce_store"]

#: The settings create_app reads when an argument is not given.
ENVIRONMENT: Final = {
    "catalog": "DESCRIBE_IMAGES_CATALOG",
    "credentials": "DESCRIBE_IMAGES_CREDENTIALS",
    "nonce_store": "DESCRIBE_IMAGES_NONCE_STORE",
    "max_skew": "DESCRIBE_IMAGES_MAX_SKEW",
}
#: The nonce store setting for the in-process store (one process only).
MEMORY: Final = "memory"
_REDIS_SCHEMES: Final = ("redis://", "rediss://", "unix://")

logger = logging.getLogger("describe_images.server")


def open_nonce_store(url: str) -> NonceStore:
    """The nonce store a setting names: ``memory`` (this process only) or a Redis URL
    (``redis://HOST:PORT/DB``; needs the ``describe-images[redis]`` extra).

    >>> open_nonce_store("memory")  # doctest: +ELLIPSIS
    <describe_images._nonces.MemoryNonceStore object at ...>
    """
    if not isinstance(url, str):
        raise UsageError(f"a nonce store is named by a str, not {kind(url)}")
    if url == MEMORY:
        return MemoryNonceStore()
    if not url.lower().startswith(_REDIS_SCHEMES):
        raise UsageError(
            f"a nonce store is {MEMORY!r} or a Redis URL (redis://HOST:PORT/DB), not {quoted(url)}"
        )
    try:
        from .redis_nonces import RedisNonceStore
    except ModuleNotFoundError:
        raise UsageError(
            "a Redis nonce store needs redis-py: pip install 'describe-images[redis]'"
        ) from None
    return RedisNonceStore(url)


def create_app(
    catalog: str | Iterable[Image] | None = None,
    *,
    credentials: str | Mapping[str, str] | None = None,
    nonce_store: str | NonceStore | None = None,
    max_skew: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> WSGIApplication:
    """A WSGI application for a production server (gunicorn: ``create_app()``).

    Each setting not given comes from :data:`ENVIRONMENT` in ``environ`` (default
    :data:`os.environ`): ``catalog`` (a JSON file of Images, or Images; default the
    embedded catalog), ``credentials`` (a JSON file ``{SecretId: SecretKey}``, or that
    mapping; none: signatures are not verified, and a warning is logged),
    ``nonce_store`` (``redis://HOST:PORT/DB``, ``memory``, or a :class:`NonceStore`) and
    ``max_skew`` (seconds, default 300).

    It refuses to start (:class:`UsageError`) rather than let replays through: verifying
    signatures needs a nonce store named explicitly; ``memory`` is refused under a
    gunicorn with more than one worker (each worker's store would accept a replay once);
    a nonce store without credentials checks nothing and is refused too.
    """
    env = os.environ if environ is None else environ
    catalog_file = catalog if catalog is not None else env.get(ENVIRONMENT["catalog"]) or None
    if isinstance(catalog_file, str):
        images = load_catalog(catalog_file)
    else:
        images = default_catalog() if catalog_file is None else tuple(catalog_file)
    # An unset or empty variable is no setting; an argument given (even empty) is one.
    secrets = (
        credentials if credentials is not None else env.get(ENVIRONMENT["credentials"]) or None
    )
    store_setting = (
        nonce_store if nonce_store is not None else env.get(ENVIRONMENT["nonce_store"]) or None
    )
    skew = _skew(max_skew, env.get(ENVIRONMENT["max_skew"]))
    if secrets is None:
        if store_setting is not None:
            raise UsageError(
                f"a nonce store is set but no credentials ({ENVIRONMENT['credentials']}): "
                "without signatures there is nothing to check replays of"
            )
        logger.warning("describe-images: signatures are NOT verified; any caller is answered")
        return make_app(images)
    if isinstance(secrets, str):
        from ._cli._inputs import load_credentials

        secrets = load_credentials(secrets)
    if store_setting is None:
        raise UsageError(
            f"signatures are verified but no nonce store is set: set {ENVIRONMENT['nonce_store']}"
            "=redis://HOST:PORT/DB (shared by every worker), or =memory for a single process"
        )
    if store_setting == MEMORY or isinstance(store_setting, MemoryNonceStore):
        workers = gunicorn_workers()
        if workers is not None and workers != 1:
            many = "an unknown number of" if workers < 0 else str(workers)
            raise UsageError(
                f"the memory nonce store is per process: under gunicorn with {many} workers a "
                "replayed request would be accepted once per worker; set "
                f"{ENVIRONMENT['nonce_store']}=redis://HOST:PORT/DB"
            )
    store = (
        open_nonce_store(store_setting) if isinstance(store_setting, str) else _store(store_setting)
    )
    ping = getattr(store, "ping", None)
    if callable(ping) and ping() is False:
        logger.warning(
            "describe-images: the nonce store %r does not answer: every signed request is "
            "refused (InternalError) until it does",
            store,
        )
    # One key file closes both doors: v1 for legacy calls, TC3 for API 3.0 calls. TC3 has
    # no nonce, so the store guards the legacy door only (spec/README.md §4.7.7).
    return make_app(
        images,
        verify=make_verifier(secrets, max_skew=skew, nonces=store),
        verify_tc3=make_tc3_verifier(secrets, max_skew=skew),
    )


def _skew(given: float | None, setting: str | None) -> float:
    if given is not None:
        return seconds("max_skew", given, non_negative=True)
    if not setting:
        return DEFAULT_MAX_SKEW
    try:
        value = float(setting) if setting.strip() == setting else float("nan")
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise UsageError(
            f"{ENVIRONMENT['max_skew']} must be a finite number of seconds >= 0, "
            f"not {quoted(setting)}"
        )
    return value


def gunicorn_workers() -> int | None:
    """How many workers the gunicorn loading this app runs: None when not under gunicorn,
    -1 when it is but the number cannot be found (read as "several": fail closed).

    gunicorn calls the factory from its application's ``wsgi()``, whose ``cfg.workers``
    is the number; it is found on the call stack, the only place gunicorn exposes it.
    """
    if "gunicorn.arbiter" not in sys.modules:
        return None
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        workers = getattr(getattr(owner, "cfg", None), "workers", None)
        if type(owner).__module__.startswith("gunicorn.") and type(workers) is int:
            return workers
        frame = frame.f_back
    return -1
