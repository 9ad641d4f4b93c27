"""run the reference server (stdlib wsgiref)

``describe-images serve [--host H] [--port P] [--catalog FILE] [--credentials FILE]
[--max-skew S] [--nonce-store URL] [--threads N] [--read-timeout S]`` loads the catalog
and serves until Ctrl-C or SIGTERM (exit 0). A catalog it cannot load or an address it
cannot bind is one line on stderr, exit 1 (README.md#serve).
"""

from __future__ import annotations

import argparse
from typing import Final, TextIO

from .._catalog import CatalogError, default_catalog, load_catalog
from .._errors import UsageError
from .._signing import DEFAULT_MAX_SKEW
from . import EXIT_OK, CommandError
from ._inputs import host, load_credentials, path, port, seconds

NAME: Final = "serve"
# The server's defaults (describe_images._http), here without importing the server.
DEFAULT_THREADS: Final = 16
DEFAULT_READ_TIMEOUT: Final = 10.0
MEMORY: Final = "memory"
DEFAULT_PORT: Final = 8000
EMBEDDED: Final = "the embedded catalog"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        type=host,
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help="the port (default 8000; 0: any free)"
    )
    parser.add_argument(
        "--catalog", type=path, help="a JSON file of Images (default: the embedded catalog)"
    )
    parser.add_argument(
        "--credentials", type=path, help="a JSON file {SecretId: SecretKey}: require signatures"
    )
    parser.add_argument(
        "--max-skew",
        type=seconds,
        default=DEFAULT_MAX_SKEW,
        help="signature clock skew, seconds (default 300)",
    )
    parser.add_argument(
        "--nonce-store",
        metavar="URL",
        help="where --credentials checks replays: memory (default) or redis://HOST:PORT/DB",
    )
    parser.add_argument(
        "--threads",
        type=threads,
        default=DEFAULT_THREADS,
        help=f"worker threads answering requests (default {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--read-timeout",
        type=positive_seconds,
        default=DEFAULT_READ_TIMEOUT,
        metavar="S",
        help=f"seconds a client has to send its request (default {DEFAULT_READ_TIMEOUT:g})",
    )


def threads(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= 1024):
        raise argparse.ArgumentTypeError(f"threads are 1 to 1024, not {text[:20]!r}")
    return int(text)


def positive_seconds(text: str) -> float:
    try:
        value = seconds(text)
    except argparse.ArgumentTypeError:  # its message would say ">= 0"
        value = 0.0
    if not value:
        raise argparse.ArgumentTypeError(f"seconds must be a finite number > 0, not {text[:20]!r}")
    return value


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    # The server module (wsgiref, socketserver) is loaded only to serve.
    from .. import server
    from .._deploy import open_nonce_store
    from .._signing import make_verifier
    from .._tc3 import make_tc3_verifier

    verify = verify_tc3 = None
    if args.nonce_store is not None and args.credentials is None:
        raise UsageError("--nonce-store checks replays of signed requests: it needs --credentials")
    if args.credentials is not None:
        credentials = load_credentials(args.credentials)
        # serve is one process: the in-memory store sees every request (README.md#serve).
        store = open_nonce_store(args.nonce_store or MEMORY)
        ping = getattr(store, "ping", None)
        if ping is not None and not ping():
            err.write(
                f"describe-images serve: warning: the nonce store {args.nonce_store} does not "
                "answer; every signed request is refused until it does\n"
            )
        verify = make_verifier(credentials, max_skew=args.max_skew, nonces=store)
        verify_tc3 = make_tc3_verifier(credentials, max_skew=args.max_skew)
    try:
        images = default_catalog() if args.catalog is None else load_catalog(args.catalog)
    except CatalogError as exc:
        raise CommandError(str(exc)) from None
    try:
        # serve() returns when Ctrl-C stops it (its return value, 0 or None, says no more).
        server.serve(
            args.host,
            args.port,
            images,
            verify=verify,
            verify_tc3=verify_tc3,
            log=err,
            catalog_name=EMBEDDED if args.catalog is None else args.catalog,
            threads=args.threads,
            read_timeout=args.read_timeout,
        )
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        raise CommandError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return EXIT_OK
