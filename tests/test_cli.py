"""The describe-images command line (describe_images._cli), in-process through main()."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import runpy
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal
from unittest import mock
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import describe_images
import describe_images.server
from describe_images import AuthError
from describe_images._catalog import default_catalog
from describe_images._cli import main
from describe_images._conformance import _Client, load_vectors
from describe_images._grammar import is_utf8
from describe_images._model import DescribeImagesRequest
from describe_images._pairs import format_query, parse_query
from describe_images._signing import sign, signed_query, verify
from describe_images._tc3 import tc3_sign, tc3_verify

ROOT = Path(__file__).resolve().parent.parent
SEED_2_QUERY = (
    "Action=DescribeImages&Version=2017-03-12"
    "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
)
SEED_2_URL = f"https://image.api.qcloud.com/v2/index.php?{SEED_2_QUERY}"
SEED_2_FILTERS = [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]
SEED_1_JSON = '{"ImageIds": ["img-pmqg1cw7"]}'
ENDPOINT = "https://image.api.qcloud.com/v2/index.php"
SECRET_ID = "AKIDcliTest00000000000000000000000"
SECRET_KEY = "cliTestSecretKey000000000000000"
ENV_ID = "TENCENTCLOUD_SECRET_ID"
ENV_KEY = "TENCENTCLOUD_SECRET_KEY"


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(stdin), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def request_of(result: dict[str, Any]) -> dict[str, Any]:
    """validate's "request" without "Action" (which it may or may not list: its default)."""
    request = dict(result["request"])
    assert request.pop("Action", "DescribeImages") == "DescribeImages"
    return request


def violations_of(out: str) -> list[tuple[str, str, str]]:
    """The (code, reason, path) of each violation in a printed verdict."""
    verdict = json.loads(out)
    assert verdict["valid"] is False
    return [(v["code"], v["reason"], v["path"]) for v in verdict["violations"]]


# --- validate, encode, decode ---------------------------------------------------------------


def test_validate_valid_url() -> None:
    status, out, err = run("validate", SEED_2_URL)
    assert (status, err) == (0, "")
    result = json.loads(out)
    assert set(result) == {"valid", "request"} and result["valid"] is True
    assert request_of(result) == {"Filters": SEED_2_FILTERS}


def test_validate_invalid_lists_every_violation() -> None:
    status, out, err = run(
        "validate", "Action=DescribeImages&Version=2017-03-12&Limit=101&Offset=x"
    )
    assert (status, err) == (1, "")
    result: dict[str, Any] = json.loads(out)
    assert result["valid"] is False
    assert result["error"] == {
        "Code": "InvalidParameterValue",
        "Message": "Offset is 'x'; it must be an integer from 0 to 9223372036854775807 "
        "(and 1 more problem)",
    }
    assert violations_of(out) == [
        ("InvalidParameterValue", "invalid-offset", "Offset"),
        ("InvalidParameterValue.InvalidParameterValueLimit", "invalid-limit", "Limit"),
    ]


def test_validate_envelope() -> None:
    status, out, _ = run("validate", "--envelope", "Action=DescribeImages")
    assert status == 1
    envelope = json.loads(out)
    assert envelope["Response"]["Error"] == {
        "Code": "MissingParameter",
        "Message": "Version is required",
    }
    assert len(envelope["Response"]["RequestId"]) == 36


def test_validate_stdin_and_batch() -> None:
    status, out, _ = run("validate", "-", stdin=SEED_2_URL + "\n")
    assert status == 0 and json.loads(out)["valid"] is True
    lines = f"{SEED_2_URL}\nAction=DescribeImages\r\n"
    status, out, _ = run("validate", "--batch", stdin=lines)
    assert status == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert request_of(first) == {"Filters": SEED_2_FILTERS}
    assert second["error"] == {"Code": "MissingParameter", "Message": "Version is required"}
    status, out, _ = run("validate", "--batch", "--envelope", "-", stdin=lines)
    assert status == 1
    assert json.loads(out.splitlines()[1])["Response"]["Error"]["Code"] == "MissingParameter"
    assert run("validate", "--batch", stdin="") == (0, "", "")
    # Each line loses its line ending only.
    lines = f"{SEED_2_QUERY}&Region=X%20 \r\n{SEED_2_QUERY}&Region=X\n"
    status, out, _ = run("validate", "--batch", stdin=lines)
    assert status == 0
    assert [json.loads(line)["request"]["Region"] for line in out.splitlines()] == ["X  ", "X"]
    assert run("validate", "--batch", "x=1") == (
        2,
        "",
        "describe-images validate: error: --batch reads queries from stdin; give no QUERY (or -)\n",
    )


def test_encode_and_decode() -> None:
    request = json.dumps({"Filters": SEED_2_FILTERS})
    status, out, _ = run("encode", request, "--base", "1")
    assert (status, out) == (0, SEED_2_QUERY + "\n")
    status, out, _ = run("encode", "-", stdin=request + "\n")
    assert (status, out) == (0, SEED_2_QUERY.replace(".1.", ".0.").replace(".1=", ".0=") + "\n")
    status, out, _ = run("decode", SEED_2_URL)
    assert status == 0
    assert json.loads(out) == {
        "Action": "DescribeImages",
        "Version": "2017-03-12",
        "Filters": SEED_2_FILTERS,
    }
    status, out, _ = run("decode", "-", stdin="a.0=%C3%A9\n")
    assert (status, out) == (0, '{"a": ["é"]}\n')


def test_encode_refuses_invalid_unless_unchecked() -> None:
    request = json.dumps({"Limit": 1000})
    status, out, _ = run("encode", request)
    assert status == 1
    assert json.loads(out)["error"]["Code"] == "InvalidParameterValue.InvalidParameterValueLimit"
    status, out, _ = run("encode", request, "--unchecked")
    assert (status, out) == (0, "Action=DescribeImages&Version=2017-03-12&Limit=1000\n")
    status, out, _ = run("encode", '{"Limit": "5"}')
    assert status == 1 and violations_of(out) == [("InvalidParameter", "wrong-type", "Limit")]


def test_decode_wire_error() -> None:
    status, out, _ = run("decode", "a.01=1")
    assert status == 1
    assert violations_of(out) == [("InvalidParameter", "bad-index", "a.01")]


# --- one rendering of a request that breaks a rule, for every subcommand ------------------


def test_every_subcommand_renders_a_broken_rule_the_same_way(keys: None, credentials: str) -> None:
    """validate, encode, decode, sign and verify print the same verdict object on stdout,
    exit 1, and nothing on stderr."""
    cases = [
        ("validate", "Action=DescribeImages&Version=2017-03-12&Limit=0"),
        ("encode", '{"Limit": 0}'),
        ("sign", '{"Limit": 0}'),
        ("decode", "Limit.01=0"),
        ("verify", f"{ENDPOINT}?Action=DescribeImages", "--credentials", credentials),
    ]
    for argv in cases:
        status, out, err = run(*argv)
        assert (status, err) == (1, ""), argv
        verdict = json.loads(out)
        assert out == json.dumps(verdict, ensure_ascii=False) + "\n"
        assert list(verdict) == ["valid", "error", "violations"]
        assert verdict["valid"] is False
        first = verdict["violations"][0]
        assert list(first) == ["code", "reason", "path", "message"]
        assert verdict["error"]["Code"] == first["code"]
        assert verdict["error"]["Message"].startswith(first["message"])


