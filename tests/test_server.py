"""The reference server (describe_images.server) in-process and over a real socket (the
conformance runner against it: tests/test_conformance.py)."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer
from wsgiref.util import setup_testing_defaults

import pytest

from describe_images import AuthError, Violation, decode_request
from describe_images._catalog import default_catalog
from describe_images._errors import ErrorCode, RequestError
from describe_images._query import run
from describe_images._response import Image
from describe_images.server import (
    DEFAULT_MAX_BODY_BYTES,
    INTERNAL_ERROR_MESSAGE,
    OUTCOME_KEY,
    _server_class,
    make_app,
    serve,
)
from tests.seed import SEED_1_IMAGE

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

ROOT = Path(__file__).resolve().parent.parent
SEED_1 = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
SEED_2 = (
    "Action=DescribeImages&Version=2017-03-12"
    "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
)
FORM = "application/x-www-form-urlencoded"
UUID4_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


def assert_seed_1_answer(body: bytes) -> None:
    """The seed's example response, exactly, apart from the RequestId (a fresh UUID4)."""
    data = json.loads(body)
    request_id = data["Response"].pop("RequestId")
    assert UUID4_RE.match(request_id)
    assert data == {"Response": {"ImageSet": [SEED_1_IMAGE], "TotalCount": 1}}


# --- In-process: a fake environ ---------------------------------------------------------


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    environ: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        assert self.headers[0] == ("Content-Type", "application/json")
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def code(self) -> str | None:
        error = self.json()["Response"].get("Error")
        return None if error is None else str(error["Code"])


class Unreadable(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body must not be read")


def call(
    app: WSGIApplication,
    *,
    method: str = "GET",
    path: str = "/v2/index.php",
    query: str = "",
    body: bytes | None = None,
    content_type: str | None = None,
    extra: dict[str, Any] | None = None,
    **environ: str,
) -> Answer:
    env: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    if body is not None:
        env["CONTENT_LENGTH"] = str(len(body))
        env["wsgi.input"] = io.BytesIO(body)
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    env.update(environ)
    env.update(extra or {})
    setup_testing_defaults(env)
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))
        return lambda data: None

    chunks = app(env, start_response)
    assert len(seen) == 1
    status, headers = seen[0]
    out = b"".join(chunks)
    assert headers[-1] == ("Content-Length", str(len(out)))
    return Answer(status, headers, out, env)


@pytest.fixture(scope="module")
def app() -> WSGIApplication:
    return make_app()


def test_seed_example_1_in_process(app: WSGIApplication) -> None:
    answer = call(app, query=SEED_1)
    assert answer.status == "200 OK"
    assert answer.headers == [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(answer.body))),
    ]
    assert_seed_1_answer(answer.body)
    assert answer.environ[OUTCOME_KEY] == "OK 1/1"


def test_seed_example_2_in_process(app: WSGIApplication) -> None:
    answer = call(app, query=SEED_2)
    expected = run(decode_request(SEED_2), default_catalog(), request_id="x").to_dict()
    got = answer.json()
    got["Response"]["RequestId"] = "x"
    assert got == expected
    assert {i["ImageType"] for i in got["Response"]["ImageSet"]} == {"PRIVATE_IMAGE"}


def test_every_answer_has_a_fresh_uuid4(app: WSGIApplication) -> None:
    ids = [call(app, query=q).json()["Response"]["RequestId"] for q in (SEED_1, SEED_1, "x=1")]
    assert all(UUID4_RE.match(i) for i in ids)
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    "query",
    [
        "",
        "Action=DescribeImages",
        "Action=DescribeImages&Version=2017-03-12&Limit=101",
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-size&Filters.0.Values.0=1",
        "Action=DescribeImages&Version=2017-03-12&ImageIds.0=IMG-1&Filters.0.Name=image-id",
        "Action=DescribeImages&Version=2017-03-12&Limit=%zz",
        "Action=DescribeImages&Version=2017-03-12&ImageIds.1=img-pmqg1cw7&ImageIds.3=img-pmqg1cw7",
    ],
    ids=["empty", "no-version", "limit", "filter-name", "coexist", "bad-percent", "index-gap"],
)
def test_error_envelope_matches_decode_request(app: WSGIApplication, query: str) -> None:
    with pytest.raises(RequestError) as info:
        decode_request(query)
    answer = call(app, query=query)
    assert answer.status == "200 OK"
    request_id = answer.json()["Response"]["RequestId"]
    assert answer.json() == info.value.to_response(request_id)
    assert answer.environ[OUTCOME_KEY] == info.value.code


