"""The ``describe-images`` command line (also ``python -m describe_images``).

This package is the one boundary where text becomes arguments and results become output
and exit codes (README.md#command-line-reference); the library below returns values or raises. One
module per subcommand, each with ``configure(parser)`` and ``run(args, stdin, out, err)``:
``run`` prints what the command produces and returns its exit code, and leaves every
library error to :func:`main`, which renders it with :func:`render` (the one formatter).

Exit codes: 0 success (a valid request, a good signature, every case passed), 1 a rule
broken or a check failed (or the work could not be done: a bad catalog, a busy port),
2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO

from .._errors import DescribeImagesError, DocumentError, RequestError, UsageError

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130

PROG: Final = "describe-images"
DESCRIPTION: Final = (
    "Validate, encode, sign and serve Tencent Cloud DescribeImages (2017-03-12) requests."
)


class CommandError(DescribeImagesError):
    """A command could not do its work (a catalog it cannot load, an address it cannot
    bind): one line on stderr, exit 1."""


# --- output ----------------------------------------------------------------------------------

_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


def _text(text: str) -> str:
    # Lone surrogates (undecodable bytes in argv or stdin) become \udcXX, so the output is
    # always UTF-8; inside a JSON string that is the JSON escape of the same character.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def write_line(stream: TextIO, text: str) -> None:
    stream.write(_text(text) + "\n")


def write_json(stream: TextIO, data: object) -> None:
    """One JSON document on one line (non-ASCII kept as is)."""
    write_line(stream, json.dumps(data, ensure_ascii=False))


def _one_line(message: str) -> str:
    return _CONTROL_RE.sub(lambda m: repr(m[0])[1:-1], message)


# --- the one formatter -----------------------------------------------------------------------


def verdict(error: RequestError | DocumentError) -> dict[str, Any]:
    """An error with violations as the command line prints it, for every subcommand:
    ``{"valid": false, "error": {"Code", "Message"}, "violations": [{code, reason, path,
    message}, ...]}`` (``Code`` and ``Message`` are what a server would answer)."""
    return {
        "valid": False,
        "error": {"Code": error.code, "Message": error.message},
        "violations": [v.to_dict() for v in error.violations],
    }


def render(error: DescribeImagesError, prog: str, out: TextIO, err: TextIO) -> int:
    """Print a library error a command raised and return the exit code: an error with
    violations is the :func:`verdict` on stdout (exit 1); any other is one line
    ``<prog>: error: <message>`` on stderr (exit 2 for a :class:`UsageError`, else 1)."""
    if isinstance(error, (RequestError, DocumentError)):
        write_json(out, verdict(error))
        return EXIT_FAILED
    write_line(err, f"{prog}: error: {_one_line(str(error))}")
    return EXIT_USAGE if isinstance(error, UsageError) else EXIT_FAILED


# --- the parser ------------------------------------------------------------------------------


class _Refused(UsageError):
    """argparse refused the arguments; ``prog`` names the (sub)command it was parsing."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Helped(Exception):
    """``--help`` was printed: exit 0."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors raised (never ``sys.exit``) and its help written to
    ``out`` (set by :func:`build_parser`; stdout by default)."""

    out: TextIO | None = None

    def error(self, message: str) -> NoReturn:
        raise _Refused(self.prog, message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _Helped  # only --help gets here: every error goes through error()

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_help(file or self.out or sys.stdout)


def build_parser(out: TextIO | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; each one's help is its module's first doc line."""
    from . import conformance, decode, encode, serve, sign, validate, verify

    parser = _Parser(prog=PROG, description=DESCRIPTION)
    parser.out = out
    sub = parser.add_subparsers(dest="command", required=True)  # each one a _Parser too
    for command in (validate, encode, decode, serve, conformance, sign, verify):
        summary = (command.__doc__ or "").partition("\n")[0]
        child = sub.add_parser(command.NAME, help=summary, description=summary)
        child.out = out
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command line and return its exit code (the ``describe-images`` script)."""
    if stdin is None:
        stdin = sys.stdin
        if isinstance(stdin, io.TextIOWrapper):
            # Undecodable bytes on stdin are read as argv's are, as lone surrogates, so the
            # codec reports them (bad-utf8) instead of the stream raising.
            stdin.reconfigure(errors="surrogateescape")
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        return _main(argv, stdin, out, err)
    except KeyboardInterrupt:
        write_line(err, f"{PROG}: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed early (| head): nothing more to say
        return EXIT_FAILED


def _main(argv: Sequence[str] | None, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    try:
        args, extra = build_parser(out).parse_known_args(argv)
    except _Refused as exc:
        return render(exc, exc.prog, out, err)
    except _Helped:
        return EXIT_OK
    if extra:  # refused here rather than by parse_args, to name the subcommand
        message = f"unrecognized arguments: {' '.join(extra)}"
        return render(UsageError(message), f"{PROG} {args.command}", out, err)
    try:
        status: int = args.run(args, stdin, out, err)
    except DescribeImagesError as exc:
        # Only the library's own errors are rendered: any other exception is a bug, and
        # its traceback is the report (README.md#output).
        return render(exc, f"{PROG} {args.command}", out, err)
    return status
