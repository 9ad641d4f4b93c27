"""``describe-images serve`` end to end, as a user runs it: a real
``python -m describe_images serve`` process, called over HTTP, checked with
``describe-images conformance``, called with URLs from ``describe-images sign``, and
stopped with SIGINT (Ctrl-C).

The helpers (:func:`free_port`, :func:`serving`, :func:`http_call`) are shared with
tests/test_cli.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from describe_images._cli import main
from describe_images._conformance import load_vectors
from describe_images._http import DEFAULT_READ_TIMEOUT
from tests.seed import SEED_1_QUERY, SEED_1_RESPONSE, SEED_FILE

ROOT = Path(__file__).resolve().parent.parent
API_PATH = "/v2/index.php"
UUID4_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
SECRET_ID = "AKIDcliServeTest0000000000000000000"
SECRET_KEY = "cliServeTestSecretKey0000000000"
START_TIMEOUT = 15.0
# On Ctrl-C, serve lets the workers finish the requests they hold for at most
# read_timeout (README.md#the-serve-http-server): the wait allows that, plus the exit on a
# loaded machine.
STOP_TIMEOUT = DEFAULT_READ_TIMEOUT + 10.0
WARNING_LINE = "describe-images: WARNING: signatures are NOT verified; any caller is answered"


def seed_1_without_request_id() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_1_RESPONSE)
    del data["Response"]["RequestID"]
    return data


def assert_seed_1_answer(body: bytes) -> None:
    """The seed's example response exactly, apart from the RequestId (a fresh UUID4)."""
    data = json.loads(body)
    request_id = data["Response"].pop("RequestId")
    assert UUID4_RE.match(request_id), request_id
    assert data == seed_1_without_request_id()


def error_of(body: bytes) -> tuple[str, str]:
    """The (Code, Message) of an error envelope, after checking its RequestId."""
    response = json.loads(body)["Response"]
    assert set(response) == {"Error", "RequestId"}
    assert UUID4_RE.match(response["RequestId"])
    return response["Error"]["Code"], response["Error"]["Message"]


