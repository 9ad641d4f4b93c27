"""print a signed URL for a JSON request (keys from the environment)

``describe-images sign JSON|- [--region R] [--method GET|POST] [--endpoint URL]
[--signature-method HmacSHA1|HmacSHA256]`` prints the signed URL (GET) or the form body to
send to the endpoint (POST). Credentials come only from ``TENCENTCLOUD_SECRET_ID`` and
``TENCENTCLOUD_SECRET_KEY``, never from the command line, where they would land in shell
history and process listings (spec/README.md §4.5).
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Final, TextIO

from .._errors import UsageError
from .._grammar import is_utf8
from .._signing import signed_query
from .._spec import ENDPOINT, METHODS, SIGNATURE_METHODS
from . import EXIT_OK, write_line
from ._inputs import argument, http_url, request_from_json

NAME: Final = "sign"
ENV_SECRET_ID: Final = "TENCENTCLOUD_SECRET_ID"
ENV_SECRET_KEY: Final = "TENCENTCLOUD_SECRET_KEY"
DEFAULT_ENDPOINT: Final = ENDPOINT
# The endpoint is signed as written and sent as written: printable ASCII, as an HTTP
# request line and Host header carry it (an IDN host in its xn-- form).
_URL_TEXT_RE: Final = re.compile(r"[!-~]+")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("request", help="the JSON request, or - for stdin")
    parser.add_argument("--region", help="the Region parameter to sign in (default: none)")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="GET",
        help="GET prints the signed URL, POST the form body (default GET)",
    )
    parser.add_argument(
        "--signature-method",
        choices=SIGNATURE_METHODS,
        default="HmacSHA256",
        help="the HMAC (default HmacSHA256)",
    )
    parser.add_argument(
        "--endpoint", default=DEFAULT_ENDPOINT, help=f"the URL to sign for ({DEFAULT_ENDPOINT})"
    )


def _secret(name: str) -> str:
    value = os.environ.get(name, "")
    if not is_utf8(value):
        raise UsageError(f"{name} is not UTF-8 text")
    return value


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    secret_id, secret_key = _secret(ENV_SECRET_ID), _secret(ENV_SECRET_KEY)
    if not secret_id or not secret_key:
        raise UsageError(f"set {ENV_SECRET_ID} and {ENV_SECRET_KEY} in the environment")
    base_url: str = args.endpoint
    if not _URL_TEXT_RE.fullmatch(base_url):
        raise UsageError(f"{base_url[:200]!r} is not an http(s) URL in printable ASCII")
    parts = http_url(base_url)
    if parts.query or parts.fragment:
        raise UsageError(f"{base_url[:200]!r}: the base URL has no query or fragment")
    request = request_from_json(argument(args.request, stdin))
    query = signed_query(
        request,
        secret_id=secret_id,
        secret_key=secret_key,
        region=args.region,
        method=args.method,
        host=parts.netloc,
        path=parts.path or "/",
        signature_method=args.signature_method,
    )
    write_line(out, query if args.method == "POST" else f"{base_url}?{query}")
    return EXIT_OK