# --- usage errors: one line, one prefix ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        ((), "describe-images: error: the following arguments are required: command"),
        (
            ("frobnicate",),
            "describe-images: error: argument command: invalid choice: 'frobnicate' (choose "
            "from 'validate', 'encode', 'decode', 'serve', 'conformance', 'sign', 'verify')",
        ),
        (("encode", "{not json"), "describe-images encode: error: the request is not valid JSON: "),
        (
            ("encode", "{}", "--base", "2"),
            "describe-images encode: error: argument --base: the list base is 0 or 1, not '2'",
        ),
        (("validate",), "describe-images validate: error: validate needs a QUERY, a URL or - "),
        (("validate", "--batch", "x=1"), "describe-images validate: error: --batch reads "),
        (("validate", "x", "y"), "describe-images validate: error: unrecognized arguments: y"),
        (
            ("validate", "x", "--frob", "a\nb"),
            "describe-images validate: error: unrecognized arguments: --frob a\\nb",
        ),
        (("decode",), "describe-images decode: error: the following arguments are required: "),
        (("serve", "--port"), "describe-images serve: error: argument --port: expected one "),
        (
            ("conformance", "ftp://example.com/x"),
            "describe-images conformance: error: 'ftp://example.com/x' is not an "
            "http(s)://host[:port][/path] URL",
        ),
        (
            ("conformance", "http://127.0.0.1/", "--method", "PUT"),
            "describe-images conformance: error: argument --method: invalid choice: 'PUT'",
        ),
        (
            ("verify", ENDPOINT),
            "describe-images verify: error: the following arguments are required: --credentials",
        ),
    ],
)
def test_usage_errors_are_one_line(argv: tuple[str, ...], line: str) -> None:
    status, out, err = run(*argv)
    assert (status, out) == (2, "")
    assert err.startswith(line)
    assert err.count("\n") == 1 and err.endswith("\n")


HELP = {
    "validate": (
        "check a query, URL or form body against every rule",
        "the query string, a full URL, or - for stdin",
        "print the Tencent error envelope",
        "one query per stdin line, one JSON per line",
    ),
    "encode": (
        "a JSON request (PascalCase) -> the query string",
        "the JSON request, or - for stdin",
        "list base (default 0)",
        "encode even if a rule is broken",
    ),
    "decode": (
        "a query -> its wire tree as JSON (no schema rules)",
        "the query string, a full URL, or - for stdin",
    ),
    "serve": (
        "run the reference server (stdlib wsgiref)",
        "the address to listen on (default 127.0.0.1)",
        "the port (default 8000; 0: any free)",
        "a JSON file of Images (default: the embedded catalog)",
        "a JSON file {SecretId: SecretKey}: require signatures",
        "signature clock skew, seconds (default 300)",
    ),
    "conformance": (
        "run the spec's vectors against a live endpoint",
        "the endpoint, e.g. http://127.0.0.1:8000/v2/index.php",
        "legacy: every parameter in the query or form body (default); api3-get: API 3.0, "
        "the business parameters in the query, Action, Version and Region in X-TC-* headers; "
        "api3-post: API 3.0 with a JSON body (the json.json vectors too)",
        "how to send legacy calls (default GET)",
        "a JSON file {SecretId: SecretKey} with one key: sign every call with it (v1 for "
        "legacy, TC3-HMAC-SHA256 for API 3.0)",
        "sign with TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY",
    ),
    "sign": (
        "print a signed call for a JSON request (keys from the environment)",
        "the JSON request, or - for stdin",
        "the Region to sign in (default: none)",
        "GET: the signed URL (or, with --tc3, the dotted query); POST: the form body (with "
        "--tc3, the JSON body). Default GET, with --tc3 POST (the SDK's default)",
        "the v1 HMAC (default HmacSHA256; not with --tc3)",
        "an API 3.0 call signed with TC3-HMAC-SHA256: Action, Version, Region, Timestamp "
        "and Token in X-TC-* headers",
        "with --tc3: sign UNSIGNED-PAYLOAD instead of the body's hash",
        "a temporary credential's token (default: none)",
        "the Unix time to sign with (default: now)",
        "print one curl command that sends exactly the signed bytes",
        "the URL to sign for (default https://image.api.qcloud.com/v2/index.php, with --tc3 "
        "https://cvm.tencentcloudapi.com/)",
    ),
    "verify": (
        "verify a signed URL's signature",
        "the signed URL, or - for stdin",
        "a JSON file {SecretId: SecretKey}",
        "how it was sent (default GET)",
        "the POST form body (the URL's query is then ignored)",
        "seconds (default 300)",
        "the Unix time to check against (default: now)",
    ),
}


def words(text: str) -> str:
    return " ".join(text.split())  # argparse wraps help to the terminal's width


@pytest.mark.parametrize("command", sorted(HELP))
def test_every_option_is_explained(command: str) -> None:
    status, out, err = run(command, "--help")
    assert (status, err) == (0, "")
    assert out.startswith(f"usage: describe-images {command} ")
    summary, *helps = HELP[command]
    if command == "encode":
        assert "[--base {0,1}]" in out
    assert out.splitlines()[out.splitlines().index("") + 1] == summary  # the description
    for text in helps:  # each one whole: nothing glued to either end
        assert re.search(rf"(?<!\S){re.escape(words(text))}(?!\S)", words(out)), text


def test_the_top_level_help_names_every_command() -> None:
    status, out, _ = run("--help")
    assert status == 0
    assert words(
        "Validate, encode, sign and serve Tencent Cloud DescribeImages (2017-03-12) requests."
    ) in words(out)
    for command, (summary, *_) in HELP.items():
        assert words(f"{command} {summary}") in words(out)


def test_help_goes_to_out_and_exits_0() -> None:
    status, out, err = run("validate", "--help")
    assert (status, err) == (0, "")
    assert out.startswith("usage: describe-images validate [-h] [--envelope] [--batch] [query]")
    assert "check a query, URL or form body against every rule" in out
    status, out, _ = run("--help")
    assert status == 0 and "{validate,encode,decode,serve,conformance,sign,verify}" in out


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "describe_images", "validate", SEED_2_URL],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True


