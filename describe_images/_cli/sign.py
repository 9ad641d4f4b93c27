"""print a signed call for a JSON request (keys from the environment)

``describe-images sign JSON|- [--region R] [--method GET|POST] [--endpoint URL]
[--signature-method HmacSHA1|HmacSHA256] [--tc3 [--unsigned-payload]] [--token T]
[--timestamp T] [--curl]`` prints the signed URL (GET) or the form body to send to the
endpoint (POST), a legacy v1 call; with ``--tc3``, an API 3.0 call signed with
TC3-HMAC-SHA256: the request line, the headers and the JSON body (POST, the default) or the
dotted query (GET). ``--curl`` prints either as one ready ``curl`` command instead.
Credentials come only from ``TENCENTCLOUD_SECRET_ID`` and ``TENCENTCLOUD_SECRET_KEY``,
never from the command line, where they would land in shell history and process listings
(README.md#sign-and-verify).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from typing import Final, TextIO

from .._errors import UsageError
from .._grammar import is_utf8
from .._signing import signed_query
from .._spec import API3_HOST, API3_PATH, ENDPOINT, METHODS, SIGNATURE_METHODS
from .._tc3 import tc3_sign
from . import EXIT_OK, write_line
from ._inputs import argument, http_url, request_from_json

NAME: Final = "sign"
ENV_SECRET_ID: Final = "TENCENTCLOUD_SECRET_ID"
ENV_SECRET_KEY: Final = "TENCENTCLOUD_SECRET_KEY"
DEFAULT_ENDPOINT: Final = ENDPOINT
DEFAULT_TC3_ENDPOINT: Final = f"https://{API3_HOST}{API3_PATH}"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
# The endpoint is signed as written and sent as written: printable ASCII, as an HTTP
# request line and Host header carry it (an IDN host in its xn-- form).
_URL_TEXT_RE: Final = re.compile(r"[!-~]+")
# A Unix time in ASCII digits (README.md#text-in-text-out); tc3_sign and signed_query check the
# range. Twenty digits are more than any range allows, and fewer than Python's int limit.
_TIMESTAMP_RE: Final = re.compile(r"[0-9]{1,20}")


def _timestamp(text: str) -> int:
    if not _TIMESTAMP_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"a Unix time is 1 to 20 digits 0-9, not {text[:30]!r}")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("request", help="the JSON request, or - for stdin")
    parser.add_argument("--region", help="the Region to sign in (default: none)")
    parser.add_argument(
        "--method",
        choices=METHODS,
        help="GET: the signed URL (or, with --tc3, the dotted query); POST: the form body "
        "(with --tc3, the JSON body). Default GET, with --tc3 POST (the SDK's default)",
    )
    parser.add_argument(
        "--signature-method",
        choices=SIGNATURE_METHODS,
        help="the v1 HMAC (default HmacSHA256; not with --tc3)",
    )
    parser.add_argument(
        "--tc3",
        action="store_true",
        help="an API 3.0 call signed with TC3-HMAC-SHA256: Action, Version, Region, "
        "Timestamp and Token in X-TC-* headers",
    )
    parser.add_argument(
        "--unsigned-payload",
        action="store_true",
        help="with --tc3: sign UNSIGNED-PAYLOAD instead of the body's hash",
    )
    parser.add_argument("--token", help="a temporary credential's token (default: none)")
    parser.add_argument(
        "--timestamp", type=_timestamp, help="the Unix time to sign with (default: now)"
    )
    parser.add_argument(
        "--curl",
        action="store_true",
        help="print one curl command that sends exactly the signed bytes",
    )
    parser.add_argument(
        "--endpoint",
        help=f"the URL to sign for (default {DEFAULT_ENDPOINT}, with --tc3 "
        f"{DEFAULT_TC3_ENDPOINT})",
    )


def _secret(name: str) -> str:
    value = os.environ.get(name, "")
    if not is_utf8(value):
        raise UsageError(f"{name} is not UTF-8 text")
    return value


def secrets() -> tuple[str, str]:
    """The SecretId and SecretKey from the environment (a usage error when unset)."""
    secret_id, secret_key = _secret(ENV_SECRET_ID), _secret(ENV_SECRET_KEY)
    if not secret_id or not secret_key:
        raise UsageError(f"set {ENV_SECRET_ID} and {ENV_SECRET_KEY} in the environment")
    return secret_id, secret_key


def curl(method: str, url: str, headers: list[tuple[str, str]], body: bytes | None) -> str:
    """One shell command that sends exactly this call: ``--globoff`` so that ``[]{}`` in
    the URL are not curl patterns, every header given (``Host`` too, so it is the signed
    text even where curl would write it otherwise), the body by ``--data-binary`` (sent
    byte for byte; bodies here start with ``{`` or a name, never the ``@`` that would
    read a file).

    >>> curl("GET", "https://h/?Limit=1", [("Host", "h")], None)
    "curl --globoff -H 'Host: h' 'https://h/?Limit=1'"
    """
    words = ["curl", "--globoff"]
    if method != "GET" and body is None:
        words += ["-X", method]
    for name, value in headers:
        words += ["-H", f"{name}: {value}"]
    if body is not None:
        words += ["--data-binary", body.decode("utf-8")]
    words.append(url)
    return " ".join(shlex.quote(word) for word in words)


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    if not args.tc3 and args.unsigned_payload:
        raise UsageError("--unsigned-payload is a TC3 option: add --tc3")
    if args.tc3 and args.signature_method is not None:
        raise UsageError("--signature-method is the v1 HMAC: leave it out with --tc3")
    secret_id, secret_key = secrets()
    default = DEFAULT_TC3_ENDPOINT if args.tc3 else DEFAULT_ENDPOINT
    base_url: str = default if args.endpoint is None else args.endpoint
    if not _URL_TEXT_RE.fullmatch(base_url):
        raise UsageError(f"{base_url[:200]!r} is not an http(s) URL in printable ASCII")
    parts = http_url(base_url)
    if parts.query or parts.fragment:
        raise UsageError(f"{base_url[:200]!r}: the base URL has no query or fragment")
    request = request_from_json(argument(args.request, stdin))
    if args.tc3:
        call = tc3_sign(
            request,
            secret_id=secret_id,
            secret_key=secret_key,
            method=args.method or "POST",
            host=parts.netloc,
            path=parts.path or "/",
            region=args.region,
            timestamp=args.timestamp,
            token=args.token,
            unsigned_payload=args.unsigned_payload,
        )
        url = f"{parts.scheme}://{parts.netloc}{call.target}"
        body = call.body if call.method == "POST" else None
        if args.curl:
            write_line(out, curl(call.method, url, list(call.headers), body))
            return EXIT_OK
        # The call as an HTTP message: request line, headers, and after a blank line the
        # body (a POST's; a GET has none).
        write_line(out, f"{call.method} {url}")
        for name, value in call.headers:
            write_line(out, f"{name}: {value}")
        if body is not None:
            write_line(out, "")
            write_line(out, body.decode("utf-8"))
        return EXIT_OK
    method = args.method or "GET"
    query = signed_query(
        request,
        secret_id=secret_id,
        secret_key=secret_key,
        region=args.region,
        method=method,
        host=parts.netloc,
        path=parts.path or "/",
        signature_method=args.signature_method or "HmacSHA256",
        timestamp=args.timestamp,
        token=args.token,
    )
    if args.curl:
        if method == "GET":
            command = curl("GET", f"{base_url}?{query}", [("Host", parts.netloc)], None)
        else:
            headers = [("Content-Type", FORM_TYPE), ("Host", parts.netloc)]
            command = curl("POST", base_url, headers, query.encode("ascii"))
        write_line(out, command)
        return EXIT_OK
    write_line(out, query if method == "POST" else f"{base_url}?{query}")
    return EXIT_OK