def test_query_string_bytes_are_latin1_in_the_environ(app: WSGIApplication) -> None:
    # PEP 3333: a raw UTF-8 byte string arrives as latin-1 characters.
    raw = (
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-name&Filters.0.Values.0=数据"
    )
    answer = call(app, query=raw.encode("utf-8").decode("latin-1"))
    assert answer.json()["Response"]["TotalCount"] == 0
    # Bytes that are not UTF-8: the codec's InvalidParameter.
    assert call(app, query="Action=\xff").code == "InvalidParameter"
    # A server that breaks PEP 3333 and passes real Unicode is read as UTF-8.
    assert call(app, query=raw).json()["Response"]["TotalCount"] == 0


def test_post_form_body(app: WSGIApplication) -> None:
    answer = call(app, method="POST", body=SEED_1.encode(), content_type=FORM)
    assert_seed_1_answer(answer.body)


@pytest.mark.parametrize(
    "content_type",
    [
        FORM,
        f"{FORM}; charset=utf-8",
        f"{FORM};charset=UTF-8",
        f'{FORM}; charset="utf8"',
        "Application/X-WWW-Form-Urlencoded",
    ],
)
def test_post_content_types_accepted(app: WSGIApplication, content_type: str) -> None:
    assert_seed_1_answer(
        call(app, method="POST", body=SEED_1.encode(), content_type=content_type).body
    )


def test_post_ignores_the_query_string(app: WSGIApplication) -> None:
    body = b"Action=DescribeImages&Version=2017-03-12&Limit=1"
    answer = call(app, method="POST", query="Limit=5&Offset=3", body=body, content_type=FORM)
    assert len(answer.json()["Response"]["ImageSet"]) == 1
    only_query = call(app, method="POST", query=SEED_1, body=b"", content_type=FORM)
    assert only_query.code == "MissingParameter"


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "application/json",
        "multipart/form-data; boundary=x",
        f"{FORM}; charset=iso-8859-1",
    ],
    ids=["none", "text", "json", "multipart", "latin-1"],
)
def test_post_other_content_types_get_415(app: WSGIApplication, content_type: str) -> None:
    answer = call(app, method="POST", body=SEED_1.encode(), content_type=content_type)
    assert answer.status == "415 Unsupported Media Type"
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"
    shown = content_type or "none"
    assert answer.body.decode() == (
        f"415 Unsupported Media Type: a POST body must be {FORM} (UTF-8), not {shown}\n"
    )


@pytest.mark.parametrize("path", ["/", "", "/v2/index.php"])
def test_api_paths(app: WSGIApplication, path: str) -> None:
    assert_seed_1_answer(call(app, path=path, query=SEED_1).body)


@pytest.mark.parametrize(
    "path", ["/v2/index.php/", "/v2", "/index.php", "/v2/INDEX.PHP", "/favicon.ico"]
)
def test_other_paths_get_404(app: WSGIApplication, path: str) -> None:
    answer = call(app, path=path, query=SEED_1)
    assert answer.status == "404 Not Found"
    assert (
        answer.body.decode() == f"404 Not Found: no API at {path!r}; send calls to /v2/index.php\n"
    )
    assert answer.environ[OUTCOME_KEY] == "-"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "get"])
def test_other_methods_get_405(app: WSGIApplication, method: str) -> None:
    answer = call(app, method=method, query=SEED_1)
    assert answer.status == "405 Method Not Allowed"
    assert answer.header("Allow") == "GET, POST"
    assert (
        answer.body.decode()
        == f"405 Method Not Allowed: {method} is not allowed; use GET or POST\n"
    )


def test_a_path_404_wins_over_a_method_405(app: WSGIApplication) -> None:
    assert call(app, method="PUT", path="/x").status == "404 Not Found"


def test_body_over_the_cap_gets_413_unread() -> None:
    small = make_app(max_body_bytes=10)
    for length in ("11", "1" + "0" * 30):
        answer = call(
            small,
            method="POST",
            content_type=FORM,
            CONTENT_LENGTH=length,
            extra={"wsgi.input": Unreadable()},
        )
        assert answer.status == "413 Content Too Large"
        assert answer.body.decode() == (
            f"413 Content Too Large: the body is {length} bytes; at most 10 are allowed\n"
        )
    at_cap = call(small, method="POST", content_type=FORM, body=b"Limit=1&a=")
    assert at_cap.code == "MissingParameter"


def test_default_body_cap_is_above_the_codec_cap(app: WSGIApplication) -> None:
    # A body over the codec's 64 KiB but under the body cap gets the API's own answer.
    body = b"Action=DescribeImages&Version=2017-03-12&x=" + b"y" * 70_000
    assert len(body) < DEFAULT_MAX_BODY_BYTES
    assert call(app, method="POST", content_type=FORM, body=body).code == "InvalidParameter"


