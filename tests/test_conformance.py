"""The conformance runner (describe_images._conformance): the report it returns against
live and fake servers, and the lines ``describe-images conformance`` prints from it."""

from __future__ import annotations

import inspect
import io
import itertools
import json
import re
import shutil
import socket
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import FrozenInstanceError
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import ProxyHandler
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from describe_images import (
    SPEC_VERSION,
    CommonParams,
    DescribeImagesError,
    RequestError,
    UsageError,
    decode_json_request,
    decode_request,
    encode_json,
    make_tc3_verifier,
    make_verifier,
    parse_query,
    tc3_verify,
    verify,
)
from describe_images._cli import main
from describe_images._cli.conformance import lines
from describe_images._conformance import (
    PROBE_QUERY,
    Call,
    CaseResult,
    ConformanceReport,
    NotExpressible,
    QueryVector,
    Style,
    ValidateVector,
    VectorError,
    Vectors,
    _is_loopback,
    _opener,
    _server_vector,
    api3_get_call,
    api3_post_call,
    json_call,
    load_vectors,
    query_part,
    run_conformance,
)
from describe_images._response import Image
from describe_images.server import make_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ROOT = Path(__file__).resolve().parent.parent


# --- servers to run against ---------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no request lines in the output
        pass


def launch(app: WSGIApplication) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on a free loopback port in a thread: its base URL and a stop function."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(10)

    return f"http://127.0.0.1:{server.server_address[1]}", stop


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    """The reference app with the embedded catalog: its API URL."""
    url, stop = launch(make_app())
    yield f"{url}/v2/index.php"
    stop()


@pytest.fixture(scope="module")
def live_vectors() -> Iterator[str]:
    """The reference app with the query vectors' catalog: its API URL."""
    url, stop = launch(make_app(load_vectors().catalog))
    yield f"{url}/v2/index.php"
    stop()


@pytest.fixture
def fake_server() -> Iterator[Callable[[WSGIApplication], str]]:
    stops: list[Callable[[], None]] = []

    def start(app: WSGIApplication) -> str:
        url, stop = launch(app)
        stops.append(stop)
        return f"{url}/"

    yield start
    for stop in stops:
        stop()


def conformance(url: str, **kwargs: Any) -> tuple[ConformanceReport, list[str]]:
    """The report of a run, and the lines the command prints for it."""
    report = run_conformance(url, **kwargs)
    return report, lines(report)


# --- against the reference app ------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_conformance_all_pass_with_the_vectors_catalog(live_vectors: str, method: str) -> None:
    vectors = load_vectors()
    report, printed = conformance(live_vectors, method=method)
    total = len(vectors.validate) + len(vectors.query)
    assert (report.url, report.method, report.compared, report.unreachable) == (
        live_vectors,
        method,
        True,
        "",
    )
    assert (report.validate_count, report.query_count) == (
        len(vectors.validate),
        len(vectors.query),
    )
    assert report.results == (
        *(CaseResult("validate", v.id, "") for v in vectors.validate),
        *(CaseResult("query", v.id, "") for v in vectors.query),
    )
    assert (report.passed, report.failed) == (total, 0)
    assert printed == [
        f"describe-images conformance: {live_vectors} by {method}: "
        f"{len(vectors.validate)} validate and {len(vectors.query)} query vectors",
        "query vectors: checking TotalCount and ImageIds (the server holds their catalog)",
        *(f"PASS validate/{v.id}" for v in vectors.validate),
        *(f"PASS query/{v.id}" for v in vectors.query),
        f"vectors of spec {SPEC_VERSION}",
        f"{total} passed, 0 failed",
    ]


def test_conformance_against_the_embedded_catalog(live: str) -> None:
    report, printed = conformance(live.removesuffix("/v2/index.php"))
    assert report.compared is False
    assert printed[1] == (
        "query vectors: checking only that each succeeds (to check results too, serve the "
        "vectors' catalog: describe-images serve --catalog spec/vectors/query.json)"
    )
    assert printed[-1] == f"{len(report.results)} passed, 0 failed"
    assert report.failed == 0
    # Forcing the comparison against a server without the catalog fails the query vectors.
    report, printed = conformance(live, compare_results=True)
    assert report.compared is True and report.failed > 0
    assert {r.kind for r in report.results if r.problem} == {"query"}
    assert any(line.startswith("FAIL query/") and "TotalCount" in line for line in printed)


def test_the_command_prints_the_report(live_vectors: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["conformance", live_vectors, "--method", "POST"], out=out, err=err) == 0
    printed = out.getvalue().splitlines()
    assert printed == lines(run_conformance(live_vectors, method="POST"))
    assert printed[0].endswith(" by POST: 133 validate and 60 query vectors")
    assert err.getvalue() == ""
    # A failing run exits 1.
    out = io.StringIO()
    nowhere = live_vectors.removesuffix("/v2/index.php") + "/nope"
    assert main(["conformance", nowhere, "--method", "GET"], out=out) == 1
    assert out.getvalue().splitlines()[-1].endswith(" failed") and " 0 failed" not in out.getvalue()


# --- server vectors (spec/vectors/server.json) -------------------------------------------


def test_server_vectors_pass_against_the_embedded_catalog(live: str) -> None:
    vectors = load_vectors()
    report, printed = conformance(live, server=True)
    assert (report.server_count, report.server_compared) == (len(vectors.server), True)
    assert report.results[-len(vectors.server) :] == tuple(
        CaseResult("server", v.id, "") for v in vectors.server
    )
    assert (report.passed, report.failed) == (len(report.results), 0)
    assert printed[0].endswith(": 133 validate, 60 query and 37 server vectors")
    assert printed[2] == (
        "server vectors: checking TotalCount and ImageIds (the server holds their catalog)"
    )
    assert f"PASS server/{vectors.server[0].id}" in printed
    assert printed[-2:] == [f"vectors of spec {SPEC_VERSION}", f"{report.passed} passed, 0 failed"]
    # The command: --server.
    out = io.StringIO()
    assert main(["conformance", live, "--server"], out=out) == 0
    assert out.getvalue().splitlines()[0] == printed[0]


