"""run the reference server (stdlib wsgiref)

``describe-images serve [--host H] [--port P] [--catalog FILE] [--credentials FILE]
[--max-skew S]`` loads the catalog and serves until Ctrl-C (exit 0). A catalog it cannot
load or an address it cannot bind is one line on stderr, exit 1 (spec/README.md §3.4).
"""

from __future__ import annotations

import argparse
from typing import Final, TextIO

from .._catalog import CatalogError, default_catalog, load_catalog
from .._signing import DEFAULT_MAX_SKEW
from . import EXIT_OK, CommandError
from ._inputs import host, load_credentials, path, port, seconds

NAME: Final = "serve"
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


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    # The server module (wsgiref, socketserver) is loaded only to serve.
    from .. import server
    from .._signing import make_verifier
    from .._tc3 import make_tc3_verifier

    verify = verify_tc3 = None
    if args.credentials is not None:
        credentials = load_credentials(args.credentials)
        verify = make_verifier(credentials, max_skew=args.max_skew)
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
        )
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        raise CommandError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return EXIT_OK
