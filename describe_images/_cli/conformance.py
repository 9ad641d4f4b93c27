"""run the spec's vectors against a live endpoint

``describe-images conformance URL [--method GET|POST]`` prints a line per vector and the
summary ``N passed, M failed``; exit 0 when every case passed, 1 when any failed or
nothing answered (spec/README.md §3.5).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Final, TextIO

from .._spec import METHODS
from . import EXIT_FAILED, EXIT_OK, write_line

if TYPE_CHECKING:
    from .._conformance import ConformanceReport

NAME: Final = "conformance"
SERVE_HINT: Final = "describe-images serve --catalog spec/vectors/query.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8000/v2/index.php")
    parser.add_argument(
        "--method", choices=METHODS, default="GET", help="how to send (default GET)"
    )


def lines(report: ConformanceReport) -> list[str]:
    """The report as the command prints it."""
    if report.unreachable:
        return [
            f"describe-images conformance: cannot reach {report.url}: {report.unreachable}",
            _summary(report),
        ]
    out = [
        f"describe-images conformance: {report.url} by {report.method}: "
        f"{report.validate_count} validate and {report.query_count} query vectors",
        "query vectors: checking TotalCount and ImageIds (the server holds their catalog)"
        if report.compared
        else "query vectors: checking only that each succeeds (to check results too, serve "
        f"the vectors' catalog: {SERVE_HINT})",
    ]
    for result in report.results:
        name = f"{result.kind}/{result.id}"
        out.append(f"PASS {name}" if result.passed else f"FAIL {name}: {result.problem}")
    out.append(_summary(report))
    return out


def _summary(report: ConformanceReport) -> str:
    return f"{report.passed} passed, {report.failed} failed"


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    # urllib and http.client are loaded only to run the vectors.
    from .. import _conformance

    report = _conformance.run_conformance(args.url, method=args.method)
    for line in lines(report):
        write_line(out, line)
    return EXIT_FAILED if report.failed else EXIT_OK
