"""spec/vectors/server.json run in process: each case's request becomes a WSGI environ
for ``make_app()`` (the embedded catalog, which is the file's catalog; no signatures), and
its answer must be the case's response (spec/README.md, "Vector files", §3.4)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from describe_images import RequestError, default_catalog, parse_catalog, server
from describe_images.server import make_app

from . import vectorfiles

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

VECTORS: dict[str, Any] = vectorfiles.load("server.json")
CASES: list[dict[str, Any]] = VECTORS["cases"]
JSON_TYPE = "application/json"


def _latin1(text: str) -> str:
    # PEP 3333: a CGI value is the latin-1 string of the bytes sent (here: UTF-8).
    return text.encode("utf-8").decode("latin-1")


def environ_of(request: Mapping[str, Any]) -> dict[str, Any]:
    """The environ a WSGI server builds for the case's request (spec/README.md, "Vector
    files", server.json): a Content-Length for a POST or any body, Host 127.0.0.1."""
    body = str(request["body"]).encode("utf-8")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": _latin1(request["path"]),
        "QUERY_STRING": _latin1(request["query"]),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body or request["method"] == "POST":
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in request["headers"]:
        key = name.upper().replace("-", "_")
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        environ[key] = _latin1(value)
    return environ


Found = list[dict[str, str]]


def answer_of(
    app: WSGIApplication, request: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """What the app answers ``request``, in the shape of a case's ``response``: an error
    envelope's violations are read from the RequestError the app answered with (the
    envelope itself shows only the first one's code)."""
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    refused: list[Found] = []
    answer = server._refused

    def spy(error: RequestError, request_id: str) -> Any:
        found = [{"code": v.code, "reason": v.reason, "path": v.path} for v in error.violations]
        refused.append(found)
        return answer(error, request_id)

    monkeypatch.setattr(server, "_refused", spy)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))
        return lambda data: None

    body = b"".join(app(environ_of(request), start_response))
    [(status, headers)] = seen
    fields = {name.lower(): value for name, value in headers}
    response: dict[str, Any] = {
        "status": int(status.split()[0]),
        "content_type": fields["content-type"],
    }
    if "allow" in fields:
        response["headers"] = [["Allow", fields["allow"]]]
    if response["status"] == 200:
        assert fields["content-type"] == JSON_TYPE
        envelope = json.loads(body)["Response"]
        if "Error" in envelope:
            [errors] = refused
            assert envelope["Error"]["Code"] == errors[0]["code"]
            response["errors"] = errors
        else:
            response["total_count"] = envelope["TotalCount"]
            response["image_ids"] = [image["ImageId"] for image in envelope["ImageSet"]]
    return response


@pytest.fixture(scope="module")
def app() -> WSGIApplication:
    return make_app()


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_server_vector(
    app: WSGIApplication, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert answer_of(app, case["request"], monkeypatch) == case["response"]


def test_the_file_catalog_is_the_embedded_catalog() -> None:
    assert parse_catalog(VECTORS, source="server.json") == default_catalog()


def test_server_vectors_cover_the_server() -> None:
    # spec/README.md §3.4: each status the app answers, and each API 3.0 header check.
    statuses = {case["response"]["status"] for case in CASES}
    assert statuses == {200, 404, 405, 415}
    codes = {e["code"] for case in CASES for e in case["response"].get("errors", [])}
    assert codes >= {"NoSuchVersion", "InvalidAction", "MissingParameter", "UnknownParameter"}
    successes = [case for case in CASES if "total_count" in case["response"]]
    api3 = [case for case in successes if case["request"]["headers"] and any(
        name == "X-TC-Action" for name, _ in case["request"]["headers"])]
    assert {case["request"]["method"] for case in api3} == {"GET", "POST"}
    legacy = [case for case in successes if case not in api3]
    assert {case["request"]["method"] for case in legacy} == {"GET", "POST"}


def test_environ_of_a_case() -> None:
    request = {
        "method": "POST",
        "path": "/",
        "headers": [["Content-Type", "application/json"], ["X-TC-Action", "DescribeImages"]],
        "query": "a=é",
        "body": '{"Limit": 1}',
    }
    environ = environ_of(request)
    assert (environ["CONTENT_TYPE"], environ["HTTP_X_TC_ACTION"]) == (
        "application/json",
        "DescribeImages",
    )
    assert (environ["CONTENT_LENGTH"], environ["QUERY_STRING"]) == ("12", "a=\xc3\xa9")
    assert environ["wsgi.input"].read() == b'{"Limit": 1}'
    assert "CONTENT_LENGTH" not in environ_of({**request, "method": "GET", "body": ""})