def test_post_without_content_length() -> None:
    app = make_app(max_body_bytes=100)
    answer = call(
        app, method="POST", content_type=FORM, extra={"wsgi.input": io.BytesIO(SEED_1.encode())}
    )
    assert answer.status == "411 Length Required"
    # A server that de-chunks and terminates the stream may send a body of unknown length.
    terminated = {"wsgi.input": io.BytesIO(SEED_1.encode()), "wsgi.input_terminated": True}
    assert_seed_1_answer(call(app, method="POST", content_type=FORM, extra=terminated).body)
    big = {"wsgi.input": io.BytesIO(b"x" * 101), "wsgi.input_terminated": True}
    answer = call(app, method="POST", content_type=FORM, extra=big)
    assert answer.status == "413 Content Too Large"
    assert answer.body == b"413 Content Too Large: the body is over 100 bytes\n"


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("abc", "Content-Length 'abc' is not a number"),
        ("-1", "Content-Length '-1' is not a number"),
        ("\u0661", "Content-Length '\u0661' is not a number"),
        ("40", "the body ended after 10 of 40 bytes"),
    ],
    ids=["letters", "negative", "arabic-digit", "short-body"],
)
def test_bad_content_length_gets_400(app: WSGIApplication, length: str, message: str) -> None:
    env = {"wsgi.input": io.BytesIO(b"Limit=1&a="), "CONTENT_LENGTH": length}
    answer = call(app, method="POST", content_type=FORM, extra=env)
    assert answer.status == "400 Bad Request"
    assert answer.body.decode() == f"400 Bad Request: {message}\n"


class Trickle(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(size or 1, 3))


def test_body_read_in_pieces(app: WSGIApplication) -> None:
    env = {"wsgi.input": Trickle(SEED_1.encode()), "CONTENT_LENGTH": str(len(SEED_1))}
    assert_seed_1_answer(call(app, method="POST", content_type=FORM, extra=env).body)


def test_make_app_refuses_a_bad_cap() -> None:
    for cap in (-1, 1.5, True):
        with pytest.raises(ValueError, match="max_body_bytes must be an int >= 0"):
            make_app(max_body_bytes=cap)  # type: ignore[arg-type]  # wrong types on purpose


def test_make_app_with_own_images() -> None:
    mine = Image("img-00000001", "os", "PRIVATE_IMAGE", "t", "NORMAL", "mine", "d", "100")
    app = make_app([mine])
    data = call(app, query="Action=DescribeImages&Version=2017-03-12").json()
    assert data["Response"]["ImageSet"] == [mine.to_dict()]
    assert data["Response"]["TotalCount"] == 1


# --- The verify hook --------------------------------------------------------------------


class Recorder:
    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[tuple[str, str, str, list[tuple[str, str]]]] = []
        self.refuse = refuse

    def __call__(self, method: str, host: str, path: str, pairs: list[tuple[str, str]]) -> None:
        self.calls.append((method, host, path, pairs))
        if self.refuse:
            raise AuthError(
                [
                    Violation(
                        ErrorCode.SIGNATURE_FAILURE, "bad-signature", "Signature", "bad signature"
                    )
                ]
            )


def test_verify_sees_method_host_path_and_pairs() -> None:
    verify = Recorder()
    app = make_app(verify=verify)
    assert_seed_1_answer(call(app, query=SEED_1, HTTP_HOST="image.api.qcloud.com").body)
    call(
        app,
        method="POST",
        path="/",
        body=b"Action=x",
        content_type=FORM,
        HTTP_HOST="h:8000",
        SCRIPT_NAME="/api",
    )
    assert verify.calls == [
        ("GET", "image.api.qcloud.com", "/v2/index.php", decode_pairs(SEED_1)),
        ("POST", "h:8000", "/api/", [("Action", "x")]),
    ]


def decode_pairs(query: str) -> list[tuple[str, str]]:
    return [tuple(p.split("=", 1)) for p in query.split("&")]  # type: ignore[misc]  # two parts each