def test_undecodable_stdin_is_a_broken_rule_not_a_traceback() -> None:
    """A strict stdin (PYTHONIOENCODING) still reads undecodable bytes as argv does: the
    codec reports them as bad-utf8."""
    done = subprocess.run(
        [sys.executable, "-m", "describe_images", "validate", "-"],
        input=b"Action=DescribeImages&Version=2017-03-12&Region=\xff",
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert (done.returncode, done.stderr) == (1, b"")
    assert violations_of(done.stdout.decode("utf-8")) == [
        ("InvalidParameter", "bad-utf8", "Region")
    ]


def test_cli_glue_is_not_public() -> None:
    public = set(describe_images.__all__)
    assert not public & {"main", "load_credentials", "run_conformance", "serve_main"}
    assert "serve_main" not in describe_images.server.__all__
    assert not hasattr(describe_images.server, "serve_main")


# --- promises kept: ASCII numbers, lone surrogates ------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("serve", "--port", "99999"), "argument --port: a port is 0 to 65535, not '99999'"),
        (("serve", "--port", "-1"), "argument --port: a port is 0 to 65535, not '-1'"),
        (("serve", "--port", "٨٠٠٠"), "argument --port: a port is 0 to 65535, not '٨٠٠٠'"),
        (
            ("serve", "--port", "\uff18\uff10"),
            "argument --port: a port is 0 to 65535, not '\uff18\uff10'",
        ),
        (("serve", "--port", " 80"), "argument --port: a port is 0 to 65535, not ' 80'"),
        (("serve", "--port", "+80"), "argument --port: a port is 0 to 65535, not '+80'"),
        (("serve", "--port", "8_0"), "argument --port: a port is 0 to 65535, not '8_0'"),
        (
            ("serve", "--port", "9" * 5000),
            f"argument --port: a port is 0 to 65535, not {'9' * 20!r}",
        ),
        (
            ("serve", "--max-skew", "nan"),
            "argument --max-skew: seconds must be a finite number >= 0, not 'nan'",
        ),
        (
            ("serve", "--max-skew", "٣٠٠"),
            "argument --max-skew: seconds must be a finite number >= 0, not '٣٠٠'",
        ),
        (
            ("serve", "--max-skew", "1e999"),
            "argument --max-skew: seconds must be a finite number >= 0, not '1e999'",
        ),
        (
            ("serve", "--host", "h\x00"),
            "argument --host: a host is a name or an IP address in printable ASCII, not 'h\\x00'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "x", "--max-skew", "-1"),
            "argument --max-skew: seconds must be a finite number >= 0, not '-1'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "x", "--max-skew", "1_0"),
            "argument --max-skew: seconds must be a finite number >= 0, not '1_0'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "x", "--now", "nan"),
            "argument --now: a Unix time is a finite number, not 'nan'",
        ),
        (
            (
                "verify",
                "http://h/?a=1",
                "--credentials",
                "x",
                "--now",
                "\u0661\u0664",
            ),
            "argument --now: a Unix time is a finite number, not '\u0661\u0664'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "x", "--now", " 5"),
            "argument --now: a Unix time is a finite number, not ' 5'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "a\x00b"),
            "argument --credentials: not a file name: 'a\\x00b'",
        ),
        (
            ("serve", "--catalog", "a\x00b"),
            "argument --catalog: not a file name: 'a\\x00b'",
        ),
        (
            ("serve", "--credentials", "a\x00b"),
            "argument --credentials: not a file name: 'a\\x00b'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "a\ud800"),
            "argument --credentials: not a file name: 'a\\ud800'",
        ),
        (
            ("encode", "{}", "--base", "\u0661"),
            "argument --base: the list base is 0 or 1, not '\u0661'",
        ),
        (("encode", "{}", "--base", "01"), "argument --base: the list base is 0 or 1, not '01'"),
        (("encode", "{}", "--base", " 1"), "argument --base: the list base is 0 or 1, not ' 1'"),
    ],
)
def test_numeric_and_text_options_are_checked(argv: tuple[str, ...], message: str) -> None:
    status, out, err = run(*argv)
    assert (status, out) == (2, "")
    assert err == f"describe-images {argv[0]}: error: {message}\n"


@pytest.mark.parametrize(
    ("option", "text", "value"),
    [
        ("--now", "-5", -5.0),
        ("--now", "1.5", 1.5),
        ("--now", "1e3", 1000.0),
        ("--now", ".5", 0.5),
        ("--now", "+7.", 7.0),
        ("--max-skew", "0", 0.0),
        ("--max-skew", "1E2", 100.0),
    ],
)
def test_ascii_numbers_are_read(
    option: str, text: str, value: float, credentials: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_verify(*args: Any, now: float | None, max_skew: float, **kwargs: Any) -> None:
        seen.update(now=now, max_skew=max_skew)

    monkeypatch.setattr("describe_images._cli.verify.verify", fake_verify)
    argv = ("verify", f"{ENDPOINT}?SecretId=AKID", "--credentials", credentials)
    assert run(*argv, f"{option}={text}") == (0, '{"valid": true, "secret_id": "AKID"}\n', "")
    assert seen[option.removeprefix("--").replace("-", "_")] == value


@pytest.mark.parametrize(("port", "bound"), [("0", 0), ("65535", 65535), ("00080", 80)])
def test_ascii_ports_are_read(port: str, bound: int, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(
        "describe_images.server.serve", lambda host, port, *a, **k: seen.append(port)
    )
    assert run("serve", "--port", port) == (0, "", "")
    assert seen == [bound]


@pytest.mark.parametrize(
    "request_json",
    [
        '{"Region": "\\ud800"}',  # a lone surrogate escaped in the JSON text
        '{"Region": "\udcff"}',  # an undecodable byte in argv, as Python hands it over
    ],
)
def test_lone_surrogates_in_json_are_a_broken_rule(keys: None, request_json: str) -> None:
    for command in ("encode", "sign"):
        status, out, err = run(command, request_json)
        assert (status, err) == (1, ""), command
        assert violations_of(out) == [("InvalidParameter", "bad-utf8", "Region")]
        message = json.loads(out)["violations"][0]["message"]
        assert message == "the value of 'Region' is not valid UTF-8"
        assert is_utf8(out)  # what was printed is text: the surrogate is written escaped


def test_lone_surrogates_are_reported_where_they_are() -> None:
    request_json = (
        '{"ImageIds": ["img-pmqg1cw7", "\\udc80"], "a\\ud800": "x", '
        '"Filters": [{"Values": ["\\ud801"]}]}'
    )
    status, out, _ = run("encode", request_json)
    assert status == 1
    verdict = json.loads(out)
    assert [(v["reason"], v["path"], v["message"]) for v in verdict["violations"]] == [
        ("bad-utf8", "ImageIds.1", "the value of 'ImageIds.1' is not valid UTF-8"),
        ("bad-utf8", "a\\ud800", "the key 'a\\ud800' is not valid UTF-8"),
        ("bad-utf8", "Filters.0.Values.0", "the value of 'Filters.0.Values.0' is not valid UTF-8"),
    ]


LONG = "x" * 250


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("serve", "--max-skew", LONG), f"seconds must be a finite number >= 0, not {LONG[:20]!r}"),
        (
            ("serve", "--host", f" {LONG}"),
            f"a host is a name or an IP address in printable ASCII, not {f' {LONG}'[:40]!r}",
        ),
        (("serve", "--credentials", f"\x00{LONG}"), f"not a file name: {f'{chr(0)}{LONG}'[:40]!r}"),
        (("encode", "{}", "--base", LONG), f"the list base is 0 or 1, not {LONG[:20]!r}"),
        (
            ("verify", "-", "--credentials", "c", "--now", LONG),
            f"a Unix time is a finite number, not {LONG[:20]!r}",
        ),
        (
            ("verify", f"ftp://{LONG}", "--credentials", "c"),
            f"{f'ftp://{LONG}'[:200]!r} is not an http(s) URL",
        ),
        (
            ("verify", f"http://u@{LONG}", "--credentials", "c"),
            f"{f'http://u@{LONG}'[:200]!r}: the URL must not carry ",
        ),
    ],
)
def test_long_values_are_cut_in_messages(argv: tuple[str, ...], message: str) -> None:
    status, out, err = run(*argv)
    assert (status, out) == (2, "")
    assert err.startswith(f"describe-images {argv[0]}: error: ")
    assert message in err