def test_server_vectors_without_their_catalog_check_only_the_verdicts(live_vectors: str) -> None:
    report, printed = conformance(live_vectors, server=True)
    assert (report.server_compared, report.failed) == (False, 0)
    assert printed[2] == (
        "server vectors: checking only that each succeeds (their catalog is the embedded one: "
        "describe-images serve)"
    )
    # Forced, the comparison fails the successes (another catalog).
    report, _ = conformance(live_vectors, server=True, compare_results=True)
    problems = [r.problem for r in report.results if r.kind == "server" and r.problem]
    assert problems and all(p.startswith("TotalCount ") for p in problems)


def test_server_vectors_report_what_differs(fake_server: Callable[[WSGIApplication], str]) -> None:
    # A fresh RequestId per answer (id(environ) can repeat once an environ is freed, and
    # the runner refuses a RequestId it has seen).
    answers = itertools.count()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        body = b'{"Response": {"TotalCount": 0, "ImageSet": [], "RequestId": "%d"}}' % next(
            answers
        )
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    request = {"method": "GET", "path": "/", "headers": [], "query": "", "body": ""}
    vectors = Vectors((), (), (), server=tuple(
        _server_vector({"id": f"s{i}", "description": "d", "request": request, "response": r})
        for i, r in enumerate([
            {"status": 404, "content_type": "text/plain; charset=utf-8"},
            {"status": 200, "content_type": "application/json; charset=utf-8"},
            {"status": 200, "content_type": "application/json", "headers": [["Allow", "GET"]]},
            {"status": 200, "content_type": "application/json",
             "errors": [{"code": "NoSuchVersion", "reason": "no-such-version", "path": "Version"}]},
            {"status": 200, "content_type": "application/json", "total_count": 1,
             "image_ids": ["img-00000001"]},
        ])
    ))  # fmt: skip
    report = run_conformance(fake_server(app), vectors=vectors, server=True, compare_results=True)
    assert [r.problem for r in report.results] == [
        "HTTP status 200, expected 404",
        "Content-Type 'application/json', expected exactly 'application/json; charset=utf-8'",
        "Allow [], expected ['GET']",
        "expected NoSuchVersion, got success (TotalCount 0)",
        "TotalCount 0, expected 1; ImageIds [], expected ['img-00000001']",
    ]


def test_server_vectors_are_for_an_unsigned_run() -> None:
    with pytest.raises(UsageError, match=r"^the server vectors are for a server that requires no"):
        run_conformance("http://127.0.0.1:1/", server=True, credentials=("id", "key"))
    with pytest.raises(UsageError, match=r"^server must be True or False, not 1$"):
        run_conformance("http://127.0.0.1:1/", server=1)  # type: ignore[arg-type]  # on purpose


def test_load_vectors_refuses_another_spec_version(tmp_path: Path) -> None:
    write_vectors(tmp_path)
    document = json.loads((tmp_path / "server.json").read_text("utf-8"))
    (tmp_path / "server.json").write_text(json.dumps({**document, "spec_version": "1.0.0"}))
    with pytest.raises(VectorError, match=r"^server\.json in .* is of spec_version '1\.0\.0'; "):
        load_vectors(tmp_path)
    (tmp_path / "server.json").write_text(json.dumps({"cases": []}))
    with pytest.raises(VectorError, match=r"is of spec_version None; this runner reads 2\.0\.0$"):
        load_vectors(tmp_path)


def test_the_report_is_a_frozen_value() -> None:
    result = CaseResult("validate", "a", "")
    report = ConformanceReport("http://h/", "GET", 1, 0, False, (result,))
    assert (result.passed, report.passed, report.failed) == (True, 1, 0)
    failed = CaseResult("query", "b", "HTTP status 500, expected 200")
    report = ConformanceReport("http://h/", "GET", 1, 1, True, (result, failed))
    assert (failed.passed, report.passed, report.failed) == (False, 1, 1)
    assert report == ConformanceReport("http://h/", "GET", 1, 1, True, (result, failed))
    assert hash(report) == hash(ConformanceReport("http://h/", "GET", 1, 1, True, (result, failed)))
    with pytest.raises(FrozenInstanceError):
        report.url = "x"  # type: ignore[misc]  # frozen, on purpose
    unreachable = ConformanceReport("http://h/", "GET", 1, 1, False, (), "no answer: refused")
    assert (unreachable.passed, unreachable.failed) == (0, 1)
    assert lines(unreachable) == [
        "describe-images conformance: cannot reach http://h/: no answer: refused",
        "0 passed, 1 failed",
    ]


# --- against fake servers -----------------------------------------------------------------

SMALL_CATALOG = (Image("img-00000001", "os", "PUBLIC_IMAGE", "t", "NORMAL", "n", "d", "PUBLIC"),)
SMALL = Vectors(
    validate=(
        ValidateVector("ok", "valid", "Action=DescribeImages&Version=2017-03-12", None),
        ValidateVector(
            "bad",
            "bad limit",
            "Action=DescribeImages&Version=2017-03-12&Limit=0",
            "InvalidParameterValue.InvalidParameterValueLimit",
        ),
    ),
    query=(
        QueryVector("all", "all", "Action=DescribeImages&Version=2017-03-12", 1, ("img-00000001",)),
    ),
    catalog=SMALL_CATALOG,
)


