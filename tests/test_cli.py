"""The describe-images command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest

from describe_images._cli import main

SEED_2_URL = (
    "https://image.api.qcloud.com/v2/index.php?Action=DescribeImages&Version=2017-03-12"
    "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
)


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(stdin), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_validate_valid_url() -> None:
    status, out, err = run("validate", SEED_2_URL)
    assert status == 0 and err == ""
    assert json.loads(out) == {
        "valid": True,
        "request": {
            "Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}],
            "Action": "DescribeImages",
        },
    }


def test_validate_invalid_lists_every_violation() -> None:
    status, out, _ = run("validate", "Action=DescribeImages&Version=2017-03-12&Limit=101&Offset=x")
    assert status == 1
    result: dict[str, Any] = json.loads(out)
    assert result["valid"] is False
    assert result["error"] == {
        "Code": "InvalidParameterValue",
        "Message": "Offset is 'x'; it must be an integer from 0 to 9223372036854775807 "
        "(and 1 more problem)",
    }
    assert [(v["code"], v["reason"], v["path"]) for v in result["violations"]] == [
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
    lines = f"{SEED_2_URL}\nAction=DescribeImages\n"
    status, out, _ = run("validate", "--batch", stdin=lines)
    assert status == 1
    assert [json.loads(line)["valid"] for line in out.splitlines()] == [True, False]


def test_encode_and_decode() -> None:
    request = json.dumps({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]})
    status, out, _ = run("encode", request, "--base", "1")
    assert status == 0
    assert out == SEED_2_URL.partition("?")[2] + "\n"
    status, out, _ = run("decode", SEED_2_URL)
    assert status == 0
    assert json.loads(out) == {
        "Action": "DescribeImages",
        "Version": "2017-03-12",
        "Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}],
    }


def test_encode_refuses_invalid_unless_unchecked() -> None:
    request = json.dumps({"Limit": 1000})
    status, out, _ = run("encode", request)
    assert status == 1 and json.loads(out)["error"]["Code"] == (
        "InvalidParameterValue.InvalidParameterValueLimit"
    )
    status, out, _ = run("encode", request, "--unchecked")
    assert (status, out) == (0, "Action=DescribeImages&Version=2017-03-12&Limit=1000\n")
    status, out, _ = run("encode", '{"Limit": "5"}')
    assert status == 1 and json.loads(out)["violations"][0]["reason"] == "wrong-type"


def test_decode_wire_error() -> None:
    status, out, _ = run("decode", "a.01=1")
    assert status == 1
    assert json.loads(out)["violations"][0]["reason"] == "bad-index"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "the following arguments are required: command"),
        (("frobnicate",), "argument command: invalid choice"),
        (("encode", "{not json"), "the request is not valid JSON"),
        (("encode", "{}", "--base", "2"), "argument --base: invalid choice: 2"),
        (("validate",), "validate needs a QUERY, a URL or - (stdin)"),
        (("validate", "--batch", "x=1"), "--batch reads queries from stdin"),
    ],
)
def test_usage_errors_are_one_line(argv: tuple[str, ...], message: str) -> None:
    status, out, err = run(*argv)
    assert status == 2 and out == ""
    assert err.startswith("describe-images: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "describe_images", "validate", SEED_2_URL],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True