def test_stdin_loses_only_its_line_ending() -> None:
    assert run("decode", "-", stdin="a=b%20 \n") == (0, '{"a": "b  "}\n', "")
    assert run("decode", "-", stdin="a=XX\r\n") == (0, '{"a": "XX"}\n', "")


def test_lone_surrogates_are_reported_in_document_order() -> None:
    request_json = json.dumps(
        {
            "Filters": [{"Name": "\ud800", "Values": ["\ud801", "\ud802"]}, {"Name": "\ud803"}],
            "Region": "\ud804",
            "ImageIds": ["\ud805", "\ud806"],
        }
    )
    status, out, _ = run("encode", request_json)
    assert status == 1
    assert [path for _, _, path in violations_of(out)] == [
        "Filters.0.Name",
        "Filters.0.Values.0",
        "Filters.0.Values.1",
        "Filters.1.Name",
        "Region",
        "ImageIds.0",
        "ImageIds.1",
    ]


def test_a_json_request_that_is_not_an_object() -> None:
    for request_json in ('"\\ud800"', '["\\ud800"]'):
        status, out, _ = run("encode", request_json)
        assert status == 1
        assert violations_of(out) == [("InvalidParameter", "wrong-type", "")]


@pytest.mark.parametrize(
    ("request_json", "message"),
    [
        ("[" * 100_000, "the request is not valid JSON: it is nested too deeply"),
        ('{"Limit": NaN}', "the request is not valid JSON: NaN is not JSON (RFC 8259 has no "),
        ('{"Limit": -Infinity}', "the request is not valid JSON: -Infinity is not JSON "),
        (
            '{"Limit": ' + "9" * 5000 + "}",
            "the request is not valid JSON: an integer of 5000 digits; at most 4300 are read",
        ),
        ("", "the request is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_json_python_cannot_read_is_a_usage_error(request_json: str, message: str) -> None:
    status, out, err = run("encode", request_json)
    assert (status, out) == (2, "")
    assert err.startswith(f"describe-images encode: error: {message}")
    assert err.count("\n") == 1


def test_a_large_integer_within_python_limit_is_refused_as_the_wire_would() -> None:
    # 4,300 digits: more than a value may carry (max_value_length), as Limit=999... would be.
    status, out, _ = run("encode", '{"Limit": ' + "9" * 4300 + "}")
    assert status == 1
    assert violations_of(out) == [("InvalidParameter", "too-large", "Limit")]
    status, out, _ = run("encode", '{"Limit": ' + "9" * 4000 + "}")
    assert status == 1
    assert violations_of(out) == [
        ("InvalidParameterValue.InvalidParameterValueLimit", "invalid-limit", "Limit")
    ]


def test_output_is_always_utf8() -> None:
    # A query with an undecodable key, as argv carries it: the codec names it escaped.
    status, out, _ = run("validate", "\udcff=1")
    assert status == 1 and is_utf8(out)
    assert violations_of(out) == [("InvalidParameter", "bad-utf8", "\\udcff")]
    # argparse echoes an argument raw: it is written escaped.
    status, _, err = run("validate", "x", "\udcff")
    assert err == "describe-images validate: error: unrecognized arguments: \\udcff\n"


# --- hostile input: never a traceback --------------------------------------------------------

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
HOSTILE_TEXT = st.text(st.one_of(st.characters(), SURROGATES), max_size=30)
COMMANDS = ("validate", "encode", "decode", "conformance", "sign", "verify")
# Every option of every command (another command's option is just an unknown argument).
OPTIONS = (
    *("--envelope", "--batch", "--base", "--unchecked", "--method", "--region"),
    *("--signature-method", "--endpoint", "--credentials", "--data", "--max-skew", "--now"),
    *("--help", "-", "--"),
)
HOSTILE_TOKENS = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(OPTIONS),
    st.sampled_from(["9" * 5000, "1e999", "-1", "nan", "\u0668\u0660", "0", "1", "\x00", "POST"]),
    st.builds(lambda t: "Action=DescribeImages&Version=2017-03-12&" + t, HOSTILE_TEXT),
    st.builds(lambda t: "http://127.0.0.1:1/" + t, HOSTILE_TEXT),
    st.dictionaries(HOSTILE_TEXT, st.one_of(HOSTILE_TEXT, st.integers()), max_size=3).map(
        json.dumps
    ),
)


@pytest.fixture(scope="module")
def module_credentials(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("keys") / "credentials.json"
    path.write_text(json.dumps({SECRET_ID: SECRET_KEY}), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", COMMANDS)
@given(
    arguments=st.lists(st.one_of(HOSTILE_TOKENS, st.just("CREDENTIALS")), max_size=6),
    stdin=HOSTILE_TEXT,
    with_keys=st.booleans(),
)
def test_hostile_arguments_and_stdin_never_give_a_traceback(
    command: str, module_credentials: str, arguments: list[str], stdin: str, with_keys: bool
) -> None:
    argv = [command, *(module_credentials if a == "CREDENTIALS" else a for a in arguments)]
    environ = {ENV_ID: SECRET_ID, ENV_KEY: SECRET_KEY} if with_keys else {ENV_ID: ""}
    with (
        mock.patch.dict(os.environ, environ),
        mock.patch.object(_Client, "send", side_effect=OSError("no network in this test")),
    ):
        status, out, err = run(*argv, stdin=stdin)  # any other exception fails the test
    assert status in (0, 1, 2)
    assert is_utf8(out) and is_utf8(err)  # printable by a strict UTF-8 stream
    assert err.count("\n") == (1 if err else 0)
    if err:
        assert err.startswith((f"describe-images {command}: error: ", "describe-images: error: "))
    if status == 2:
        assert out == "" and err
    if status == 1 and command != "conformance" and not err:
        # Lines end with "\n" only: str.splitlines would also split at a U+0085 or U+2028
        # that a JSON line carries raw.
        last = json.loads(out.rstrip("\n").split("\n")[-1])  # a verdict, or --envelope
        assert last.get("valid") is False or "Error" in last["Response"]


# --- sign and verify -------------------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_ID, SECRET_ID)
    monkeypatch.setenv(ENV_KEY, SECRET_KEY)


@pytest.fixture
def credentials(tmp_path: Path) -> str:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({SECRET_ID: SECRET_KEY}), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "env", [{}, {ENV_ID: SECRET_ID}, {ENV_KEY: SECRET_KEY}, {ENV_ID: SECRET_ID, ENV_KEY: ""}]
)
def test_sign_needs_both_keys_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.delenv(ENV_ID, raising=False)
    monkeypatch.delenv(ENV_KEY, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run("sign", SEED_1_JSON) == (
        2,
        "",
        "describe-images sign: error: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY "
        "in the environment\n",
    )


def test_sign_refuses_keys_that_are_not_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_ID, SECRET_ID)
    monkeypatch.setenv(ENV_KEY, "key\udcff")  # an undecodable byte, as Python hands it over
    assert run("sign", SEED_1_JSON) == (
        2,
        "",
        "describe-images sign: error: TENCENTCLOUD_SECRET_KEY is not UTF-8 text\n",
    )


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("signature_method", ["HmacSHA256", "HmacSHA1"])
def test_sign_prints_a_url_that_verifies(signature_method: str) -> None:
    before = int(time.time())
    status, out, err = run(
        "sign",
        "-",
        "--region",
        "ap-guangzhou",
        "--signature-method",
        signature_method,
        stdin=SEED_1_JSON + "\n",
    )
    assert (status, err) == (0, "")
    url = out.strip()
    assert out == url + "\n"
    assert url.startswith(
        f"{ENDPOINT}?Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7&"
    )
    params = dict(parse_query(urlsplit(url).query))
    assert params["Region"] == "ap-guangzhou"
    assert params["SecretId"] == SECRET_ID
    assert params["SignatureMethod"] == signature_method
    assert before <= int(params["Timestamp"]) <= time.time() + 1
    assert 1 <= int(params["Nonce"]) < 2**31
    # The signature is the one the library computes for this host, path and parameters.
    pairs = parse_query(urlsplit(url).query)
    verify(
        "GET", "image.api.qcloud.com", "/v2/index.php", pairs, secrets={SECRET_ID: SECRET_KEY}.get
    )
    with pytest.raises(AuthError) as refused:
        verify("GET", "image.api.qcloud.com", "/v2/index.php", pairs, secrets={SECRET_ID: "k"}.get)
    assert refused.value.code == "AuthFailure.SignatureFailure"


@pytest.mark.usefixtures("keys")
def test_sign_reports_every_violation() -> None:
    status, out, err = run("sign", '{"ImageIds": ["nope"], "Limit": 0}')
    assert (status, err) == (1, "")
    assert json.loads(out) == {
        "valid": False,
        "error": {
            "Code": "InvalidImageId.Malformed",
            "Message": "ImageIds.0 is 'nope'; an image ID is img- followed by 8 lower-case "
            "letters or digits (img-pmqg1cw7) (and 1 more problem)",
        },
        "violations": [
            {
                "code": "InvalidImageId.Malformed",
                "reason": "malformed-image-id",
                "path": "ImageIds.0",
                "message": "ImageIds.0 is 'nope'; an image ID is img- followed by 8 lower-case "
                "letters or digits (img-pmqg1cw7)",
            },
            {
                "code": "InvalidParameterValue.InvalidParameterValueLimit",
                "reason": "invalid-limit",
                "path": "Limit",
                "message": "Limit is '0'; it must be an integer from 1 to 100",
            },
        ],
    }
    status, out, _ = run("sign", '{"Limit": "20"}')
    assert status == 1 and violations_of(out) == [("InvalidParameter", "wrong-type", "Limit")]


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        (
            {ENV_ID: SECRET_ID, ENV_KEY: ""},
            (),
            "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the environment",
        ),
        (None, ("--method", "PUT"), "argument --method: invalid choice: 'PUT'"),
        (None, ("--method", "post"), "argument --method: invalid choice: 'post'"),
        (
            None,
            ("--signature-method", "hmacsha256"),
            "argument --signature-method: invalid choice: 'hmacsha256'",
        ),
        (None, ("--endpoint", "ftp://x/y"), "'ftp://x/y' is not an http(s) URL"),
        (None, ("--endpoint", "https:///v2"), "'https:///v2' is not an http(s) URL"),
        (None, ("--endpoint", "http://[::1/"), "'http://[::1/' is not an http(s) URL"),
        (None, ("--endpoint", "http://h:99999/"), "'http://h:99999/' is not an http(s) URL"),
        (
            None,
            ("--endpoint", "http://h/a b"),
            "'http://h/a b' is not an http(s) URL in printable ASCII",
        ),
        (
            None,
            ("--endpoint", "http://bücher.example/"),
            "'http://bücher.example/' is not an http(s) URL in printable ASCII",
        ),
        (
            None,
            ("--endpoint", "https://h/p?x=1"),
            "'https://h/p?x=1': the base URL has no query or fragment",
        ),
        (
            None,
            ("--endpoint", "http://u@h/v2/index.php"),
            "'http://u@h/v2/index.php': the URL must not carry user information (user@)",
        ),
    ],
)
def test_sign_usage_errors(
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str] | None,
    argv: tuple[str, ...],
    message: str,
) -> None:
    # Nothing shared is changed: the env and argv of each case are read, never popped.
    for name, value in (env or {ENV_ID: SECRET_ID, ENV_KEY: SECRET_KEY}).items():
        monkeypatch.setenv(name, value)
    status, out, err = run("sign", SEED_1_JSON, *argv)
    assert (status, out) == (2, "")
    assert err.startswith(f"describe-images sign: error: {message}")
    assert err.count("\n") == 1