def canned(
    status: str, headers: list[tuple[str, str]], body: Callable[[WSGIEnvironment], bytes]
) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        start_response(status, list(headers))  # wsgiref adds to the list it is given
        return [body(environ)]

    return app


def fresh_success(environ: WSGIEnvironment) -> bytes:
    return json.dumps(
        {"Response": {"ImageSet": [], "TotalCount": 0, "RequestId": str(uuid.uuid4())}}
    ).encode()


def fresh_error(environ: WSGIEnvironment) -> bytes:
    return json.dumps(
        {
            "Response": {
                "Error": {"Code": "InternalError", "Message": "m"},
                "RequestId": str(uuid.uuid4()),
            }
        }
    ).encode()


JSON = [("Content-Type", "application/json")]
SAME_ID = b'{"Response":{"ImageSet":[],"TotalCount":0,"RequestId":"same"}}'


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (
            canned("200 OK", JSON, fresh_success),
            [
                "PASS validate/ok",
                "FAIL validate/bad: expected InvalidParameterValue.InvalidParameterValueLimit, "
                "got success (TotalCount 0)",
                "FAIL query/all: TotalCount 0, expected 1; ImageIds [], expected ['img-00000001']",
            ],
        ),
        (
            canned("200 OK", JSON, fresh_error),
            [
                "FAIL validate/ok: expected success, got InternalError (m)",
                "FAIL validate/bad: expected InvalidParameterValue.InvalidParameterValueLimit, "
                "got InternalError (m)",
                "FAIL query/all: expected success, got InternalError (m)",
            ],
        ),
        (
            canned("200 OK", [("Content-Type", "application/json; charset=utf-8")], fresh_success),
            [
                "FAIL validate/ok: Content-Type 'application/json; charset=utf-8', "
                "expected exactly 'application/json'"
            ],
        ),
        (
            canned("200 OK", JSON, lambda environ: SAME_ID),
            [
                "FAIL validate/ok: RequestId 'same' was already used; each answer needs a new one",
                "FAIL query/all: RequestId 'same' was already used; each answer needs a new one",
            ],
        ),
        (
            canned(
                "500 Internal Server Error", [("Content-Type", "text/plain")], lambda e: b"boom"
            ),
            [
                "FAIL validate/ok: HTTP status 500, expected 200",
                "FAIL query/all: HTTP status 500, expected 200",
            ],
        ),
        (
            canned("302 Found", [("Location", "http://example.com/")], lambda e: b""),
            ["FAIL validate/ok: HTTP status 302, expected 200"],
        ),
        (
            canned("200 OK", JSON, lambda environ: b"<html>"),
            [
                "FAIL validate/ok: not a DescribeImages envelope: the response is not JSON: "
                "Expecting value: line 1 column 1 (char 0)"
            ],
        ),
    ],
    ids=[
        "always-success",
        "always-error",
        "charset",
        "same-request-id",
        "500",
        "redirect",
        "not-json",
    ],
)
def test_conformance_reports_failures(
    fake_server: Callable[[WSGIApplication], str], app: WSGIApplication, expected: list[str]
) -> None:
    url = fake_server(app)
    report, printed = conformance(url, vectors=SMALL, compare_results=True)
    assert report.failed >= 1 and report.passed + report.failed == 3
    for line in expected:
        assert line in printed
    assert printed[-1] == f"{report.passed} passed, {report.failed} failed"


def test_conformance_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    report, printed = conformance(url, vectors=SMALL, timeout=5)
    assert re.fullmatch(r"no answer: \[Errno \d+\] Connection refused", report.unreachable)
    assert (report.method, report.compared, report.validate_count, report.query_count) == (
        "GET",
        False,
        2,
        1,
    )
    assert (report.results, report.passed, report.failed) == ((), 0, 1)
    # https is an endpoint too (nothing listens there either).
    report = run_conformance(f"https://127.0.0.1:{port}/", vectors=SMALL, method="POST")
    assert (report.method, report.failed) == ("POST", 1) and report.unreachable
    assert printed == [
        f"describe-images conformance: cannot reach {url}: {report.unreachable}",
        "0 passed, 1 failed",
    ]


def test_conformance_timeout(fake_server: Callable[[WSGIApplication], str]) -> None:
    gate = threading.Event()

    def slow(environ: WSGIEnvironment) -> bytes:
        gate.wait(5)
        return fresh_success(environ)

    url = fake_server(canned("200 OK", JSON, slow))
    report, printed = conformance(url, vectors=SMALL, timeout=0.2)
    gate.set()
    assert (report.unreachable, report.failed) == ("no answer: timed out", 1)
    assert printed[0] == f"describe-images conformance: cannot reach {url}: no answer: timed out"


