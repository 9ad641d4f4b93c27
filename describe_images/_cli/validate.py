"""check a query, URL or form body against every rule

``describe-images validate QUERY|URL|-`` prints ``{"valid": true, "request": {...}}``
(exit 0) or the verdict of every violation (exit 1); ``--envelope`` prints the Tencent
error envelope instead; ``--batch`` checks one query per stdin line
(README.md#validate-encode-and-decode).
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any, Final, TextIO

from .._decode import decode_request
from .._errors import RequestError, UsageError
from . import EXIT_FAILED, EXIT_OK, verdict, write_json
from ._inputs import argument

NAME: Final = "validate"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="?", help="the query string, a full URL, or - for stdin")
    parser.add_argument("--envelope", action="store_true", help="print the Tencent error envelope")
    parser.add_argument(
        "--batch", action="store_true", help="one query per stdin line, one JSON per line"
    )


def _check(query: str, envelope: bool) -> tuple[int, dict[str, Any]]:
    try:
        request = decode_request(query)
    except RequestError as error:
        if envelope:
            return EXIT_FAILED, error.to_response(str(uuid.uuid4()))
        return EXIT_FAILED, verdict(error)
    return EXIT_OK, {"valid": True, "request": request.to_dict()}


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    if args.batch:
        if args.query not in (None, "-"):
            raise UsageError("--batch reads queries from stdin; give no QUERY (or -)")
        status = EXIT_OK
        for line in stdin:
            code, result = _check(line.rstrip("\r\n"), args.envelope)
            status = max(status, code)
            write_json(out, result)
        return status
    if args.query is None:
        raise UsageError("validate needs a QUERY, a URL or - (stdin)")
    code, result = _check(argument(args.query, stdin), args.envelope)
    write_json(out, result)
    return code
