"""a JSON request (PascalCase) -> the query string

``describe-images encode JSON|- [--base 0|1] [--unchecked]`` prints the query; a request
of the wrong shape or type, or one that breaks a rule (unless ``--unchecked``), is
refused with its verdict (exit 1); text that is not JSON is a usage error.
"""

from __future__ import annotations

import argparse
from typing import Final, TextIO

from .._encode import encode_query
from .._errors import RequestError
from .._rules import validate
from . import EXIT_OK, write_line
from ._inputs import argument, base, request_from_json

NAME: Final = "encode"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("request", help="the JSON request, or - for stdin")
    parser.add_argument(
        "--base", type=base, default=0, metavar="{0,1}", help="list base (default 0)"
    )
    parser.add_argument("--unchecked", action="store_true", help="encode even if a rule is broken")


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    request = request_from_json(argument(args.request, stdin))
    if not args.unchecked:
        found = validate(request)
        if found:
            raise RequestError(found)
    write_line(out, encode_query(request, base=args.base))
    return EXIT_OK
