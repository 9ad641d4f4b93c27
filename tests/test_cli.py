"""The describe-images command line."""

from __future__ import annotations

import io
import json
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from describe_images import AuthError
from describe_images._cli import main
from describe_images._model import DescribeImagesRequest
from describe_images._pairs import parse_query
from describe_images._signing import signed_query, verify

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
        "request": {"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]},
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


# --- sign and verify (in-process) -----------------------------------------------------------
# sign/verify write their own messages to sys.stderr, so these tests capture it with capsys
# (and leave `err` to main's default, sys.stderr).

SECRET_ID = "AKIDcliTest00000000000000000000000"
SECRET_KEY = "cliTestSecretKey000000000000000"
SEED_1_JSON = '{"ImageIds": ["img-pmqg1cw7"]}'
ENDPOINT = "https://image.api.qcloud.com/v2/index.php"


def run_captured(
    capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    """main() with sys.stdout and sys.stderr as out and err, both captured."""
    status = main(list(argv), stdin=io.StringIO(stdin))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)


@pytest.fixture
def credentials(tmp_path: Path) -> str:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({SECRET_ID: SECRET_KEY}), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "env",
    [{}, {"TENCENTCLOUD_SECRET_ID": SECRET_ID}, {"TENCENTCLOUD_SECRET_KEY": SECRET_KEY}],
)
def test_sign_needs_both_keys_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, out, err = run_captured(capsys, "sign", SEED_1_JSON)
    assert (status, out) == (2, "")
    assert err == (
        "describe-images sign: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY "
        "in the environment\n"
    )


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("signature_method", ["HmacSHA256", "HmacSHA1"])
def test_sign_prints_a_url_that_verifies(
    capsys: pytest.CaptureFixture[str], signature_method: str
) -> None:
    before = int(time.time())
    status, out, err = run_captured(
        capsys,
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
    verify(
        "GET",
        "image.api.qcloud.com",
        "/v2/index.php",
        parse_query(urlsplit(url).query),
        secrets={SECRET_ID: SECRET_KEY}.get,
    )
    with pytest.raises(AuthError) as refused:
        verify(
            "GET",
            "image.api.qcloud.com",
            "/v2/index.php",
            parse_query(urlsplit(url).query),
            secrets={SECRET_ID: "another key"}.get,
        )
    assert refused.value.code == "AuthFailure.SignatureFailure"


@pytest.mark.usefixtures("keys")
def test_sign_refuses_an_invalid_request(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_captured(capsys, "sign", '{"Limit": 1000}')
    assert (status, out) == (1, "")
    assert err.startswith(
        "InvalidParameterValue.InvalidParameterValueLimit (invalid-limit) Limit: "
    )
    assert err.count("\n") == 1


@pytest.mark.usefixtures("keys")
def test_verify_good_and_tampered_urls(
    capsys: pytest.CaptureFixture[str], credentials: str
) -> None:
    status, out, _ = run_captured(capsys, "sign", SEED_1_JSON)
    url = out.strip()
    assert status == 0

    status, out, err = run_captured(capsys, "verify", url, "--credentials", credentials)
    assert (status, err) == (0, "")
    assert json.loads(out) == {"valid": True, "secret_id": SECRET_ID}
    # The URL can come from stdin too.
    status, out, _ = run_captured(capsys, "verify", "-", "--credentials", credentials, stdin=url)
    assert (status, json.loads(out)["valid"]) == (0, True)

    tampered = url.replace("img-pmqg1cw7", "img-pmqg1cw8")
    assert tampered != url
    status, out, err = run_captured(capsys, "verify", tampered, "--credentials", credentials)
    assert (status, err) == (1, "")
    verdict = json.loads(out)
    assert verdict["valid"] is False
    assert verdict["code"] == "AuthFailure.SignatureFailure"
    assert [v["reason"] for v in verdict["violations"]] == ["bad-signature"]

    # Another host: the host is part of what is signed.
    status, out, _ = run_captured(
        capsys,
        "verify",
        url.replace("image.api.qcloud.com", "cvm.api.qcloud.com"),
        "--credentials",
        credentials,
    )
    assert (status, json.loads(out)["code"]) == (1, "AuthFailure.SignatureFailure")


@pytest.mark.usefixtures("keys")
def test_verify_now_and_max_skew(capsys: pytest.CaptureFixture[str], credentials: str) -> None:
    status, out, _ = run_captured(capsys, "sign", SEED_1_JSON)
    url = out.strip()
    timestamp = int(dict(parse_query(urlsplit(url).query))["Timestamp"])
    argv = ("verify", url, "--credentials", credentials)

    status, out, _ = run_captured(capsys, *argv, "--now", str(timestamp + 301))
    verdict = json.loads(out)
    assert (status, verdict["valid"], verdict["code"]) == (1, False, "AuthFailure.SignatureExpire")
    status, out, _ = run_captured(capsys, *argv, "--now", str(timestamp + 300))
    assert (status, json.loads(out)["valid"]) == (0, True)
    status, out, _ = run_captured(
        capsys, *argv, "--now", str(timestamp + 1000), "--max-skew", "1000"
    )
    assert (status, json.loads(out)["valid"]) == (0, True)
    status, out, _ = run_captured(capsys, *argv, "--now", str(timestamp + 11), "--max-skew", "10")
    assert (status, json.loads(out)["code"]) == (1, "AuthFailure.SignatureExpire")


@pytest.mark.usefixtures("keys")
def test_verify_a_post_form_body(capsys: pytest.CaptureFixture[str], credentials: str) -> None:
    status, out, _ = run_captured(capsys, "sign", SEED_1_JSON, "--method", "POST")
    form = out.strip()
    assert status == 0 and form.startswith("Action=DescribeImages&")
    argv = ("verify", ENDPOINT, "--credentials", credentials, "--method", "POST")
    status, out, _ = run_captured(capsys, *argv, "--data", form)
    assert (status, json.loads(out)) == (0, {"valid": True, "secret_id": SECRET_ID})
    # The POST signature does not verify as a GET.
    status, out, _ = run_captured(
        capsys, "verify", f"{ENDPOINT}?{form}", "--credentials", credentials
    )
    assert (status, json.loads(out)["code"]) == (1, "AuthFailure.SignatureFailure")
    # POST without a body is a usage error.
    status, out, err = run_captured(capsys, *argv)
    assert (status, out) == (2, "")
    assert err == "describe-images verify: POST needs the form body (--data)\n"


def test_verify_missing_credentials_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json"
    status, out, err = run_captured(
        capsys, "verify", f"{ENDPOINT}?Action=DescribeImages", "--credentials", str(missing)
    )
    assert (status, out) == (2, "")
    assert err == (
        f"describe-images verify: cannot read credentials {str(missing)!r}: "
        "No such file or directory\n"
    )


def test_verify_needs_credentials_option() -> None:
    status, out, err = run("verify", ENDPOINT)
    assert (status, out) == (2, "")
    assert err == ("describe-images: error: the following arguments are required: --credentials\n")


# --- serve (in-process, without serving) ----------------------------------------------------


def test_serve_bad_catalog_is_one_line(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text('[{"ImageId": 1}]', encoding="utf-8")
    status, out, err = run("serve", "--port", "0", "--catalog", str(catalog))
    assert (status, out) == (1, "")
    assert err.startswith(f"describe-images serve: error: {catalog}: ")
    assert err.count("\n") == 1

    status, out, err = run("serve", "--port", "0", "--catalog", str(tmp_path / "none.json"))
    assert (status, out) == (1, "")
    assert err.startswith("describe-images serve: error: ") and "cannot read catalog" in err
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
    assert err.startswith("describe-images: error: " + message.format(path=str(path)))
    assert err.count("\n") == 1


def test_serve_address_in_use_is_one_line() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, out, err = run("serve", "--port", str(port))
    assert (status, out) == (1, "")
    assert err.startswith(f"describe-images serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


def test_serve_passes_its_options_to_serve_main(
    monkeypatch: pytest.MonkeyPatch, credentials: str
) -> None:
    seen: dict[str, Any] = {}

    def fake_serve_main(
        host: str, port: int, catalog_path: str | None, *, verify: Any, log: Any
    ) -> int:
        seen.update(host=host, port=port, catalog=catalog_path, verify=verify, log=log)
        return 0

    monkeypatch.setattr("describe_images.server.serve_main", fake_serve_main)
    out, err = io.StringIO(), io.StringIO()
    argv = ["serve", "--host", "::1", "--port", "9", "--catalog", "c.json"]
    assert main(argv, out=out, err=err) == 0
    assert seen == {"host": "::1", "port": 9, "catalog": "c.json", "verify": None, "log": err}

    assert main(["serve", "--credentials", credentials, "--max-skew", "60"], err=err) == 0
    assert (seen["host"], seen["port"], seen["catalog"]) == ("127.0.0.1", 8000, None)
    hook = seen["verify"]
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
    assert out.getvalue() == err.getvalue() == ""


# --- conformance (in-process, nothing listening) ----------------------------------------------


def test_conformance_unreachable_and_bad_url() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        status, out, _ = run("conformance", f"http://127.0.0.1:{port}/v2/index.php")
    assert status == 1
    assert out.startswith(
        f"describe-images conformance: cannot reach http://127.0.0.1:{port}/v2/index.php: "
    )
    assert out.splitlines()[-1] == "0 passed, 1 failed"

    status, out, err = run("conformance", "ftp://example.com/x")
    assert (status, out) == (2, "")
    assert err == (
        "describe-images: error: 'ftp://example.com/x' is not an "
        "http(s)://host[:port][/path] URL\n"
    )
    status, _, err = run("conformance", "http://127.0.0.1/", "--method", "PUT")
    assert status == 2 and "argument --method: invalid choice: 'PUT'" in err


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
    def interrupted(url: str, **kwargs: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("describe_images._conformance.run_conformance", interrupted)
    status, out, err = run("conformance", "http://127.0.0.1:9/v2/index.php")
    assert (status, out, err) == (130, "", "describe-images: interrupted\n")


def test_a_closed_stdout_exits_1_quietly() -> None:
    err = io.StringIO()
    status = main(["validate", SEED_2_URL], stdin=io.StringIO(), out=_ClosedPipe(), err=err)
    assert (status, err.getvalue()) == (1, "")
    err = io.StringIO()
    status = main(
        ["validate", "--batch"],
        stdin=io.StringIO(f"{SEED_2_URL}\n" * 3),
        out=_ClosedPipe(),
        err=err,
    )
    assert (status, err.getvalue()) == (1, "")


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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("serve", "--port", "99999"), "argument --port: a port is 0 to 65535, not '99999'"),
        (("serve", "--port", "-1"), "argument --port: a port is 0 to 65535, not '-1'"),
        (
            ("serve", "--max-skew", "nan"),
            "argument --max-skew: seconds must be a finite number >= 0, not 'nan'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "x", "--max-skew", "-1"),
            "argument --max-skew: seconds must be a finite number >= 0, not '-1'",
        ),
        (
            ("verify", "http://h/?a=1", "--credentials", "x", "--now", "nan"),
            "argument --now: a Unix time is a finite number, not 'nan'",
        ),
    ],
)
def test_numeric_options_are_checked(argv: tuple[str, ...], message: str) -> None:
    status, out, err = run(*argv)
    assert (status, out) == (2, "")
    assert err == f"describe-images: error: {message}\n"


def test_sign_and_verify_write_to_the_given_err(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    status, _, err = run("sign", "{}")
    assert status == 2
    assert "TENCENTCLOUD_SECRET_ID" in err and err.count("\n") == 1
    status, _, err = run("verify", "http://h/?a=1", "--credentials", "/nonexistent/keys.json")
    assert status == 2
    assert "cannot read credentials" in err and err.count("\n") == 1


def test_sign_refuses_user_information_in_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKID")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "key")
    status, out, err = run("sign", "{}", "--endpoint", "http://u@h/v2/index.php")
    assert (status, out) == (2, "")
    assert err == (
        "describe-images sign: 'http://u@h/v2/index.php': the URL must not carry user "
        "information (user@)\n"
    )