# --- helpers: a served process ------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A ``describe-images serve`` child process; its stderr goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PATH}"

    def log(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8").splitlines()

    def interrupt(self) -> int:
        """Ctrl-C: send SIGINT and wait for the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(STOP_TIMEOUT)


def wait_until_listening(served: Served, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if served.process.poll() is not None:
            pytest.fail(
                f"serve exited with {served.process.returncode} before listening: {served.log()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", served.port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not listen within {timeout} s: {served.log()}")
            time.sleep(0.05)


@contextmanager
def serving(directory: Path, *options: str) -> Iterator[Served]:
    """Run ``python -m describe_images serve --port <free> *options`` until the block ends;
    the process is always killed (if still running) and reaped on the way out."""
    port = free_port()
    log_path = directory / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "describe_images", "serve", "--port", str(port), *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=ROOT,
        )
    served = Served(process, port, log_path)
    try:
        wait_until_listening(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_TIMEOUT)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_call(url: str, form: str | None = None) -> tuple[int, list[str], bytes]:
    """GET ``url`` (or POST the form body ``form`` to it), bypassing any proxy: the
    status, every Content-Type header, and the body."""
    if form is None:
        request = urllib.request.Request(url, method="GET")
    else:
        request = urllib.request.Request(
            url,
            data=form.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
    with _OPENER.open(request, timeout=10) as reply:
        return reply.status, reply.headers.get_all("Content-Type") or [], reply.read()


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(""), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def request_lines(served: Served, method: str) -> list[str]:
    return [line for line in served.log() if line.startswith(f"127.0.0.1 {method} ")]


# --- the seed example, the log, Ctrl-C ----------------------------------------------------


def test_embedded_seed_example_is_the_seed_files() -> None:
    text = SEED_FILE.read_text(encoding="utf-8")
    example = text.partition("Example 1")[2].partition("Example 2")[0]
    response = example.partition("Response Parameters")[2]
    assert json.loads(response) == json.loads(SEED_1_RESPONSE)


def test_serve_answers_the_seed_example_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        status, content_types, body = http_call(f"{served.endpoint}?{SEED_1_QUERY}")
        assert status == 200
        assert content_types == ["application/json"]
        assert b"RequestID" not in body
        assert_seed_1_answer(body)

        assert served.interrupt() == 0
        log = served.log()
    assert re.fullmatch(
        rf"describe-images: serving DescribeImages 2017-03-12 on "
        rf"http://127\.0\.0\.1:{served.port}/v2/index\.php from the embedded catalog "
        r"\(\d+ images\)",
        log[0],
    ), log[0]
    assert log[1] == WARNING_LINE
    assert log[2] == "describe-images: press Ctrl-C to stop"
    assert re.fullmatch(r"127\.0\.0\.1 GET /v2/index\.php 200 OK 1/1 \d+\.\dms", log[3]), log[3]
    assert log[4:] == ["describe-images: stopped"]


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("serve")) as served:
        yield served
        assert served.interrupt() == 0
        assert served.log()[-1] == "describe-images: stopped"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_conformance_command_passes_against_the_served_process(
    plain_server: Served, method: str
) -> None:
    vectors = load_vectors()
    total = len(vectors.validate) + len(vectors.query)
    assert total >= 150
    before = len(request_lines(plain_server, method))

    status, out, err = run_cli("conformance", plain_server.endpoint, "--method", method)

    lines = out.splitlines()
    assert lines[0] == (
        f"describe-images conformance: {plain_server.endpoint} by {method}: "
        f"{len(vectors.validate)} validate and {len(vectors.query)} query vectors"
    )
    assert [line for line in lines if line.startswith("FAIL")] == []
    assert sum(line.startswith("PASS ") for line in lines) == total
    summary = re.fullmatch(r"(\d+) passed, 0 failed", lines[-1])
    assert summary is not None, lines[-1]
    assert int(summary[1]) == total
    assert (status, err) == (0, "")
    # The server saw every vector and the probe, all by `method`, all answered 200.
    seen = request_lines(plain_server, method)[before:]
    assert len(seen) == total + 1
    assert all(f" {API_PATH} 200 " in line for line in seen)


# --- serve --credentials: signatures required ----------------------------------------------


def sign(monkeypatch: pytest.MonkeyPatch, endpoint: str, *options: str) -> str:
    """``describe-images sign`` for the seed's Example 1 request, keys from the environment."""
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
    status, out, err = run_cli(
        "sign", json.dumps({"ImageIds": ["img-pmqg1cw7"]}), "--endpoint", endpoint, *options
    )
    assert (status, err) == (0, "")
    assert out.endswith("\n") and out.count("\n") == 1
    return out.strip()


def test_serve_with_credentials_requires_a_valid_fresh_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({SECRET_ID: SECRET_KEY}), encoding="utf-8")
    with serving(tmp_path, "--credentials", str(credentials)) as served:
        # Unsigned: refused before the request is looked at.
        status, content_types, body = http_call(f"{served.endpoint}?{SEED_1_QUERY}")
        assert (status, content_types) == (200, ["application/json"])
        assert error_of(body) == (
            "MissingParameter",
            "Timestamp is required on a signed request (and 3 more problems)",
        )

        # Signed by `describe-images sign` for this endpoint (the Host header is signed).
        url = sign(monkeypatch, served.endpoint)
        assert url.startswith(f"{served.endpoint}?{SEED_1_QUERY}&Timestamp=")
        assert f"&SecretId={SECRET_ID}&SignatureMethod=HmacSHA256&Signature=" in url
        status, content_types, body = http_call(url)
        assert (status, content_types) == (200, ["application/json"])
        assert_seed_1_answer(body)

        # The same signed URL again: a replay.
        status, _, body = http_call(url)
        code, message = error_of(body)
        assert (status, code) == (200, "InvalidRequest.ReplayAttack")
        assert message.startswith("Nonce ") and "was already used" in message

        # Signed for another host: the signature does not match this Host header.
        other = sign(monkeypatch, f"http://localhost:{served.port}{API_PATH}")
        status, _, body = http_call(f"{served.endpoint}?{other.partition('?')[2]}")
        assert error_of(body)[0] == "AuthFailure.SignatureFailure"

        # Signed with the wrong key.
        monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "not-the-key")
        status, out, _ = run_cli(
            "sign", '{"ImageIds": ["img-pmqg1cw7"]}', "--endpoint", served.endpoint
        )
        assert status == 0
        status, _, body = http_call(out.strip())
        assert error_of(body)[0] == "AuthFailure.SignatureFailure"

        # POST: `sign --method POST` prints the form body to send to the endpoint.
        form = sign(
            monkeypatch, served.endpoint, "--method", "POST", "--signature-method", "HmacSHA1"
        )
        assert form.startswith(f"{SEED_1_QUERY}&Timestamp=")
        status, content_types, body = http_call(served.endpoint, form=form)
        assert (status, content_types) == (200, ["application/json"])
        assert_seed_1_answer(body)

        assert served.interrupt() == 0
        log = served.log()
    assert WARNING_LINE not in log
    outcomes = [line.split(" ")[4] for line in log if line.startswith("127.0.0.1 ")]
    assert outcomes == [
        "MissingParameter",
        "OK",
        "InvalidRequest.ReplayAttack",
        "AuthFailure.SignatureFailure",
        "AuthFailure.SignatureFailure",
        "OK",
    ]
    assert log[-1] == "describe-images: stopped"