def raw_server(replies: list[bytes]) -> tuple[str, threading.Thread]:
    """A socket server that answers its n-th connection with replies[n] (raw bytes)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def loop() -> None:
        with listener:
            for reply in replies:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(reply)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/", thread


def http_reply(body: bytes) -> bytes:
    head = (
        f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_conformance_cases_without_an_answer() -> None:
    probe = http_reply(fresh_success({}))
    url, thread = raw_server([probe, b"", b"HELLO\r\n\r\n", http_reply(b"{}")[:-1]])
    report, printed = conformance(url, vectors=SMALL, timeout=5)
    thread.join(10)
    assert [(r.kind, r.id) for r in report.results] == [
        ("validate", "ok"),
        ("validate", "bad"),
        ("query", "all"),
    ]
    assert printed[2].startswith("FAIL validate/ok: no answer: ")
    assert printed[3].startswith("FAIL validate/bad: not an HTTP answer: BadStatusLine(")
    assert printed[4].startswith("FAIL query/all: not an HTTP answer: IncompleteRead(")
    assert printed[5:] == [f"vectors of spec {SPEC_VERSION}", "0 passed, 3 failed"]


def test_conformance_probe_not_http() -> None:
    url, thread = raw_server([b"SSH-2.0-OpenSSH\r\n"])
    report, printed = conformance(url, vectors=SMALL, timeout=5)
    thread.join(10)
    assert report.unreachable.startswith("not an HTTP answer: ")
    assert printed[0] == f"describe-images conformance: cannot reach {url}: {report.unreachable}"


def test_conformance_cuts_a_long_url_in_its_message() -> None:
    url = "ftp://" + "x" * 300
    with pytest.raises(UsageError) as info:
        run_conformance(url, vectors=SMALL)
    assert str(info.value) == f"{url[:200]!r} is not an http(s)://host[:port][/path] URL"


def test_conformance_waits_10_seconds_for_an_answer() -> None:
    assert inspect.signature(run_conformance).parameters["timeout"].default == 10.0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "http:///v2/index.php",
        "http://h/?Action=x",
        "http://h/#x",
        "127.0.0.1:8000",
        "file:///etc/passwd",
        "http://[::1/",
        "http://h:99999/",
        "http://h:\u0668\u0660/",
        "http://h:+80/",
        "http://u@h/",
        "http://\u00e9.example/",
        "http://h/\ud800",
        "http://h/a b",
        "http://h/\t",
        "",
    ],
)
def test_conformance_refuses_bad_urls(url: str) -> None:
    with pytest.raises(UsageError) as info:
        conformance(url, vectors=SMALL)
    assert str(info.value) == f"{url!r} is not an http(s)://host[:port][/path] URL"


def test_conformance_refuses_bad_method_and_timeout() -> None:
    with pytest.raises(UsageError, match=r"^method must be GET or POST, not 'PUT'$"):
        run_conformance("http://127.0.0.1:1/", method="PUT", vectors=SMALL)  # type: ignore[arg-type]  # on purpose
    for timeout in (0, -1.0, float("nan"), float("inf"), True, "5"):
        with pytest.raises(UsageError, match=r"^timeout must be a finite number of seconds > 0"):
            run_conformance("http://127.0.0.1:1/", timeout=timeout, vectors=SMALL)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(UsageError, match=r"^the URL is a str, not bytes$"):
        run_conformance(b"http://127.0.0.1:1/", vectors=SMALL)  # type: ignore[arg-type]  # on purpose


def test_conformance_sends_unsafe_characters_escaped(
    fake_server: Callable[[WSGIApplication], str],
) -> None:
    seen: list[str] = []

    def record(environ: WSGIEnvironment) -> bytes:
        seen.append(environ["QUERY_STRING"])
        return fresh_success(environ)

    url = fake_server(canned("200 OK", JSON, record))
    vectors = Vectors(
        validate=(ValidateVector("odd", "odd", "a=b c#d\x00é\x7f%zz+&!~\udcff", None),),
        query=(),
        catalog=(),
    )
    report, _ = conformance(url, vectors=vectors)
    assert (report.passed, report.failed) == (1, 0)
    assert seen[1] == "a=b%20c%23d%00%C3%A9%7F%zz+&!~%ED%B3%BF"


def test_conformance_posts_the_vector_as_a_form(
    fake_server: Callable[[WSGIApplication], str],
) -> None:
    seen: list[tuple[str, str, bytes]] = []

    def record(environ: WSGIEnvironment) -> bytes:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        seen.append((environ["REQUEST_METHOD"], environ["CONTENT_TYPE"], body))
        return fresh_success(environ)

    url = fake_server(canned("200 OK", JSON, record))
    vectors = Vectors(
        validate=(ValidateVector("odd", "odd", "https://h/?a=b c\udcff#x", None),),
        query=(),
        catalog=(),
    )
    report, _ = conformance(url, vectors=vectors, method="POST")
    assert (report.passed, report.failed) == (1, 0)
    assert seen[1] == ("POST", "application/x-www-form-urlencoded", b"a=b c\xed\xb3\xbf")


def test_the_client_bypasses_proxies_for_loopback(
    live: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")  # nothing listens there
    monkeypatch.delenv("no_proxy", raising=False)
    report = run_conformance(live, vectors=SMALL)
    assert report.unreachable == "" and len(report.results) == 3


@pytest.mark.parametrize(
    ("query", "part"),
    [
        ("https://h/v2/index.php?a=1#b=2", "a=1"),
        ("HTTP://h/?a=1", "a=1"),
        ("/v2/index.php?a=1", "a=1"),
        ("http://h/v2/index.php", ""),
        ("a=1#b", "a=1#b"),
        ("a=http://x?y", "a=http://x?y"),
    ],
)
def test_query_part(query: str, part: str) -> None:
    assert query_part(query) == part


def test_probe_is_a_valid_request() -> None:
    assert decode_request(PROBE_QUERY).limit == 100


# --- Vectors as package data ------------------------------------------------------------------


def test_load_vectors_default_and_from_a_directory(tmp_path: Path) -> None:
    packaged = load_vectors()
    assert len(packaged.query) >= 30
    assert (
        packaged.validate[0].id
        == json.loads((ROOT / "spec" / "vectors" / "validate.json").read_text(encoding="utf-8"))[
            "cases"
        ][0]["id"]
    )
    for name in ("validate.json", "query.json", "json.json", "server.json"):
        shutil.copy(ROOT / "spec" / "vectors" / name, tmp_path / name)
    assert load_vectors(tmp_path) == load_vectors(str(tmp_path))
    assert load_vectors(tmp_path).query == packaged.query
    assert load_vectors(tmp_path).json == packaged.json
    assert load_vectors(tmp_path).server == packaged.server
    assert len(packaged.server) == len(packaged.server_catalog) - 12 == 37


def test_validate_vector_code_is_the_first_error(tmp_path: Path) -> None:
    write_vectors(
        tmp_path,
        validate=[
            {"id": "a", "description": "", "query": "q", "errors": []},
            {
                "id": "b",
                "description": "",
                "query": "q",
                "errors": [{"code": "X", "reason": "r", "path": ""}, {"code": "Y"}],
            },
        ],
    )
    assert [v.code for v in load_vectors(tmp_path).validate] == [None, "X"]


def test_vectors_are_read_whole(tmp_path: Path) -> None:
    case = {"id": "v", "description": "d-v", "query": "q-v", "errors": []}
    image = {
        "ImageId": "img-00000001",
        "ImageOsName": "os",
        "ImageType": "PUBLIC_IMAGE",
        "ImageCreateTime": "t",
        "ImageStatus": "NORMAL",
        "ImageName": "n",
        "ImageDescription": "d",
        "Creator": "PUBLIC",
    }
    query = {
        "id": "q",
        "description": "d-q",
        "query": "q-q",
        "total_count": 1,
        "image_ids": ["img-00000001"],
    }
    write_vectors(tmp_path, [case], [query], [image])
    assert load_vectors(tmp_path) == Vectors(
        validate=(ValidateVector("v", "d-v", "q-v", None),),
        query=(QueryVector("q", "d-q", "q-q", 1, ("img-00000001",)),),
        catalog=(Image("img-00000001", "os", "PUBLIC_IMAGE", "t", "NORMAL", "n", "d", "PUBLIC"),),
    )


def write_vectors(
    directory: Path,
    validate: Sequence[object] | dict[str, object] = (),
    query: Sequence[object] = (),
    catalog: Sequence[object] = (),
    bodies: Sequence[object] = (),
    server: Sequence[object] = (),
) -> None:
    top = {"spec_version": SPEC_VERSION}
    validate_doc = {**top, "cases": validate if isinstance(validate, dict) else list(validate)}
    query_doc = {**top, "catalog": list(catalog), "cases": list(query)}
    server_doc = {**top, "catalog": [], "cases": list(server)}
    (directory / "json.json").write_text(json.dumps({**top, "cases": list(bodies)}), "utf-8")
    (directory / "server.json").write_text(json.dumps(server_doc), encoding="utf-8")
    (directory / "validate.json").write_text(json.dumps(validate_doc), encoding="utf-8")
    (directory / "query.json").write_text(json.dumps(query_doc), encoding="utf-8")


@pytest.mark.parametrize(
    ("validate", "query", "catalog", "detail"),
    [
        ([{"id": "a"}], [], [], "KeyError('errors')"),
        (
            [{"id": "a", "description": "", "query": 1, "errors": []}],
            [],
            [],
            """TypeError("case 'a': query must be a string")""",
        ),
        (
            [{"id": "a", "description": "", "query": "q", "errors": {}}],
            [],
            [],
            """TypeError("case 'a': errors must be an array")""",
        ),
        (
            [],
            [{"id": "a", "description": "", "query": "q", "total_count": "1", "image_ids": []}],
            [],
            """TypeError("case 'a': total_count or image_ids has a wrong type")""",
        ),
        ([], [], [{"ImageId": "x"}], "CatalogError('query.json: 7 problems: catalog.0."),
        (["not an object"], [], [], "ValueError('validate.json: cases must be an array of "),
        ([], ["not an object"], [], "ValueError('query.json: cases must be an array of "),
        ({}, [], [], "ValueError('validate.json: cases must be an array of objects')"),
    ],
    ids=[
        "missing-keys",
        "query-number",
        "errors-object",
        "count-string",
        "bad-catalog",
        "case-string",
        "query-case-string",
        "cases-object",
    ],
)
def test_load_vectors_refuses_malformed_files(
    tmp_path: Path,
    validate: list[object] | dict[str, object],
    query: list[object],
    catalog: list[object],
    detail: str,
) -> None:
    write_vectors(tmp_path, validate, query, catalog)
    with pytest.raises(VectorError) as info:
        load_vectors(tmp_path)
    assert str(info.value).startswith(f"vectors in {tmp_path}: {detail}")
    assert issubclass(VectorError, DescribeImagesError)


def test_load_vectors_missing_or_not_json(tmp_path: Path) -> None:
    with pytest.raises(VectorError, match=r"cannot read validate\.json in "):
        load_vectors(tmp_path)
    (tmp_path / "validate.json").write_text("[]", encoding="utf-8")
    with pytest.raises(VectorError, match=r"validate\.json in .* is not a JSON object"):
        load_vectors(tmp_path)
    (tmp_path / "validate.json").write_text("{", encoding="utf-8")
    with pytest.raises(VectorError, match=r"cannot read validate\.json in .*: Expecting"):
        load_vectors(tmp_path)


def test_load_vectors_from_a_traversable(tmp_path: Path) -> None:
    root = resources.files("describe_images") / "data" / "vectors"
    assert load_vectors(root) == load_vectors()
    # A Traversable that is not a path: a directory inside a zip file.
    archive = tmp_path / "vectors.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("validate.json", "query.json", "json.json", "server.json"):
            zipped.write(ROOT / "spec" / "vectors" / name, f"v/{name}")
    with zipfile.ZipFile(archive) as zipped:
        assert load_vectors(zipfile.Path(zipped, "v/")) == load_vectors()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_loopback_hosts_bypass_proxies(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback


def test_remote_hosts_keep_environment_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.delenv("no_proxy", raising=False)

    def proxies(url: str) -> dict[str, str]:
        # OpenerDirector keeps only handlers with something to do: ProxyHandler({}) is not
        # listed, but it keeps the default (environment) ProxyHandler out.
        handlers = vars(_opener(url))["handlers"]  # untyped in typeshed
        found = [h for h in handlers if isinstance(h, ProxyHandler)]
        return dict(found[0].proxies) if found else {}  # type: ignore[attr-defined]  # untyped

    assert proxies("http://example.com/") == {"http": "http://proxy.invalid:3128"}
    assert proxies("http://127.0.0.1:8000/") == {}


# --- API 3.0 styles and signed runs (spec/README.md §3.5) ---------------------------------

SEED_1 = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
SID, SKEY = "AKIDconformance000000000000000000", "conformanceSecretKey0000000000000"
STYLE_VECTORS = load_vectors()
# Every vector not sent, by style, unsigned: the rules of §3.5 pinned by id.
NO_ACTION = {
    "missing-action", "missing-both", "url-path-only", "url-relative-path-no-query",
    "url-over-slack-not-searched", "url-slack-counts-utf8-bytes",
    "url-scheme-malformed-not-a-url",
}  # fmt: skip
V1_ONLY = {
    "sdk-v1-get", "nonce-not-integer", "nonce-arabic-digit", "timestamp-integer",
    "signature-method-sha256", "signature-method-sha1", "signature-method-unknown",
    "signature-method-case", "order-many",
}  # fmt: skip
API3_ONLY_GET = NO_ACTION | V1_ONLY | {"shape-action-list", "unsupported-version", "empty-version"}
NO_JSON_FORM = {
    "wire-duplicate-key", "wire-index-gap", "wire-bad-index-start", "wire-leading-zero",
    "wire-bad-key-sign", "wire-bad-key-arabic-digit", "wire-index-out-of-range",
    "wire-shape-conflict", "wire-bad-percent", "wire-control-character", "wire-mixed-children",
    "offset-decimal", "offset-exponent", "offset-sign", "offset-arabic-digit",
    "offset-underscore", "offset-spaces", "offset-empty", "offset-hex", "limit-abc",
    "limit-exponent", "limit-arabic-digit",
}  # fmt: skip
WITH_LIMITS = {case.id for case in STYLE_VECTORS.json if case.limits}
NOT_EXPRESSIBLE: dict[tuple[str, bool], set[str]] = {
    ("legacy", False): set(),
    ("api3-get", False): API3_ONLY_GET,
    ("api3-post", False): API3_ONLY_GET | NO_JSON_FORM | WITH_LIMITS,
    # Signed: v1 covers only what parses, once per name, without its own signature fields;
    # TC3 needs the current X-TC-Timestamp.
    ("legacy", True): {
        "sdk-v1-get", "wire-duplicate-key", "wire-bad-percent", "wire-control-character",
        "timestamp-not-integer", "nonce-not-integer", "nonce-arabic-digit",
        "timestamp-integer", "order-many", "url-over-slack-not-searched",
        "url-slack-counts-utf8-bytes",
    },
    ("api3-get", True): API3_ONLY_GET | {"timestamp-not-integer"},
    ("api3-post", True): API3_ONLY_GET | NO_JSON_FORM | WITH_LIMITS
    | {"timestamp-not-integer", "common-from-headers", "timestamp-from-headers"},
}  # fmt: skip


@pytest.fixture(scope="module")
def live_signed() -> Iterator[str]:
    """The reference app requiring v1 and TC3 signatures (serve --credentials)."""
    keys = {SID: SKEY}
    app = make_app(
        STYLE_VECTORS.catalog, verify=make_verifier(keys), verify_tc3=make_tc3_verifier(keys)
    )
    url, stop = launch(app)
    yield f"{url}/v2/index.php"
    stop()


@pytest.mark.parametrize("style", ["legacy", "api3-get", "api3-post"])
@pytest.mark.parametrize("signed", [False, True])
def test_every_style_passes_against_the_reference_server(
    live_vectors: str, live_signed: str, style: Style, signed: bool
) -> None:
    url = live_signed if signed else live_vectors
    report, printed = conformance(url, style=style, credentials=(SID, SKEY) if signed else None)
    skipped = NOT_EXPRESSIBLE[style, signed]
    assert {r.id for r in report.not_expressible} == skipped
    assert all(r.problem.startswith("not expressible: ") for r in report.not_expressible)
    assert (report.failed, report.compared, report.style) == (0, True, style)
    assert report.signed_as == (SID if signed else "")
    assert report.method == {"legacy": "GET", "api3-get": "GET", "api3-post": "POST"}[style]
    bodies = STYLE_VECTORS.json if style == "api3-post" else ()
    everything = [
        *(("validate", v.id) for v in STYLE_VECTORS.validate),
        *(("query", v.id) for v in STYLE_VECTORS.query),
        *(("json", v.id) for v in bodies),
    ]
    sent = [(kind, id_) for kind, id_ in everything if id_ not in skipped]
    assert [(r.kind, r.id) for r in report.results] == sent
    assert report.passed == len(sent) and report.json_count == len(bodies)
    assert report.sent("query") == len(STYLE_VECTORS.query)  # every query vector is sent
    total = report.sent("validate") + report.skipped("validate")
    assert total == report.validate_count == len(STYLE_VECTORS.validate)
    assert report.sent("json") + report.skipped("json") == len(bodies)
    assert printed[-1] == f"{len(sent)} passed, 0 failed" + (
        f", {len(skipped)} not expressible" if skipped else ""
    )
    assert [line for line in printed if line.startswith("SKIP ")] == [
        f"SKIP {r.kind}/{r.id}: {r.problem}" for r in report.not_expressible
    ]


@pytest.mark.parametrize("style", ["legacy", "api3-get", "api3-post"])
def test_unsigned_and_wrongly_signed_runs_fail_against_a_signing_server(
    live_signed: str, style: Style
) -> None:
    report = run_conformance(live_signed, style=style, vectors=SMALL)
    assert report.compared is False  # the probe was refused too
    assert report.passed == 0 and report.failed == 3
    assert all(" got MissingParameter " in r.problem for r in report.results), report.results
    report = run_conformance(live_signed, style=style, vectors=SMALL, credentials=(SID, "k"))
    assert report.passed == 0 and report.failed == 3
    assert all(" got AuthFailure.SignatureFailure " in r.problem for r in report.results)


def test_api3_get_call_moves_the_common_parameters_to_headers() -> None:
    call = api3_get_call(
        "https://h/v2/index.php?Action=DescribeImages&Version=2017-03-12&Region=ap-guangzhou"
        "&Filters.1.Name=image-name&Filters.1.Values.1=a+b%26c&Token=t%2Bx&Limit=5#x"
    )
    assert call == Call(
        "GET",
        "Filters.1.Name=image-name&Filters.1.Values.1=a+b%26c&Limit=5",
        (
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-TC-Action", "DescribeImages"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Token", "t+x"),
        ),
        None,
    )


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("Version=2017-03-12", "no Action: an API 3.0 call is known by its X-TC-Action header"),
        ("Action=DescribeImages&Nonce=1", "it carries Nonce, a parameter of the v1 signature"),
        ("Action=DescribeImages&Signature.0=x", "it carries Signature, a parameter of the v1"),
        ("Action.0=DescribeImages", "Action.0: a common parameter with a shape no header has"),
        ("Action=DescribeImages&Action=DescribeImages", "Action twice: a header is sent once"),
        ("Action=DescribeImages&Region=%zz", "Region=%zz: no header carries that text as is"),
        ("Action=DescribeImages&Region=+r", "Region=+r: no header carries that text as is"),
        ("Action=DescribeImages&Region=%E4%B8%AD", "Region=%E4%B8%AD: no header carries that"),
        ("Action=DescribeImages&Token=a%0Ab", "Token=a%0Ab: no header carries that text as is"),
        ("Action=DescribeImages&Version=1", "Version '1': API 3.0 answers it with its own code"),
        ("Action=DescribeImages&Version=", "Version '': API 3.0 answers it with its own code"),
    ],
)
def test_api3_calls_refuse_what_has_no_api3_form(query: str, why: str) -> None:
    for translate in (api3_get_call, api3_post_call):
        with pytest.raises(NotExpressible) as info:
            translate(query)
        assert str(info.value).startswith(why)


def test_api3_post_call_writes_the_tree_as_json() -> None:
    call = api3_post_call(
        "Action=DescribeImages&Version=2017-03-12&Filters.1.Name=image-name"
        "&Filters.1.Values.1=%E4%B8%AD+x&Offset=007&Limit=-1&Foo.0=1&Filters.1.Mode=any"
    )
    assert call.method == "POST" and call.query == ""
    assert call.headers == (
        ("Content-Type", "application/json"),
        ("X-TC-Action", "DescribeImages"),
        ("X-TC-Version", "2017-03-12"),
    )
    assert call.body is not None
    assert json.loads(call.body) == {
        "Filters": [{"Name": "image-name", "Values": ["中 x"], "Mode": "any"}],
        "Offset": 7,
        "Limit": -1,
        "Foo": ["1"],
    }
    # The official SDK's body for the same request, byte for byte (its json.dumps).
    seed = api3_post_call("Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7")
    assert seed.body == encode_json(decode_request(SEED_1)) == b'{"ImageIds": ["img-pmqg1cw7"]}'


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("Action=DescribeImages&Limit=1&Limit=2", "a wire-level case (duplicate-key) that JSON"),
        ("Action=DescribeImages&ImageIds.0=a&ImageIds.2=b", "a wire-level case (index-gap)"),
        ("Action=DescribeImages&Offset=1.0", "Offset='1.0' is no JSON integer"),
        ("Action=DescribeImages&Limit=" + "1" * 4001, "Limit='11111111111111111111111111111111"),
    ],
)
def test_api3_post_call_refuses_what_json_cannot_write(query: str, why: str) -> None:
    with pytest.raises(NotExpressible) as info:
        api3_post_call(query)
    assert str(info.value).startswith(why)
    assert api3_get_call(query).query == query.removeprefix("Action=DescribeImages&")


def test_every_json_form_gets_the_vectors_code_from_the_json_door() -> None:
    # The translation is faithful: for every validate vector it writes as JSON, the JSON
    # door answers the first code the vector expects (the headers as the server reads them).
    checked = 0
    for case in STYLE_VECTORS.validate:
        try:
            call = api3_post_call(case.query)
        except NotExpressible:
            continue
        headers = {name.removeprefix("X-TC-"): value for name, value in call.headers[1:]}
        if "Version" not in headers:  # the server's header check comes first (§3.4)
            assert case.code == "MissingParameter", case.id
            checked += 1
            continue
        assert headers.pop("Version") == "2017-03-12"
        common = CommonParams(
            action=headers.pop("Action"),
            **{name.lower().replace("requestclient", "request_client"): value
               for name, value in headers.items()},
        )  # fmt: skip
        assert call.body is not None
        try:
            decode_json_request(call.body, common=common)
            code = None
        except RequestError as exc:
            code = exc.code
        assert code == case.code, case.id
        checked += 1
    not_sent = NOT_EXPRESSIBLE["api3-post", False] - WITH_LIMITS
    assert checked == len(STYLE_VECTORS.validate) - len(not_sent)


def test_json_call_sends_the_body_and_its_headers() -> None:
    case = next(c for c in STYLE_VECTORS.json if c.id == "action-from-headers")
    assert json_call(case) == Call(
        "POST",
        "",
        (
            ("Content-Type", "application/json"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Action", "DescribeInstances"),
        ),
        b"{}",
    )
    hex_case = next(c for c in STYLE_VECTORS.json if c.id == "invalid-utf8")
    assert json_call(hex_case).body == hex_case.body and b"\xff" in hex_case.body
    big = next(c for c in STYLE_VECTORS.json if c.id == "body-over-default-cap")
    assert big.body is not None and len(big.body) == 65_537
    with pytest.raises(NotExpressible, match="it needs caps other than the defaults"):
        json_call(next(c for c in STYLE_VECTORS.json if c.limits))


def test_signed_calls_verify_as_sent(fake_server: Callable[[WSGIApplication], str]) -> None:
    # What the server receives verifies with the library's own verifiers: TC3 for API 3.0
    # (GET and POST), v1 for legacy (GET and POST).
    seen: list[tuple[str, str, str, list[tuple[str, str]], bytes]] = []

    def record(environ: WSGIEnvironment) -> bytes:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        headers = [
            (key[5:].replace("_", "-").lower(), value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ] + [("content-type", environ.get("CONTENT_TYPE", ""))]
        seen.append((environ["REQUEST_METHOD"], environ["HTTP_HOST"], environ["QUERY_STRING"],
                     headers, body))  # fmt: skip
        return fresh_success(environ)

    url = fake_server(canned("200 OK", JSON, record))
    host = urlsplit(url).netloc
    secrets = {SID: SKEY}.get
    for style, method in (("api3-get", None), ("api3-post", None), ("legacy", "GET"),
                          ("legacy", "POST")):  # fmt: skip
        seen.clear()
        report = run_conformance(
            url, vectors=SMALL, style=style, method=method, credentials=(SID, SKEY)  # type: ignore[arg-type]
        )
        assert len(report.results) == 3 and len(seen) == 4  # the probe, then each vector
        for verb, got_host, query, headers, body in seen:
            assert got_host == host
            if style == "legacy":
                pairs = parse_query(query if verb == "GET" else body)
                verify(verb, host, "/", pairs, secrets=secrets)
                assert dict(pairs)["SecretId"] == SID
            else:
                assert tc3_verify(verb, host, "/", query, headers, body, secrets=secrets) == SID
                assert ("x-tc-action", "DescribeImages") in headers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "api3"}, "style must be one of legacy, api3-get, api3-post, not 'api3'"),
        ({"style": "api3-get", "method": "POST"}, "style api3-get sends GET; leave method out"),
        ({"style": "api3-post", "method": "GET"}, "style api3-post sends POST; leave method"),
        ({"method": "PUT"}, "method must be GET or POST, not 'PUT'"),
        ({"credentials": ("id",)}, "credentials are a (SecretId, SecretKey) pair"),
        ({"credentials": ("id", "")}, "credentials are a (SecretId, SecretKey) pair"),
        ({"credentials": ["id", "key"]}, "credentials are a (SecretId, SecretKey) pair"),
        ({"credentials": ("id", "k\udcff")}, "credentials are a (SecretId, SecretKey) pair"),
        ({"credentials": (1, "key")}, "credentials are a (SecretId, SecretKey) pair"),
    ],
)
def test_style_method_and_credentials_refusals(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as info:
        run_conformance("http://127.0.0.1:1/", vectors=SMALL, **kwargs)
    assert str(info.value).startswith(message)


def test_the_command_runs_every_style_signed(
    live_signed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({SID: SKEY}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    argv = ["conformance", live_signed, "--style", "api3-post", "--credentials", str(keys)]
    assert main(argv, out=out, err=err) == 0 and err.getvalue() == ""
    printed = out.getvalue().splitlines()
    v = STYLE_VECTORS
    skipped = NOT_EXPRESSIBLE["api3-post", True]
    assert printed[0] == (
        f"describe-images conformance: {live_signed} by POST (api3-post), TC3-signed as {SID}: "
        f"{len(v.validate)} validate, {len(v.query)} query and {len(v.json)} json vectors"
    )
    json_skipped = sum(c.id in skipped for c in v.json)
    validate_skipped = sum(c.id in skipped for c in v.validate)
    assert printed[-2] == (
        f"sent: {len(v.validate) - validate_skipped} validate, {len(v.query)} query, "
        f"{len(v.json) - json_skipped} json; not expressible: {validate_skipped} validate, "
        f"0 query, {json_skipped} json"
    )
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", SID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", SKEY)
    out = io.StringIO()
    assert main(["conformance", live_signed, "--sign", "--method", "POST"], out=out) == 0
    assert out.getvalue().splitlines()[0].startswith(
        f"describe-images conformance: {live_signed} by POST, v1-signed as {SID}: "
    )


@pytest.mark.parametrize(
    ("argv", "keys", "message"),
    [
        (("--style", "api3-get", "--method", "GET"), None,
         "--method is for legacy calls; --style api3-get sets it"),
        (("--credentials", "KEYS"), {"a": "b", "c": "d"}, "credentials 'KEYS' hold 2 keys; "),
        (("--credentials", "KEYS"), {}, "credentials 'KEYS' hold 0 keys; "),
        (("--credentials", "KEYS"), {"": "b"}, "credentials 'KEYS': an empty SecretId or "),
        (("--credentials", "KEYS", "--sign"), None, "argument --sign: not allowed with argument"),
        (("--style", "api3"), None, "argument --style: invalid choice: 'api3'"),
    ],
)  # fmt: skip
def test_the_command_refuses(
    tmp_path: Path, argv: tuple[str, ...], keys: dict[str, str] | None, message: str
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({SID: SKEY} if keys is None else keys), encoding="utf-8")
    argv = tuple(str(path) if word == "KEYS" else word for word in argv)
    out, err = io.StringIO(), io.StringIO()
    assert main(["conformance", "http://127.0.0.1:1/", *argv], out=out, err=err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith(
        "describe-images conformance: error: " + message.replace("KEYS", str(path))
    )