@pytest.mark.parametrize(
    ("environ", "host"),
    [
        ({"SERVER_NAME": "example.com", "SERVER_PORT": "80"}, "example.com"),
        ({"SERVER_NAME": "example.com", "SERVER_PORT": "8000"}, "example.com:8000"),
        (
            {"SERVER_NAME": "example.com", "SERVER_PORT": "443", "wsgi.url_scheme": "https"},
            "example.com",
        ),
        (
            {"SERVER_NAME": "example.com", "SERVER_PORT": "80", "wsgi.url_scheme": "https"},
            "example.com:80",
        ),
    ],
    ids=["http-80", "http-8000", "https-443", "https-80"],
)
def test_verify_host_without_a_host_header(environ: dict[str, str], host: str) -> None:
    verify = Recorder()
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": SEED_1,
        **environ,
    }
    setup_testing_defaults(env)
    env.pop("HTTP_HOST", None)
    make_app(verify=verify)(env, lambda status, headers, exc_info=None: lambda data: None)
    assert verify.calls[0][1] == host


def test_verify_refusal_is_an_envelope_and_comes_before_decoding() -> None:
    app = make_app(verify=Recorder(refuse=True))
    for query in (SEED_1, "Limit=abc"):
        answer = call(app, query=query)
        assert answer.status == "200 OK"
        assert answer.json()["Response"]["Error"] == {
            "Code": "AuthFailure.SignatureFailure",
            "Message": "bad signature",
        }


def test_verify_not_called_when_the_query_is_not_parseable() -> None:
    verify = Recorder()
    assert call(make_app(verify=verify), query="Limit=%zz").code == "InvalidParameter"
    assert verify.calls == []


# --- Never a traceback ------------------------------------------------------------------


def test_unexpected_exception_is_an_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    def broken(method: str, host: str, path: str, pairs: list[tuple[str, str]]) -> None:
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR, logger="describe_images.server"):
        answer = call(make_app(verify=broken), query=SEED_1)
    assert answer.status == "200 OK"
    data = answer.json()
    request_id = data["Response"]["RequestId"]
    assert UUID4_RE.match(request_id)
    assert data == {
        "Response": {
            "Error": {"Code": "InternalError", "Message": INTERNAL_ERROR_MESSAGE},
            "RequestId": request_id,
        }
    }
    assert b"secret" not in answer.body
    assert b"Traceback" not in answer.body
    assert answer.environ[OUTCOME_KEY] == "InternalError"
    assert [r.getMessage() for r in caplog.records] == [
        f"internal error answering RequestId {request_id}"
    ]
    assert caplog.records[0].exc_info is not None


def test_a_broken_catalog_entry_is_an_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app([object()])  # type: ignore[list-item]  # not an Image, on purpose
    with caplog.at_level(logging.CRITICAL, logger="describe_images.server"):
        assert call(app, query="Action=DescribeImages&Version=2017-03-12").code == "InternalError"


# --- Over a real socket -----------------------------------------------------------------


@dataclass
class Live:
    server: WSGIServer
    thread: threading.Thread
    log: io.StringIO

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2/index.php"

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, target, body=body, headers=headers or {})
            reply = connection.getresponse()
            return reply.status, reply.headers, reply.read()
        finally:
            connection.close()


def start(images: Iterable[Image] | None = None, **kwargs: Any) -> Live:
    ready = threading.Event()
    box: list[WSGIServer] = []
    log = io.StringIO()

    def on_ready(server: WSGIServer) -> None:
        box.append(server)
        ready.set()

    thread = threading.Thread(
        target=serve,
        kwargs={
            "host": "127.0.0.1",
            "port": 0,
            "images": images,
            "log": log,
            "ready": on_ready,
            **kwargs,
        },
        daemon=True,
    )
    thread.start()
    assert ready.wait(10), "the server did not start"
    return Live(box[0], thread, log)


def stop(live: Live) -> None:
    live.server.shutdown()
    live.thread.join(10)
    assert not live.thread.is_alive()


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    server = start()
    yield server
    stop(server)
    assert server.log.getvalue().splitlines()[-1] == "describe-images: stopped"


def test_socket_seed_example_1(live: Live) -> None:
    status, headers, body = live.request("GET", f"/v2/index.php?{SEED_1}")
    assert status == 200
    assert headers.get_all("Content-Type") == ["application/json"]
    assert headers["Content-Length"] == str(len(body))
    assert_seed_1_answer(body)


def test_socket_seed_example_1_full_url_path(live: Live) -> None:
    status, _, body = live.request("GET", f"/?{SEED_1}")
    assert status == 200
    assert_seed_1_answer(body)


def test_socket_post(live: Live) -> None:
    status, headers, body = live.request(
        "POST", "/v2/index.php?Limit=3", SEED_1.encode(), {"Content-Type": FORM}
    )
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert_seed_1_answer(body)


def test_socket_error_envelope(live: Live) -> None:
    status, headers, body = live.request(
        "GET", "/v2/index.php?Action=DescribeImages&Version=2017-03-12&Limit=0"
    )
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body)["Response"]["Error"]["Code"] == ErrorCode.INVALID_LIMIT.value