# --- README.md's "Command line" section, run as shown ----------------------------------------


def readme_console_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.partition("\n### Command line\n")[2].partition("\n### ")[0]
    return re.findall(r"```console\n(.*?)```", section, re.DOTALL)


def shown_output(lines: list[str]) -> re.Pattern[str]:
    """The output a block shows, as a pattern: "…" stands for any text within a line, and a
    line that is only "…" for any number of lines."""
    parts = []
    for line in lines:
        if line == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*?".join(re.escape(part) for part in line.split("…")) + "\n")
    return re.compile("".join(parts))


def test_readme_has_the_command_line_examples() -> None:
    blocks = readme_console_blocks()
    assert len(blocks) == 3
    commands = " ".join(blocks)
    for command in ("validate", "encode", "decode", "serve", "conformance", "sign", "verify"):
        assert (
            f"$ describe-images {command} " in commands
            or f"| describe-images {command} " in commands
        )


@pytest.mark.skipif(sys.platform == "win32", reason="the examples are POSIX shell")
@pytest.mark.parametrize("block", readme_console_blocks(), ids=["codec", "serve", "signing"])
def test_readme_command_line_examples_run_as_shown(block: str, tmp_path: Path) -> None:
    """Each console block, run by bash in an empty directory (``describe-images`` is this
    checkout, port 8000 a free port), prints exactly what the block shows (stdout and
    stderr, as a terminal shows them)."""
    lines = block.splitlines()
    port = str(free_port())
    commands = [line[2:].replace("8000", port) for line in lines if line.startswith("$ ")]
    # Whatever happens, the shell stops what it started in the background when it exits.
    script = "\n".join(["trap 'kill $(jobs -p) 2>/dev/null' EXIT", *commands])
    # describe-images as installed: a program on PATH (so `kill $!` stops the server itself).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "describe-images"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m describe_images "$@"\n')
    program.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    with subprocess.Popen(
        ["bash", "-c", script],
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as shell:
        try:
            output, _ = shell.communicate(timeout=120)
        finally:
            shell.terminate()
    shown = [line.replace("8000", port) for line in lines if not line.startswith("$ ")]
    assert shown_output(shown).fullmatch(output), output