@pytest.mark.usefixtures("keys")
def test_an_endpoint_without_a_path_signs_the_path_slash(credentials: str) -> None:
    status, out, _ = run(
        "sign", SEED_1_JSON, "--endpoint", "http://localhost:8080", "--method", "GET"
    )
    assert status == 0 and out.startswith("http://localhost:8080?Action=DescribeImages&")
    pairs = parse_query(urlsplit(out.strip()).query)
    verify("GET", "localhost:8080", "/", pairs, secrets={SECRET_ID: SECRET_KEY}.get)
    query = signed_query(
        DescribeImagesRequest(), secret_id=SECRET_ID, secret_key=SECRET_KEY, host="h:1", path="/"
    )
    status, out, _ = run("verify", f"http://h:1?{query}", "--credentials", credentials)
    assert (status, json.loads(out)) == (0, {"valid": True, "secret_id": SECRET_ID})


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        (f"http://h/a b{LONG}", f"{f'http://h/a b{LONG}'[:200]!r} is not an http(s) URL in "),
        (f"https://h/?{LONG}", f"{f'https://h/?{LONG}'[:200]!r}: the base URL has no query "),
    ],
)
def test_sign_cuts_long_endpoints_in_messages(endpoint: str, message: str) -> None:
    status, out, err = run("sign", SEED_1_JSON, "--endpoint", endpoint)
    assert (status, out) == (2, "")
    assert err.startswith(f"describe-images sign: error: {message}")


# --- sign --tc3 and --curl ----------------------------------------------------------------

T = 1_700_000_000


def parse_call(out: str) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """sign --tc3's output: (method, url, headers, body or None)."""
    head, blank, body = out.partition("\n\n")
    lines = head.split("\n")
    method, _, url = lines[0].partition(" ")
    headers = [(n, v) for n, _, v in (line.partition(": ") for line in lines[1:] if line)]
    if not blank:
        return method, url, headers, None
    assert body.endswith("\n") and body.count("\n") == 1
    return method, url, headers, body[:-1].encode("utf-8")


def parse_curl(out: str) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """A printed curl command: (method, url, headers, body or None); every word known."""
    assert out.endswith("\n") and out.count("\n") == 1
    words = shlex.split(out)
    assert words[:2] == ["curl", "--globoff"]
    method, headers, body, i = "GET", [], None, 2
    while i < len(words) - 1:
        flag, value = words[i], words[i + 1]
        if flag == "-H":
            name, _, text = value.partition(": ")
            headers.append((name, text))
        elif flag == "--data-binary":
            method, body = "POST", value.encode("utf-8")
        else:
            raise AssertionError(f"unexpected curl word {flag!r}")
        i += 2
    assert i == len(words) - 1
    return method, words[-1], headers, body