@pytest.mark.parametrize(
    ("method", "target", "body", "headers", "status"),
    [
        ("GET", "/nope", None, {}, 404),
        ("PUT", "/v2/index.php", b"", {}, 405),
        ("DELETE", "/", None, {}, 405),
        ("POST", "/v2/index.php", SEED_1.encode(), {"Content-Type": "application/json"}, 415),
        ("POST", "/v2/index.php", SEED_1.encode(), {}, 415),
        (
            "POST",
            "/v2/index.php",
            b"x",
            {"Content-Type": FORM, "Content-Length": str(2 << 20)},
            413,
        ),
    ],
    ids=["404", "405-put", "405-delete", "415-json", "415-none", "413"],
)
def test_socket_http_statuses(
    live: Live, method: str, target: str, body: bytes | None, headers: dict[str, str], status: int
) -> None:
    got, reply_headers, reply = live.request(method, target, body, headers)
    assert got == status
    assert reply_headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.startswith(f"{status} ".encode())
    assert b"Traceback" not in reply


def test_socket_request_line_too_long(live: Live) -> None:
    # wsgiref itself refuses a request line over 64 KiB, before the app sees it.
    status, _, _ = live.request("GET", "/v2/index.php?x=" + "y" * 70_000)
    assert status == 414


def test_socket_log_lines(live: Live) -> None:
    live.request("GET", f"/v2/index.php?{SEED_1}")
    live.request("GET", "/v2/index.php?Action=DescribeImages&Version=2017-03-12&Limit=0")
    live.request("GET", "/nope")
    lines = live.log.getvalue().splitlines()
    assert lines[0].startswith(
        f"describe-images: serving DescribeImages 2017-03-12 on http://127.0.0.1:{live.port}"
        f"/v2/index.php from the embedded catalog ({len(default_catalog())} images)"
    )
    assert (
        lines[1] == "describe-images: WARNING: signatures are NOT verified; any caller is answered"
    )
    assert lines[2] == "describe-images: press Ctrl-C to stop"
    line = r"127\.0\.0\.1 GET {} {} {} \d+\.\dms"
    assert re.fullmatch(line.format("/v2/index.php", 200, "OK 1/1"), lines[-3])
    assert re.fullmatch(
        line.format("/v2/index.php", 200, re.escape(ErrorCode.INVALID_LIMIT.value)), lines[-2]
    )
    assert re.fullmatch(line.format("/nope", 404, "-"), lines[-1])


def test_socket_log_never_shows_the_query(live: Live) -> None:
    live.request("GET", "/v2/index.php?Action=DescribeImages&Token=secret-token")
    assert "secret-token" not in live.log.getvalue()


def test_socket_wsgiref_errors_are_logged(live: Live) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as raw:
        raw.sendall(b"NOT HTTP\r\n\r\n")
        assert b"Error code: 400" in raw.makefile("rb").read()
    assert "127.0.0.1 code 400, message Bad HTTP/0.9 request type ('NOT')\n" in live.log.getvalue()


def test_serve_with_verify_logs_no_warning() -> None:
    server = start(verify=Recorder())
    stop(server)
    assert "WARNING" not in server.log.getvalue()


def test_serve_stops_on_keyboard_interrupt() -> None:
    log = io.StringIO()

    def interrupt(server: WSGIServer) -> None:
        raise KeyboardInterrupt

    assert serve("127.0.0.1", 0, log=log, ready=interrupt) == 0
    assert log.getvalue().splitlines()[-1] == "describe-images: stopped"


def test_serve_stops_on_ctrl_c_while_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: WSGIServer, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(WSGIServer, "serve_forever", interrupted)
    log = io.StringIO()
    assert serve("127.0.0.1", 0, log=log) == 0
    assert log.getvalue().splitlines()[-2:] == [
        "describe-images: press Ctrl-C to stop",
        "describe-images: stopped",
    ]


def test_ipv6_hosts_get_an_ipv6_server() -> None:
    assert _server_class("::1", io.StringIO()).address_family == socket.AF_INET6
    assert _server_class("127.0.0.1", io.StringIO()).address_family == socket.AF_INET


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")
def test_ctrl_c_stops_a_real_process_cleanly() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "describe_images", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as child:
        assert child.stderr is not None
        lines = [child.stderr.readline() for _ in range(3)]
        assert lines[2] == "describe-images: press Ctrl-C to stop\n"
        child.send_signal(signal.SIGINT)
        rest = child.stderr.read()
        assert child.wait(10) == 0
    assert rest == "describe-images: stopped\n"
