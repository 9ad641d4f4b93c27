"""run the spec's vectors against a live endpoint

``describe-images conformance URL [--style legacy|api3-get|api3-post] [--method GET|POST]
[--server] [--credentials FILE | --sign]`` prints a line per vector, a line naming the spec
version of the vectors, and the summary ``N passed, M failed`` (and how many vectors were
not expressible in the style); exit 0 when every case sent passed, 1 when any failed or
nothing answered (README.md#conformance).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Final, TextIO

from .._errors import UsageError
from .._spec import METHODS, SPEC_VERSION
from . import EXIT_FAILED, EXIT_OK, write_line
from ._inputs import load_credentials, path

if TYPE_CHECKING:
    from .._conformance import ConformanceReport, Kind

NAME: Final = "conformance"
SERVE_HINT: Final = "describe-images serve --catalog spec/vectors/query.json"
STYLES: Final = ("legacy", "api3-get", "api3-post")  # _conformance.STYLES, not imported


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8000/v2/index.php")
    parser.add_argument(
        "--style",
        choices=STYLES,
        default="legacy",
        help="legacy: every parameter in the query or form body (default); api3-get: API "
        "3.0, the business parameters in the query, Action, Version and Region in X-TC-* "
        "headers; api3-post: API 3.0 with a JSON body (the json.json vectors too)",
    )
    parser.add_argument(
        "--method", choices=METHODS, help="how to send legacy calls (default GET)"
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="also send the server.json vectors (HTTP behaviour of an unsigned server: "
        "paths, methods, Content-Type, API 3.0 headers), each to the URL's host",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--credentials",
        type=path,
        help="a JSON file {SecretId: SecretKey} with one key: sign every call with it "
        "(v1 for legacy, TC3-HMAC-SHA256 for API 3.0)",
    )
    keys.add_argument(
        "--sign",
        action="store_true",
        help="sign with TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY",
    )


def lines(report: ConformanceReport) -> list[str]:
    """The report as the command prints it."""
    if report.unreachable:
        return [
            f"describe-images conformance: cannot reach {report.url}: {report.unreachable}",
            _summary(report),
        ]
    how = report.method if report.style == "legacy" else f"{report.method} ({report.style})"
    if report.signed_as:
        algorithm = "v1" if report.style == "legacy" else "TC3"
        how += f", {algorithm}-signed as {report.signed_as}"
    numbers = [f"{report.validate_count} validate", f"{report.query_count} query"]
    numbers += [f"{report.json_count} json"] if report.style == "api3-post" else []
    numbers += [f"{report.server_count} server"] if report.server_count else []
    counts = f"{', '.join(numbers[:-1])} and {numbers[-1]} vectors"
    out = [
        f"describe-images conformance: {report.url} by {how}: {counts}",
        "query vectors: checking TotalCount and ImageIds (the server holds their catalog)"
        if report.compared
        else "query vectors: checking only that each succeeds (to check results too, serve "
        f"the vectors' catalog: {SERVE_HINT})",
    ]
    if report.server_count:
        out.append(
            "server vectors: checking TotalCount and ImageIds (the server holds their catalog)"
            if report.server_compared
            else "server vectors: checking only that each succeeds (their catalog is the "
            "embedded one: describe-images serve)"
        )
    for result in report.results:
        name = f"{result.kind}/{result.id}"
        out.append(f"PASS {name}" if result.passed else f"FAIL {name}: {result.problem}")
    for result in report.not_expressible:
        out.append(f"SKIP {result.kind}/{result.id}: {result.problem}")
    out.append(f"vectors of spec {SPEC_VERSION}")
    if report.not_expressible or report.style != "legacy" or report.signed_as:
        kinds: tuple[Kind, ...] = ("validate", "query")
        kinds += ("json",) if report.style == "api3-post" else ()
        kinds += ("server",) if report.server_count else ()
        sent = ", ".join(f"{report.sent(kind)} {kind}" for kind in kinds)
        skipped = ", ".join(f"{report.skipped(kind)} {kind}" for kind in kinds)
        out.append(f"sent: {sent}; not expressible: {skipped}")
    out.append(_summary(report))
    return out


def _summary(report: ConformanceReport) -> str:
    summary = f"{report.passed} passed, {report.failed} failed"
    if report.not_expressible:
        summary += f", {len(report.not_expressible)} not expressible"
    return summary


def _keys(args: argparse.Namespace) -> tuple[str, str] | None:
    if args.sign:
        from .sign import secrets

        return secrets()
    if args.credentials is None:
        return None
    keys = load_credentials(args.credentials)
    if len(keys) != 1:
        raise UsageError(
            f"credentials {args.credentials!r} hold {len(keys)} keys; the runner signs with "
            "exactly one"
        )
    [(secret_id, secret_key)] = keys.items()
    if not secret_id or not secret_key:
        raise UsageError(f"credentials {args.credentials!r}: an empty SecretId or SecretKey")
    return secret_id, secret_key


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    # urllib and http.client are loaded only to run the vectors.
    from .. import _conformance

    if args.style != "legacy" and args.method is not None:
        raise UsageError(f"--method is for legacy calls; --style {args.style} sets it")
    report = _conformance.run_conformance(
        args.url,
        method=args.method,
        style=args.style,
        credentials=_keys(args),
        server=args.server,
    )
    for line in lines(report):
        write_line(out, line)
    return EXIT_FAILED if report.failed else EXIT_OK