TC3_CASES: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    ("POST", (), {}),
    ("GET", (), {}),
    ("POST", ("--region", "ap-guangzhou", "--token", "tok en"), {"region": "ap-guangzhou",
                                                               "token": "tok en"}),
    ("GET", ("--region", "ap-guangzhou", "--unsigned-payload"), {"region": "ap-guangzhou",
                                                                "unsigned_payload": True}),
    ("POST", ("--unsigned-payload", "--token", "t"), {"unsigned_payload": True, "token": "t"}),
]  # fmt: skip
REQUEST_2 = '{"Filters": [{"Name": "image-name", "Values": ["a b&c=d", "中文"]}], "Limit": 5}'


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(("method", "extra", "options"), TC3_CASES)
@pytest.mark.parametrize("as_curl", [False, True])
@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:8000/v2/index.php"])
def test_sign_tc3_prints_the_call_tc3_sign_builds(
    method: Literal["GET", "POST"],
    extra: tuple[str, ...],
    options: dict[str, Any],
    as_curl: bool,
    endpoint: str | None,
) -> None:
    argv = ["sign", REQUEST_2, "--tc3", "--method", method, "--timestamp", str(T), *extra]
    argv += ["--endpoint", endpoint] if endpoint else []
    status, out, err = run(*argv, *(["--curl"] if as_curl else []))
    assert (status, err) == (0, "")
    got = (parse_curl if as_curl else parse_call)(out)
    parts = urlsplit(endpoint or "https://cvm.tencentcloudapi.com/")
    call = tc3_sign(
        DescribeImagesRequest.from_dict(json.loads(REQUEST_2)),
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        method=method,
        host=parts.netloc,
        path=parts.path,
        timestamp=T,
        **options,
    )
    url = f"{parts.scheme}://{parts.netloc}{call.target}"
    assert got == (call.method, url, list(call.headers), call.body if method == "POST" else None)
    # ... and the server side accepts it as it is printed.
    query, secrets = urlsplit(got[1]).query, {SECRET_ID: SECRET_KEY}.get
    verified = tc3_verify(
        method, parts.netloc, parts.path, query, got[2], got[3] or b"", secrets=secrets, now=T
    )
    assert verified == SECRET_ID


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sign_tc3_sends_what_the_official_sdk_sends(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    from tests.test_tc3 import KEY, SID, sdk_call

    monkeypatch.setenv(ENV_ID, SID)
    monkeypatch.setenv(ENV_KEY, KEY)
    argv = ("--tc3", "--method", method, "--timestamp", str(T), "--region", "ap-guangzhou")
    status, out, _ = run("sign", REQUEST_2, *argv)
    assert status == 0
    _, url, headers, body = parse_call(out)
    sdk_headers, data, _ = sdk_call(
        method, json.loads(REQUEST_2), region="ap-guangzhou", timestamp=T
    )
    # The SDK also names itself (X-TC-RequestClient, not signed); the rest is the same, in
    # the same order, the signature included.
    del sdk_headers["X-TC-RequestClient"]
    assert headers == list(sdk_headers.items())
    if method == "POST":
        assert body == data.encode("utf-8") and urlsplit(url).query == ""
    else:
        assert body is None and urlsplit(url).query == data


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sign_v1_curl_sends_a_call_that_verifies(method: str) -> None:
    base = "http://localhost:8080/v2/index.php"
    argv = ("--method", method, "--endpoint", base, "--curl", "--timestamp", str(T))
    status, out, err = run("sign", SEED_1_JSON, *argv)
    assert (status, err) == (0, "")
    got_method, url, headers, body = parse_curl(out)
    assert got_method == method
    if method == "GET":
        assert headers == [("Host", "localhost:8080")] and body is None
        assert url.startswith(f"{base}?Action=DescribeImages&")
        pairs = parse_query(urlsplit(url).query)
    else:
        assert headers == [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", "localhost:8080"),
        ]
        assert url == base and body is not None
        pairs = parse_query(body)
    assert dict(pairs)["Timestamp"] == str(T)
    verify(method, "localhost:8080", "/v2/index.php", pairs,
           secrets={SECRET_ID: SECRET_KEY}.get, now=T)  # fmt: skip


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (("--unsigned-payload",), 2, "--unsigned-payload is a TC3 option: add --tc3"),
        (
            ("--tc3", "--signature-method", "HmacSHA1"),
            2,
            "--signature-method is the v1 HMAC: leave it out with --tc3",
        ),
        (
            ("--tc3", "--timestamp", "1e9"),
            2,
            "argument --timestamp: a Unix time is 1 to 20 digits 0-9, not '1e9'",
        ),
        (("--timestamp", "\u0661"), 2, "argument --timestamp: a Unix time is 1 to 20 digits"),
        (("--timestamp", "1" * 21), 2, "argument --timestamp: a Unix time is 1 to 20 digits"),
        (
            ("--tc3", "--timestamp", "253402300800"),
            2,
            "timestamp must be from 0 to 253402300799 (9999-12-31T23:59:59Z)",
        ),
        (("--tc3", "--token", "a\nb"), 1, ""),
    ],
)
def test_sign_tc3_refusals(argv: tuple[str, ...], status: int, message: str) -> None:
    got, out, err = run("sign", SEED_1_JSON, *argv)
    assert got == status
    if status == 2:
        assert out == "" and err.startswith(f"describe-images sign: error: {message}")
        assert err.count("\n") == 1
    else:  # a header value no wire carries: the verdict, with its violation's path
        assert err == "" and json.loads(out)["valid"] is False


@pytest.mark.usefixtures("keys")
def test_sign_tc3_reports_every_violation() -> None:
    status, out, err = run("sign", '{"ImageIds": ["nope"], "Limit": 0}', "--tc3")
    assert (status, err) == (1, "")
    assert [v[1] for v in violations_of(out)] == ["malformed-image-id", "invalid-limit"]


@pytest.mark.usefixtures("keys")
def test_sign_tc3_timestamp_defaults_to_now() -> None:
    before = int(time.time())
    status, out, _ = run("sign", SEED_1_JSON, "--tc3")
    assert status == 0
    stamp = int(dict(parse_call(out)[2])["X-TC-Timestamp"])
    assert before <= stamp <= time.time() + 1


@pytest.mark.usefixtures("keys")
def test_sign_and_verify_post(credentials: str) -> None:
    base = "http://localhost:8080/v2/index.php"
    argv = ("--method", "POST", "--endpoint", base, "--signature-method", "HmacSHA1")
    status, out, _ = run("sign", SEED_1_JSON, *argv)
    form = out.strip()
    assert status == 0 and form.startswith("Action=DescribeImages&")
    assert "&SignatureMethod=HmacSHA1&" in form
    verify_post = ("verify", base, "--credentials", credentials, "--method", "POST")
    status, out, _ = run(*verify_post, "--data", form)
    assert (status, json.loads(out)) == (0, {"valid": True, "secret_id": SECRET_ID})
    # The body is what counts with POST; signed for POST, it fails as GET.
    status, out, _ = run("verify", f"{base}?{form}", "--credentials", credentials)
    assert status == 1 and json.loads(out)["error"]["Code"] == "AuthFailure.SignatureFailure"


