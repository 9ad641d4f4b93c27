"""verify a signed URL's signature

``describe-images verify URL|- --credentials FILE [--method GET|POST] [--data BODY]
[--max-skew S] [--now T]`` prints ``{"valid": true, "secret_id": ...}`` (exit 0) or the
verdict of what failed (exit 1). With POST the parameters are the form body and the URL's
query is ignored, as the API does. No nonce store: one run cannot see a replay
(README.md#sign-and-verify).
"""

from __future__ import annotations

import argparse
from typing import Final, TextIO

from .._errors import UsageError
from .._pairs import parse_query
from .._signing import DEFAULT_MAX_SKEW, verify
from .._spec import METHODS
from . import EXIT_OK, write_json
from ._inputs import argument, http_url, load_credentials, path, seconds, unix_time

NAME: Final = "verify"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the signed URL, or - for stdin")
    parser.add_argument(
        "--credentials", type=path, required=True, help="a JSON file {SecretId: SecretKey}"
    )
    parser.add_argument(
        "--method", choices=METHODS, default="GET", help="how it was sent (default GET)"
    )
    parser.add_argument("--data", help="the POST form body (the URL's query is then ignored)")
    parser.add_argument(
        "--max-skew", type=seconds, default=DEFAULT_MAX_SKEW, help="seconds (default 300)"
    )
    parser.add_argument(
        "--now", type=unix_time, help="the Unix time to check against (default: now)"
    )


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    parts = http_url(argument(args.url, stdin).strip())
    if args.method == "POST" and args.data is None:
        raise UsageError("POST needs the form body (--data)")
    if args.method == "GET" and args.data is not None:
        raise UsageError("--data is only for POST; a GET request is signed in its URL")
    credentials = load_credentials(args.credentials)
    pairs = parse_query(parts.query if args.data is None else args.data)
    verify(
        args.method,
        parts.netloc,
        parts.path or "/",
        pairs,
        secrets=credentials.get,
        now=args.now,
        max_skew=args.max_skew,
    )
    write_json(out, {"valid": True, "secret_id": dict(pairs)["SecretId"]})
    return EXIT_OK
