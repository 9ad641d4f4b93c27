"""a query -> its wire tree as JSON (no schema rules)

``describe-images decode QUERY|URL|-`` prints the tree the codec reads (exit 0), or the
verdict of what the codec refuses (exit 1).
"""

from __future__ import annotations

import argparse
from typing import Final, TextIO

from .._decode import query_part
from .._grammar import DEFAULT_LIMITS
from .._pairs import parse_query
from .._tree import unflatten
from . import EXIT_OK, write_json
from ._inputs import argument

NAME: Final = "decode"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="the query string, a full URL, or - for stdin")


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    query = query_part(argument(args.query, stdin), DEFAULT_LIMITS)
    write_json(out, unflatten(parse_query(query)))
    return EXIT_OK