@pytest.mark.usefixtures("keys")
def test_verify_good_and_tampered_urls(credentials: str) -> None:
    status, out, _ = run("sign", SEED_1_JSON, "--region", "ap-guangzhou")
    url = out.strip()
    assert status == 0 and "&Region=ap-guangzhou&" in url

    for method in ((), ("--method", "GET")):
        assert run("verify", url, "--credentials", credentials, *method) == (
            0,
            json.dumps({"valid": True, "secret_id": SECRET_ID}) + "\n",
            "",
        )
    # The URL can come from stdin too (its newline and surrounding spaces dropped).
    status, out, _ = run("verify", "-", "--credentials", credentials, stdin=f" {url} \n")
    assert (status, json.loads(out)["valid"]) == (0, True)

    tampered = url.replace("img-pmqg1cw7", "img-pmqg1cw8")
    assert tampered != url
    status, out, err = run("verify", tampered, "--credentials", credentials)
    assert (status, err) == (1, "")
    assert violations_of(out) == [("AuthFailure.SignatureFailure", "bad-signature", "Signature")]

    # Another host: the host is part of what is signed.
    other = url.replace("image.api.qcloud.com", "cvm.api.qcloud.com")
    status, out, _ = run("verify", other, "--credentials", credentials)
    assert (status, json.loads(out)["error"]["Code"]) == (1, "AuthFailure.SignatureFailure")


@pytest.mark.usefixtures("keys")
def test_verify_now_and_max_skew(credentials: str) -> None:
    _, out, _ = run("sign", SEED_1_JSON)
    url = out.strip()
    timestamp = int(dict(parse_query(urlsplit(url).query))["Timestamp"])
    argv = ("verify", url, "--credentials", credentials)

    def code(*options: str) -> tuple[int, str]:
        status, out, _ = run(*argv, *options)
        verdict = json.loads(out)
        return status, verdict["error"]["Code"] if status else verdict["secret_id"]

    assert code("--now", str(timestamp + 301)) == (1, "AuthFailure.SignatureExpire")
    assert code("--now", str(timestamp + 300)) == (0, SECRET_ID)
    assert code("--now", str(timestamp + 1000), "--max-skew", "1000") == (0, SECRET_ID)
    assert code("--now", str(timestamp + 11), "--max-skew", "10") == (
        1,
        "AuthFailure.SignatureExpire",
    )


# The public worked example A of the v1 signature (FACTS), HMAC-SHA1 on another host.
EXAMPLE_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"
EXAMPLE_KEY = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"
EXAMPLE_TIME = 1408704141


def test_verify_the_worked_example(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({EXAMPLE_ID: EXAMPLE_KEY}), encoding="utf-8")
    params = [
        ("Action", "DescribeInstances"),
        ("Nonce", "345122"),
        ("Region", "gz"),
        ("SecretId", EXAMPLE_ID),
        ("Timestamp", str(EXAMPLE_TIME)),
    ]
    signature = sign("GET", "cvm.api.qcloud.com", "/v2/index.php", params, EXAMPLE_KEY)
    query = format_query([*params, ("Signature", signature)])
    url = f"https://cvm.api.qcloud.com/v2/index.php?{query}"
    argv = ("verify", url, "--credentials", str(keys))
    status, out, _ = run(*argv, "--now", str(EXAMPLE_TIME))
    assert (status, json.loads(out)) == (0, {"valid": True, "secret_id": EXAMPLE_ID})
    status, out, _ = run(*argv, "--now", str(EXAMPLE_TIME + 301), "--max-skew", "300")
    assert (status, json.loads(out)["error"]["Code"]) == (1, "AuthFailure.SignatureExpire")
    status, _, _ = run(*argv, "--now", str(EXAMPLE_TIME + 301), "--max-skew", "400")
    assert status == 0


