"""The ``describe-images`` command line (also ``python -m describe_images``).

Exit codes: 0 success, 1 the input broke a rule (or a check failed), 2 a usage error
(one line on stderr). No input ever produces a traceback (spec/README.md §2.9).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import uuid
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from ._decode import decode_request, query_part
from ._encode import encode_query
from ._errors import RequestError, UsageError
from ._grammar import DEFAULT_LIMITS
from ._model import DescribeImagesRequest
from ._pairs import parse_query
from ._rules import validate
from ._tree import unflatten

PROG = "describe-images"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _dump(data: object, out: TextIO) -> None:
    out.write(json.dumps(data, ensure_ascii=False) + "\n")


def _read(arg: str, stdin: TextIO) -> str:
    if arg == "-":
        return stdin.read().rstrip("\r\n")
    return arg


def _failure(error: RequestError) -> dict[str, Any]:
    return {
        "valid": False,
        "error": {"Code": error.code, "Message": error.message},
        "violations": [v.to_dict() for v in error.violations],
    }


def _validate_one(query: str, envelope: bool) -> tuple[int, dict[str, Any]]:
    try:
        request = decode_request(query)
    except RequestError as error:
        if envelope:
            return 1, error.to_response(str(uuid.uuid4()))
        return 1, _failure(error)
    return 0, {"valid": True, "request": request.to_dict()}


def _cmd_validate(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    if args.batch:
        if args.query not in (None, "-"):
            raise UsageError("--batch reads queries from stdin; give no QUERY (or -)")
        status = 0
        for line in stdin:
            code, result = _validate_one(line.rstrip("\r\n"), args.envelope)
            status = max(status, code)
            _dump(result, out)
        return status
    if args.query is None:
        raise UsageError("validate needs a QUERY, a URL or - (stdin)")
    code, result = _validate_one(_read(args.query, stdin), args.envelope)
    _dump(result, out)
    return code


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"the request is not valid JSON: {exc}") from None


def _cmd_encode(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    data = _load_json(_read(args.request, stdin))
    try:
        request = DescribeImagesRequest.from_dict(data)
        if not args.unchecked:
            found = validate(request)
            if found:
                raise RequestError(found)
    except RequestError as error:
        _dump(_failure(error), out)
        return 1
    out.write(encode_query(request, base=args.base) + "\n")
    return 0


def _cmd_decode(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    try:
        tree = unflatten(parse_query(query_part(_read(args.query, stdin), DEFAULT_LIMITS)))
    except RequestError as error:
        _dump(_failure(error), out)
        return 1
    _dump(tree, out)
    return 0


def _cmd_serve(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from ._signing import make_verifier
    from ._signing_cli import load_credentials
    from .server import serve_main

    verify = None
    if args.credentials is not None:
        verify = make_verifier(load_credentials(args.credentials), max_skew=args.max_skew)
    return serve_main(args.host, args.port, args.catalog, verify=verify, log=err)


def _cmd_conformance(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from ._conformance import run_conformance

    return run_conformance(args.url, out=out, method=args.method)


def _cmd_sign(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from ._signing_cli import sign_main

    return sign_main(
        _read(args.request, stdin),
        region=args.region,
        method=args.method,
        base_url=args.endpoint,
        signature_method=args.signature_method,
        out=out,
        err=err,
    )


def _cmd_verify(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from ._signing_cli import verify_main

    return verify_main(
        _read(args.url, stdin),
        args.credentials,
        method=args.method,
        data=args.data,
        max_skew=args.max_skew,
        now=args.now,
        out=out,
        err=err,
    )


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {text[:20]!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"seconds must be a finite number >= 0, not {text[:20]!r}")
    return value


def _unix_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"a Unix time is a finite number, not {text[:20]!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Validate, encode, sign and serve Tencent Cloud DescribeImages (2017-03-12) "
        "requests.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check a query, URL or form body against every rule")
    p.add_argument("query", nargs="?", help="the query string, a full URL, or - for stdin")
    p.add_argument("--envelope", action="store_true", help="print the Tencent error envelope")
    p.add_argument(
        "--batch", action="store_true", help="one query per stdin line, one JSON per line"
    )
    p.set_defaults(run=_cmd_validate)

    p = sub.add_parser("encode", help="a JSON request (PascalCase) -> the query string")
    p.add_argument("request", help="the JSON request, or - for stdin")
    p.add_argument("--base", type=int, choices=(0, 1), default=0, help="list base (default 0)")
    p.add_argument("--unchecked", action="store_true", help="encode even if a rule is broken")
    p.set_defaults(run=_cmd_encode)

    p = sub.add_parser("decode", help="a query -> its wire tree as JSON (no schema rules)")
    p.add_argument("query", help="the query string, a full URL, or - for stdin")
    p.set_defaults(run=_cmd_decode)

    p = sub.add_parser("serve", help="run the reference server (stdlib wsgiref)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8000)
    p.add_argument("--catalog", help="a JSON file of Images (default: the embedded catalog)")
    p.add_argument("--credentials", help="a JSON file {SecretId: SecretKey}: require signatures")
    p.add_argument("--max-skew", type=_seconds, default=300, help="signature clock skew, seconds")
    p.set_defaults(run=_cmd_serve)

    p = sub.add_parser("conformance", help="run the spec's vectors against a live endpoint")
    p.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8000/v2/index.php")
    p.add_argument("--method", choices=("GET", "POST"), default="GET", help="how to send")
    p.set_defaults(run=_cmd_conformance)

    p = sub.add_parser("sign", help="print a signed URL for a JSON request (keys from env)")
    p.add_argument("request", help="the JSON request, or - for stdin")
    p.add_argument("--region", default=None)
    p.add_argument("--method", choices=("GET", "POST"), default="GET")
    p.add_argument("--signature-method", choices=("HmacSHA1", "HmacSHA256"), default="HmacSHA256")
    p.add_argument("--endpoint", default="https://image.api.qcloud.com/v2/index.php")
    p.set_defaults(run=_cmd_sign)

    p = sub.add_parser("verify", help="verify a signed URL's signature")
    p.add_argument("url", help="the signed URL, or - for stdin")
    p.add_argument("--credentials", required=True, help="a JSON file {SecretId: SecretKey}")
    p.add_argument("--method", choices=("GET", "POST"), default="GET")
    p.add_argument("--data", help="the POST form body (the URL's query is then ignored)")
    p.add_argument("--max-skew", type=_seconds, default=300, help="seconds (default 300)")
    p.add_argument("--now", type=_unix_time, help="the Unix time to check against (default: now)")
    p.set_defaults(run=_cmd_verify)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        args = build_parser().parse_args(argv)
        status: int = args.run(args, stdin, out, err)
        return status
    except UsageError as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        return 1