def test_verify_reports_a_malformed_query(credentials: str) -> None:
    url = "https://cvm.api.qcloud.com/v2/index.php?Nonce=%zz"
    status, out, err = run("verify", url, "--credentials", credentials)
    assert (status, err) == (1, "")
    verdict = json.loads(out)
    assert verdict["error"]["Code"] == "InvalidParameter"
    assert verdict["violations"][0]["reason"] == "bad-percent-escape"


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        (None, (), "cannot read credentials {path!r}: No such file or directory"),
        ("{", (), "credentials {path!r} are not valid JSON: Expecting "),
        ('["AKID"]', (), "credentials {path!r} must be a JSON object {{SecretId: SecretKey}}"),
        ('{"AKID": 1}', (), "credentials {path!r} must be a JSON object {{SecretId: SecretKey}}"),
        ('{"AKID": "\\ud800"}', (), "credentials {path!r} must be a JSON object {{SecretId: "),
        ("{}", ("--method", "POST"), "POST needs the form body (--data)"),
        ("{}", ("--data", "a=b"), "--data is only for POST; a GET request is signed in its URL"),
        ("{}", ("--method", "DELETE"), "argument --method: invalid choice: 'DELETE'"),
        ("{}", ("--url", "not a url"), "'not a url' is not an http(s) URL"),
        ("{}", ("--url", "http://[::1/?a=1"), "'http://[::1/?a=1' is not an http(s) URL"),
    ],
)
def test_verify_usage_errors(
    tmp_path: Path, content: str | None, argv: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "credentials.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    # The URL is an option of the case only in this table; nothing shared is popped.
    url, options = (argv[1], ()) if argv[:1] == ("--url",) else (f"{ENDPOINT}?Action=x", argv)
    status, out, err = run("verify", url, "--credentials", str(path), *options)
    assert (status, out) == (2, "")
    assert err.startswith("describe-images verify: error: " + message.format(path=str(path)))
    assert err.count("\n") == 1


def test_verify_credentials_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_bytes(b'{"AKID": "\xff"}')
    status, _, err = run("verify", f"{ENDPOINT}?a=1", "--credentials", str(path))
    assert status == 2
    assert (
        err == f"describe-images verify: error: credentials {str(path)!r} are not UTF-8 (byte 10)\n"
    )


# --- serve (in-process, without serving) -----------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What describe_images.server.serve is called with (it returns at once, with None as
    the server's serve will; test_serve_ignores_what_serve_returns checks 0 too)."""
    seen: dict[str, Any] = {}

    def fake_serve(host: str, port: int, images: Any, **kwargs: Any) -> None:
        seen.update(host=host, port=port, images=images, **kwargs)

    monkeypatch.setattr("describe_images.server.serve", fake_serve)
    return seen


def test_serve_passes_its_options_to_serve(served: dict[str, Any], credentials: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = str(ROOT / "spec" / "vectors" / "query.json")
    argv = ["serve", "--host", "::1", "--port", "9", "--catalog", path]
    assert main(argv, out=out, err=err) == 0
    assert served == {
        "host": "::1",
        "port": 9,
        "images": load_vectors().catalog,
        "verify": None,
        "verify_tc3": None,
        "log": err,
        "catalog_name": path,
        "threads": 16,
        "read_timeout": 10.0,
    }
    assert main(["serve", "--credentials", credentials, "--max-skew", "60"], err=err) == 0
    assert (served["host"], served["port"], served["images"]) == (
        "127.0.0.1",
        8000,
        default_catalog(),
    )
    assert served["catalog_name"] == "the embedded catalog"
    hook = served["verify"]
    assert callable(hook)
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",))
    now = int(time.time())

    def signed(timestamp: int, nonce: int) -> list[tuple[str, str]]:
        query = signed_query(
            request,
            secret_id=SECRET_ID,
            secret_key=SECRET_KEY,
            host="127.0.0.1:8000",
            timestamp=timestamp,
            nonce=nonce,
        )
        return parse_query(query)

    # The hook knows the credentials file's keys, uses --max-skew, and remembers nonces.
    hook("GET", "127.0.0.1:8000", "/v2/index.php", signed(now, 1))
    for pairs, code in [
        (signed(now, 1), "InvalidRequest.ReplayAttack"),
        (signed(now - 120, 2), "AuthFailure.SignatureExpire"),
        ([("Action", "DescribeImages")], "MissingParameter"),
    ]:
        with pytest.raises(AuthError) as refused:
            hook("GET", "127.0.0.1:8000", "/v2/index.php", pairs)
        assert refused.value.code == code
    # The TC3 hook: the same file's keys, the same --max-skew (README.md#serve).
    tc3_hook = served["verify_tc3"]
    for timestamp, expected in [(now - 50, None), (now - 120, "AuthFailure.SignatureExpire")]:
        call = describe_images.tc3_sign(
            request, secret_id=SECRET_ID, secret_key=SECRET_KEY, host="127.0.0.1:8000",
            timestamp=timestamp,
        )  # fmt: skip
        args = (call.method, call.host, call.path, call.query, call.headers, call.body)
        if expected is None:
            assert tc3_hook(*args) == SECRET_ID
        else:
            with pytest.raises(AuthError) as refused:
                tc3_hook(*args)
            assert refused.value.code == expected
    assert out.getvalue() == err.getvalue() == ""


def test_serve_checks_signatures_with_a_300_second_window(
    served: dict[str, Any], credentials: str
) -> None:
    assert run("serve", "--credentials", credentials) == (0, "", "")
    hook = served["verify"]
    now = int(time.time())
    for timestamp, nonce in [(now - 290, 1), (now + 290, 2)]:
        query = signed_query(
            DescribeImagesRequest(),
            secret_id=SECRET_ID,
            secret_key=SECRET_KEY,
            host="h",
            timestamp=timestamp,
            nonce=nonce,
        )
        hook("GET", "h", "/v2/index.php", parse_query(query))
    late = signed_query(
        DescribeImagesRequest(),
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        host="h",
        timestamp=now - 310,
    )
    with pytest.raises(AuthError) as refused:
        hook("GET", "h", "/v2/index.php", parse_query(late))
    assert refused.value.code == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("returned", [None, 0])
def test_serve_ignores_what_serve_returns(
    monkeypatch: pytest.MonkeyPatch, returned: int | None
) -> None:
    monkeypatch.setattr("describe_images.server.serve", lambda *args, **kwargs: returned)
    assert run("serve") == (0, "", "")


def test_serve_bad_catalog_is_one_line(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text('[{"ImageId": 1}]', encoding="utf-8")
    status, out, err = run("serve", "--port", "0", "--catalog", str(catalog))
    assert (status, out) == (1, "")
    assert err.startswith(f"describe-images serve: error: {catalog}: 8 problems: 0.ImageId must")
    assert err.count("\n") == 1

    status, out, err = run("serve", "--port", "0", "--catalog", str(tmp_path / "none.json"))
    assert (status, out) == (1, "")
    assert err.startswith(f"describe-images serve: error: {tmp_path / 'none.json'}: cannot read")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read credentials {path!r}: No such file or directory"),
        ("{not json", "credentials {path!r} are not valid JSON: "),
        ('{"AKID": 1}', "credentials {path!r} must be a JSON object {{SecretId: SecretKey}}"),
    ],
)
def test_serve_bad_credentials_is_a_usage_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "credentials.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    status, out, err = run("serve", "--port", "0", "--credentials", str(path))
    assert (status, out) == (2, "")
    assert err.startswith("describe-images serve: error: " + message.format(path=str(path)))
    assert err.count("\n") == 1


def test_serve_address_in_use_is_one_line() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, out, err = run("serve", "--port", str(port))
    assert (status, out) == (1, "")
    assert err == (
        f"describe-images serve: error: cannot listen on 127.0.0.1:{port}: "
        f"{os.strerror(errno.EADDRINUSE)}\n"
    )


# --- conformance (in-process, nothing listening) ----------------------------------------------


def test_conformance_unreachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        status, out, err = run("conformance", f"http://127.0.0.1:{port}/v2/index.php")
    assert (status, err) == (1, "")
    first, last = out.splitlines()
    assert first.startswith(
        f"describe-images conformance: cannot reach http://127.0.0.1:{port}/v2/index.php: "
        "no answer: "
    )
    assert last == "0 passed, 1 failed"


def test_conformance_bad_vectors_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from describe_images._conformance import VectorError

    def broken() -> None:
        raise VectorError("cannot read validate.json in /x: gone")

    monkeypatch.setattr("describe_images._conformance.load_vectors", broken)
    assert run("conformance", "http://127.0.0.1:1/") == (
        1,
        "",
        "describe-images conformance: error: cannot read validate.json in /x: gone\n",
    )


# --- Ctrl-C and a closed pipe ------------------------------------------------------------------


class _InterruptedStdin(io.StringIO):
    def read(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_ctrl_c_exits_130_with_one_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(["validate", "-"], stdin=_InterruptedStdin(), out=out, err=err)
    assert (status, out.getvalue(), err.getvalue()) == (130, "", "describe-images: interrupted\n")


def test_ctrl_c_in_a_command_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(url: str, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("describe_images._conformance.run_conformance", interrupted)
    status, out, err = run("conformance", "http://127.0.0.1:9/v2/index.php")
    assert (status, out, err) == (130, "", "describe-images: interrupted\n")


def test_a_closed_stdout_exits_1_quietly() -> None:
    for argv, stdin in [
        (["validate", SEED_2_URL], ""),
        (["validate", "--batch"], f"{SEED_2_URL}\n" * 3),
        (["validate", "Limit=x"], ""),  # the verdict of a broken rule is written to out too
    ]:
        err = io.StringIO()
        status = main(argv, stdin=io.StringIO(stdin), out=_ClosedPipe(), err=err)
        assert (status, err.getvalue()) == (1, ""), argv


# --- python -m describe_images, in-process (so coverage sees __main__.py) --------------------


@pytest.mark.parametrize(
    ("argv", "code", "stdout", "stderr"),
    [
        (["validate", SEED_2_URL], 0, '"valid": true', ""),
        (["validate", "Action=DescribeImages"], 1, '"valid": false', ""),
        ([], 2, "", "describe-images: error: the following arguments are required: command\n"),
    ],
)
def test_python_dash_m_in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    stdout: str,
    stderr: str,
) -> None:
    monkeypatch.setattr(sys, "argv", ["describe_images", *argv])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("describe_images", run_name="__main__")
    assert exited.value.code == code
    captured = capsys.readouterr()
    assert stdout in captured.out
    assert captured.out.count("\n") == (1 if stdout else 0)
    assert captured.err == stderr


def test_main_reads_the_process_stdin_as_argv_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO(b"Action=DescribeImages&Version=2017-03-12&Region=\xff\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw, encoding="utf-8", errors="strict"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", "-"], out=out, err=err) == 1
    assert err.getvalue() == ""
    assert violations_of(out.getvalue()) == [("InvalidParameter", "bad-utf8", "Region")]


def test_main_defaults_to_the_process_streams(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "Limit=x"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["valid"] is False and captured.err == ""
