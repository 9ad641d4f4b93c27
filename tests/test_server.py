"""The reference server (describe_images.server) in-process and over a real socket (the
conformance runner against it: tests/test_conformance.py)."""

from __future__ import annotations

import http.client
import inspect
import io
import itertools
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer
from wsgiref.util import setup_testing_defaults

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import (
    AuthError,
    DescribeImagesRequest,
    Filter,
    Violation,
    decode_request,
    make_tc3_verifier,
    make_verifier,
    sign,
    tc3_sign,
)
from describe_images import _http as http_module
from describe_images import server as server_module
from describe_images._catalog import default_catalog
from describe_images._conformance import (
    QueryVector,
    ValidateVector,
    load_vectors,
    query_part,
)
from describe_images._errors import ErrorCode, RequestError, UsageError, envelope
from describe_images._grammar import WireLimits
from describe_images._http import _logged, _Server
from describe_images._pairs import format_query, parse_query
from describe_images._query import answer_request
from describe_images._response import Image
from describe_images._signing import Verifier
from describe_images.server import (
    DEFAULT_MAX_BODY_BYTES,
    ECHO_MAX,
    INTERNAL_ERROR_MESSAGE,
    OUTCOME_KEY,
    _request_id,
    make_app,
    serve,
)
from tests.seed import SEED_1_IMAGE, SEED_1_IMAGE_API3
from tests.strategies import edge_pairs, schema_pairs, wireish_bytes, wireish_queries

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ROOT = Path(__file__).resolve().parent.parent
SEED_1 = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
SEED_2 = (
    "Action=DescribeImages&Version=2017-03-12"
    "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
)
FORM = "application/x-www-form-urlencoded"
UUID4_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


def assert_seed_1_answer(body: bytes, names: str = "legacy") -> None:
    """The seed's example response, exactly, apart from the RequestId (a fresh UUID4):
    its Image in the legacy names, or API 3.0's (spec/README.md §3.1), member order too."""
    data = json.loads(body)
    request_id = data["Response"].pop("RequestId")
    assert UUID4_RE.match(request_id)
    image = {"legacy": SEED_1_IMAGE, "api3": SEED_1_IMAGE_API3}[names]
    assert data == {"Response": {"ImageSet": [image], "TotalCount": 1}}
    assert list(data["Response"]["ImageSet"][0]) == list(image)


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
    expected = answer_request(decode_request(SEED_2), default_catalog(), request_id="x").to_dict()
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
    # ... and a lone surrogate in it is text that is not UTF-8: the codec's answer.
    assert call(app, query="Action=\udc80").code == "InvalidParameter"


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


@pytest.mark.parametrize(
    ("path", "names"), [("/", "api3"), ("", "api3"), ("/v2/index.php", "legacy")]
)
def test_api_paths(app: WSGIApplication, path: str, names: str) -> None:
    # A legacy call at API 3.0's path "/" is API 3.0's signature-v1 call: API 3.0 names.
    assert_seed_1_answer(call(app, path=path, query=SEED_1).body, names)


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
        # Echoed ASCII-escaped, as ascii() shows it (the digit itself until issue 8).
        ("\u0661", "Content-Length '\\u0661' is not a number"),
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
    # 0 is a cap: only empty bodies.
    empty = make_app(max_body_bytes=0)
    assert call(empty, method="POST", content_type=FORM, body=b"").code == "MissingParameter"
    assert call(empty, method="POST", content_type=FORM, body=b"a").status.startswith("413")


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
        ({"SERVER_NAME": "example.com", "SERVER_PORT": ""}, "example.com"),
        (
            {"SERVER_NAME": "example.com", "SERVER_PORT": "443", "wsgi.url_scheme": "https"},
            "example.com",
        ),
        (
            {"SERVER_NAME": "example.com", "SERVER_PORT": "80", "wsgi.url_scheme": "https"},
            "example.com:80",
        ),
    ],
    ids=["http-80", "http-8000", "no-port", "https-443", "https-80"],
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


# --- One decode per request (issue 8) -----------------------------------------------------


def accept(method: str, host: str, path: str, pairs: list[tuple[str, str]]) -> None:
    """A verifier that lets every call through: the signed pipeline, minus signatures."""


@pytest.fixture(scope="module")
def accepting_app() -> WSGIApplication:
    return make_app(verify=accept)


def before_issue_8(raw: bytes, catalog: Sequence[Image], request_id: str) -> bytes:
    """The body the server answered before issue 8: parse_query, then decode_request on the
    pairs (which checked every pair again), then answer_request."""
    try:
        request = decode_request(parse_query(raw))
        return answer_request(request, catalog, request_id=request_id).to_json().encode("ascii")
    except RequestError as exc:
        return json.dumps(exc.to_response(request_id), separators=(",", ":")).encode("ascii")


def four_ways(raw: bytes, plain: WSGIApplication, signed: WSGIApplication) -> list[Answer]:
    """GET and POST of ``raw``, to an app without a verifier and to one with."""
    return [
        answer
        for app in (plain, signed)
        for answer in (
            call(app, query=raw.decode("latin-1")),
            call(app, method="POST", body=raw, content_type=FORM),
        )
    ]


def assert_as_before(answers: list[Answer], raw: bytes, catalog: Sequence[Image]) -> None:
    for answer in answers:
        assert answer.status == "200 OK"
        request_id = answer.json()["Response"]["RequestId"]
        assert answer.body == before_issue_8(raw, catalog, request_id)


# Queries a decode_request of the bytes would read as URLs: the server reads them as
# queries (a query string is never a URL), as it always did.
URLISH = ("/", "/v2/index.php?", "http://h/?", "HTTPS://h/v2/index.php?", "/?a=1#")
VALID_HEAD = [("Action", "DescribeImages"), ("Version", "2017-03-12")]
RAW_QUERIES = st.one_of(
    wireish_bytes(),
    schema_pairs().map(format_query).map(str.encode),
    schema_pairs().map(lambda pairs: format_query(VALID_HEAD + pairs).encode()),
    edge_pairs().map(lambda pairs: format_query(pairs).encode()),
    st.tuples(st.sampled_from(URLISH), schema_pairs()).map(
        lambda t: (t[0] + format_query(VALID_HEAD + t[1])).encode()
    ),
)


@given(raw=RAW_QUERIES)
def test_answers_are_as_before_issue_8(
    app: WSGIApplication, accepting_app: WSGIApplication, raw: bytes
) -> None:
    assert_as_before(four_ways(raw, app, accepting_app), raw, default_catalog())


def test_url_like_query_strings_are_read_as_queries(app: WSGIApplication) -> None:
    for prefix in URLISH:
        raw = f"{prefix}{SEED_1}".encode()
        assert_as_before([call(app, query=raw.decode())], raw, default_catalog())
    assert call(app, query=f"/?{SEED_1}").code == "InvalidParameter"


VECTORS = load_vectors()


@pytest.mark.parametrize("vector", VECTORS.validate, ids=[v.id for v in VECTORS.validate])
def test_validate_vectors_get_post_plain_and_verified(
    app: WSGIApplication, accepting_app: WSGIApplication, vector: ValidateVector
) -> None:
    raw = query_part(vector.query).encode("utf-8", "surrogatepass")
    answers = four_ways(raw, app, accepting_app)
    assert [a.code for a in answers] == [vector.code] * 4
    assert_as_before(answers, raw, default_catalog())


@pytest.fixture(scope="module")
def vector_apps() -> tuple[WSGIApplication, WSGIApplication]:
    return make_app(VECTORS.catalog), make_app(VECTORS.catalog, verify=accept)


@pytest.mark.parametrize("vector", VECTORS.query, ids=[v.id for v in VECTORS.query])
def test_query_vectors_get_post_plain_and_verified(
    vector_apps: tuple[WSGIApplication, WSGIApplication], vector: QueryVector
) -> None:
    raw = query_part(vector.query).encode("utf-8", "surrogatepass")
    answers = four_ways(raw, *vector_apps)
    for answer in answers:
        response = answer.json()["Response"]
        assert response["TotalCount"] == vector.total_count
        assert tuple(i["ImageId"] for i in response["ImageSet"]) == vector.image_ids
    assert_as_before(answers, raw, VECTORS.catalog)


SECRET_ID, SECRET_KEY = "AKIDserver", "server-test-key"
NONCES = itertools.count(1)


def signed_raw(query: str, method: str) -> bytes:
    """``query`` with the signing parameters and its v1 signature, whatever it asks for."""
    pairs = [
        *parse_query(query),
        ("Timestamp", str(int(time.time()))),
        ("Nonce", str(next(NONCES))),
        ("SecretId", SECRET_ID),
        ("SignatureMethod", "HmacSHA256"),
    ]
    signature = sign(method, "h", "/v2/index.php", pairs, SECRET_KEY, "HmacSHA256")
    return format_query([*pairs, ("Signature", signature)]).encode()


@pytest.mark.parametrize(
    "query",
    [
        SEED_1,
        SEED_2,
        "Action=DescribeImages&Version=2017-03-12&Limit=0",
        "Action=DescribeImages&Version=2017-03-12&Limit=abc&Offset=-1",
        "Action=DescribeImages&Version=2017-03-12&Color=red",
        "Version=2017-03-12&ImageIds.1=img-pmqg1cw7&ImageIds.3=x",
    ],
    ids=["seed-1", "seed-2", "limit", "not-integers", "unknown", "gap"],
)
def test_signed_calls_answer_as_before(query: str) -> None:
    app = make_app(verify=make_verifier({SECRET_ID: SECRET_KEY}))
    get = signed_raw(query, "GET")
    post = signed_raw(query, "POST")
    answers = [
        call(app, query=get.decode(), HTTP_HOST="h"),
        call(app, method="POST", body=post, content_type=FORM, HTTP_HOST="h"),
    ]
    for answer, raw in zip(answers, (get, post), strict=True):
        assert_as_before([answer], raw, default_catalog())
    # The same signed call again is a replay: verify ran on the pairs.
    assert call(app, query=get.decode(), HTTP_HOST="h").code == "InvalidRequest.ReplayAttack"
    assert call(app, query=query, HTTP_HOST="h").code == "MissingParameter"  # no Timestamp


def test_each_request_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    counts: Counter[str] = Counter()

    def counting(name: str) -> None:
        real = getattr(server_module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(server_module, name, counted)

    for name in ("parse_query", "decode_request", "decode_pairs"):
        counting(name)
    plain, verified = make_app(), make_app(verify=accept)
    for app, query, expected in [
        # Unsigned: the bytes go to decode_request (and its fast path when plain).
        (plain, SEED_2, {"decode_request": 1}),
        (plain, "Limit=%zz", {"decode_request": 1}),
        # Verified: parsed once for the verifier; decode_pairs does not check them again.
        (verified, SEED_2, {"parse_query": 1, "decode_pairs": 1}),
        # A query string that looks like a URL is read as a query, through the pairs.
        (plain, f"/?{SEED_1}", {"parse_query": 1, "decode_pairs": 1}),
    ]:
        counts.clear()
        call(app, query=query)
        assert counts == expected, query
        counts.clear()
        call(app, method="POST", body=query.encode(), content_type=FORM)
        assert counts == expected, query


def test_verifier_is_the_signing_modules() -> None:
    assert vars(server_module)["Verifier"] is Verifier
    assert "Verifier" not in server_module.__all__
    for name in server_module.__all__:
        assert hasattr(server_module, name), name
    # serve and create_app are loaded on first use (their modules import this one).
    assert server_module.serve is http_module.serve
    assert server_module.create_app.__module__ == "describe_images._deploy"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        server_module.nope  # noqa: B018


def test_request_ids_are_canonical_uuid4s() -> None:
    ids = [_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
    # The 122 random bits all vary: every hex digit but the version takes many values.
    columns = [{text.replace("-", "")[i] for text in ids} for i in range(32)]
    assert [len(c) for c in columns].count(1) == 1  # the version digit, "4"
    assert columns[16] == set("89ab")  # the variant bits 10


# --- Any environ gets a documented status (issue 8) ----------------------------------------


@contextmanager
def quiet_server_log() -> Iterator[None]:
    log = logging.getLogger("describe_images.server")
    before, log.disabled = log.disabled, True
    try:
        yield
    finally:
        log.disabled = before


STATUSES = {
    "200 OK",
    "400 Bad Request",
    "404 Not Found",
    "405 Method Not Allowed",
    "411 Length Required",
    "413 Content Too Large",
    "415 Unsupported Media Type",
}
# The longest refusal: its fixed text and one echo of ECHO_MAX characters, each escaped
# in at most 10 ("\U0010ffff").
LONGEST_REFUSAL = 200 + 10 * ECHO_MAX


def answer_any(app: WSGIApplication, environ: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call ``app`` with ``environ`` and check the answer is well formed."""
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))
        return lambda data: None

    body = b"".join(app(environ, start_response))
    assert len(seen) == 1
    status, headers = seen[0]
    assert status in STATUSES
    assert headers[-1] == ("Content-Length", str(len(body)))
    assert body.isascii()
    if status == "200 OK":
        assert headers == [("Content-Type", "application/json"), headers[-1]]
        data = json.loads(body)
        assert list(data) == ["Response"]
        response = data["Response"]
        assert UUID4_RE.match(response.pop("RequestId"))
        if "Error" in response:
            assert list(response) == ["Error"]
            assert list(response["Error"]) == ["Code", "Message"]
            assert all(isinstance(v, str) and v for v in response["Error"].values())
        else:
            assert list(response) == ["ImageSet", "TotalCount"]
    else:
        allow = [("Allow", "GET, POST")] if status.startswith("405") else []
        assert headers == [("Content-Type", "text/plain; charset=utf-8"), *allow, headers[-1]]
        text = body.decode("ascii")
        assert text.startswith(f"{status}: ")
        assert text.endswith("\n")
        assert text[:-1].isprintable()
        assert len(text) <= LONGEST_REFUSAL
    if isinstance(environ, dict):
        assert isinstance(environ[OUTCOME_KEY], str)
    return status, headers, body


class Stream:
    """A ``wsgi.input`` that gives ``result`` (or raises it) on every read, whatever size
    is asked for."""

    def __init__(self, result: object) -> None:
        self.result = result

    def read(self, size: int = -1) -> object:
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result

    def __repr__(self) -> str:
        return f"Stream({self.result!r})"


HOSTILE_TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=30)
ODD_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.text(max_size=2), max_size=2),
    st.builds(object),
)


def environ_value(*likely: str) -> st.SearchStrategy[object]:
    """Mostly a value a server would send; else hostile text, latin-1 bytes as text
    (PEP 3333), or something that is not a str at all."""
    usual = st.sampled_from(likely)
    text = st.one_of(HOSTILE_TEXT, st.binary(max_size=20).map(lambda b: b.decode("latin-1")))
    return st.one_of(usual, usual, text, text, ODD_VALUES)


STREAMS = st.one_of(
    st.binary(max_size=120).map(io.BytesIO),
    st.sampled_from([SEED_1.encode(), b"Limit=1&a="]).map(io.BytesIO),
    st.binary(max_size=120).map(Trickle),
    st.sampled_from(
        [
            OSError("connection reset"),
            TimeoutError("timed out"),
            ValueError("I/O operation on closed file"),
            RuntimeError("bug"),
            "Action=DescribeImages",
            None,
            7,
            b"",
            b"x" * 200,
            bytearray(b"Limit=1"),
        ]
    ).map(Stream),
    ODD_VALUES,
)

FIELDS: dict[str, st.SearchStrategy[object]] = {
    "REQUEST_METHOD": environ_value("GET", "POST", "PUT", "get"),
    "PATH_INFO": environ_value("/", "/v2/index.php", "", "/x"),
    "SCRIPT_NAME": environ_value("", "/api"),
    "QUERY_STRING": st.one_of(environ_value(SEED_1, "Limit=%zz", ""), wireish_queries()),
    "CONTENT_TYPE": environ_value(FORM, f"{FORM}; charset=latin-1", "text/plain", ""),
    "CONTENT_LENGTH": environ_value("0", "10", str(len(SEED_1)), "", " 12 ", "-1", "200", "9" * 40),
    "HTTP_HOST": environ_value("h", ""),
    "SERVER_NAME": environ_value("h", ""),
    "SERVER_PORT": environ_value("80", "443", ""),
    "wsgi.url_scheme": environ_value("http", "https"),
    "wsgi.input_terminated": st.one_of(st.just(True), st.booleans(), ODD_VALUES),
    "wsgi.input": STREAMS,
}
MISSING = object()


@st.composite
def near_valid_environs(draw: st.DrawFn) -> dict[str, Any]:
    """A GET or POST API call a server would pass, with up to four keys changed to any
    of the values above, or removed: every check of the table is reached."""
    body = draw(
        st.one_of(st.sampled_from([SEED_1.encode(), b"Limit=1&a="]), st.binary(max_size=60))
    )
    environ: dict[str, Any] = {
        "REQUEST_METHOD": draw(st.sampled_from(["GET", "POST"])),
        "PATH_INFO": draw(st.sampled_from(["/", "/v2/index.php", ""])),
        "SCRIPT_NAME": "",
        "QUERY_STRING": SEED_1,
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "h",
        "SERVER_NAME": "h",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
    }
    for key in draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=4)):
        value = draw(st.one_of(FIELDS[key], st.just(MISSING)))
        if value is MISSING:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


ENVIRONS = st.one_of(near_valid_environs(), st.fixed_dictionaries({}, optional=FIELDS))


@given(environ=ENVIRONS, verified=st.booleans())
def test_any_environ_gets_a_documented_status(environ: dict[str, Any], verified: bool) -> None:
    app = make_app(max_body_bytes=100, verify=accept if verified else None)
    with quiet_server_log():
        answer_any(app, environ)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"REQUEST_METHOD": "G\udc80T"},
            "405 Method Not Allowed: G\\udc80T is not allowed; use GET or POST",
        ),
        ({"REQUEST_METHOD": "PUT\r\nX: 1"}, "405 Method Not Allowed: PUT\\r\\nX: 1 is not allowed"),
        ({"REQUEST_METHOD": "é"}, "405 Method Not Allowed: \\xe9 is not allowed"),
        ({"REQUEST_METHOD": "P" * 101}, f"405 Method Not Allowed: {'P' * 100}... is not"),
        ({"REQUEST_METHOD": "P" * 100}, f"405 Method Not Allowed: {'P' * 100} is not"),
        ({"PATH_INFO": "/\udc80\x00"}, "404 Not Found: no API at '/\\udc80\\x00'; send"),
        ({"PATH_INFO": "/é"}, "404 Not Found: no API at '/\\xe9'; send calls"),
        ({"PATH_INFO": "/" * 150}, f"404 Not Found: no API at '{'/' * 100}'...; send"),
        (
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "text/\udcff"},
            f"415 Unsupported Media Type: a POST body must be {FORM} (UTF-8), not text/\\udcff",
        ),
        (
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "t" * 1000},
            f"415 Unsupported Media Type: a POST body must be {FORM} (UTF-8), not {'t' * 100}...",
        ),
        (
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": FORM, "CONTENT_LENGTH": "1\udc80"},
            "400 Bad Request: Content-Length '1\\udc80' is not a number",
        ),
        (
            # More digits than int() reads (4,300): counted, never converted.
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": FORM, "CONTENT_LENGTH": "9" * 5000},
            f"413 Content Too Large: the body is {'9' * 100}... bytes; at most 1048576",
        ),
    ],
    ids=[
        "method-surrogate",
        "method-crlf",
        "method-latin-1",
        "method-cut",
        "method-not-cut",
        "path-surrogate",
        "path-latin-1",
        "path-cut",
        "type-surrogate",
        "type-cut",
        "length-surrogate",
        "length-digits",
    ],
)
def test_refusals_echo_input_ascii_escaped_and_cut(
    app: WSGIApplication, environ: dict[str, Any], expected: str
) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": Unreadable(), **environ}
    _, _, body = answer_any(app, environ)
    assert body.decode("ascii").startswith(expected)


def test_content_length_leading_zeros_do_not_count() -> None:
    small = make_app(max_body_bytes=10)
    body = b"Limit=1&a="
    answer = call(
        small, method="POST", content_type=FORM, body=body, CONTENT_LENGTH="0" * 30 + "10"
    )
    assert answer.code == "MissingParameter"
    answer = call(
        small,
        method="POST",
        content_type=FORM,
        CONTENT_LENGTH="0011",
        extra={"wsgi.input": Unreadable()},
    )
    assert answer.body == b"413 Content Too Large: the body is 0011 bytes; at most 10 are allowed\n"


def test_terminated_body_read_in_pieces(app: WSGIApplication) -> None:
    env = {"wsgi.input": Trickle(SEED_1.encode()), "wsgi.input_terminated": True}
    assert_seed_1_answer(call(app, method="POST", content_type=FORM, extra=env).body)


class Breaking(io.BytesIO):
    """Gives its bytes, then the connection breaks."""

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if not chunk:
            raise ConnectionResetError("reset by peer")
        return chunk


@pytest.mark.parametrize(
    ("stream", "length", "message"),
    [
        (Stream(OSError("reset")), "10", "the body could not be read after 0 bytes"),
        (Breaking(b"Limit"), "10", "the body could not be read after 5 bytes"),
        (Stream(TimeoutError()), "", "the body could not be read after 0 bytes"),
    ],
    ids=["at-once", "after-5", "terminated-timeout"],
)
def test_unreadable_body_gets_400(
    app: WSGIApplication, stream: object, length: str, message: str
) -> None:
    env = {"wsgi.input": stream, "CONTENT_LENGTH": length, "wsgi.input_terminated": True}
    answer = call(app, method="POST", content_type=FORM, extra=env)
    assert answer.status == "400 Bad Request"
    assert answer.body.decode() == f"400 Bad Request: {message}\n"


@pytest.mark.parametrize(
    ("environ", "detail"),
    [
        ({"PATH_INFO": b"/"}, "environ['PATH_INFO'] must be a str, not bytes"),
        ({"REQUEST_METHOD": None}, "environ['REQUEST_METHOD'] must be a str, not NoneType"),
        ({"QUERY_STRING": 7}, "environ['QUERY_STRING'] must be a str, not int"),
        (
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": [FORM]},
            "environ['CONTENT_TYPE'] must be a str, not list",
        ),
        (
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": FORM, "CONTENT_LENGTH": 5},
            "environ['CONTENT_LENGTH'] must be a str, not int",
        ),
        (
            {"REQUEST_METHOD": "POST", "CONTENT_TYPE": FORM, "CONTENT_LENGTH": "5"},
            "a POST environ without wsgi.input",
        ),
        (
            {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": FORM,
                "CONTENT_LENGTH": "5",
                "wsgi.input": Stream("Limit"),
            },
            "wsgi.input.read(5) must give bytes, not str",
        ),
        (
            {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": FORM,
                "CONTENT_LENGTH": "5",
                "wsgi.input": Stream(b"Limit=1"),
            },
            "wsgi.input.read(5) gave 7 bytes",
        ),
        (
            {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": FORM,
                "CONTENT_LENGTH": "5",
                "wsgi.input": Stream(ValueError("closed")),
            },
            "closed",
        ),
        ({"SCRIPT_NAME": None}, "environ['SCRIPT_NAME'] must be a str, not NoneType"),
        ({"HTTP_HOST": b"h"}, "environ['HTTP_HOST'] must be a str, not bytes"),
        ({"HTTP_HOST": "", "SERVER_PORT": 80}, "environ['SERVER_PORT'] must be a str, not int"),
    ],
    ids=[
        "path-bytes",
        "method-none",
        "query-int",
        "type-list",
        "length-int",
        "no-input",
        "input-str",
        "input-too-much",
        "input-raises",
        "script-none",
        "host-bytes",
        "port-int",
    ],
)
def test_a_broken_environ_is_an_internal_error(
    caplog: pytest.LogCaptureFixture, environ: dict[str, Any], detail: str
) -> None:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": SEED_1,
        "SERVER_NAME": "h",
        "SERVER_PORT": "80",
        **environ,
    }
    with caplog.at_level(logging.ERROR, logger="describe_images.server"):
        _, _, body = answer_any(make_app(verify=accept), env)
    request_id = json.loads(body)["Response"]["RequestId"]
    assert json.loads(body) == envelope("InternalError", INTERNAL_ERROR_MESSAGE, request_id)
    assert env[OUTCOME_KEY] == "InternalError"
    assert [r.getMessage() for r in caplog.records] == [
        f"internal error answering RequestId {request_id}"
    ]
    assert caplog.records[0].exc_info is not None
    assert detail in str(caplog.records[0].exc_info[1])


def test_an_environ_that_is_not_a_dict_is_answered(app: WSGIApplication) -> None:
    env: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": SEED_1}
    _, _, body = answer_any(app, MappingProxyType(env))
    assert_seed_1_answer(body, "api3")
    with quiet_server_log():
        _, _, body = answer_any(app, None)
    assert json.loads(body)["Response"]["Error"]["Code"] == "InternalError"


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
    assert_seed_1_answer(body, "api3")


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
    line = r"127\.0\.0\.1 GET {} {} {} \d{{1,4}}\.\dms"  # under 10 s
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
        reply = raw.makefile("rb").read()
    # The stdlib's own refusals come out in the app's plain-text style, not as HTML.
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 Bad Request\r\n")
    assert b"\r\nContent-Type: text/plain; charset=utf-8\r\n" in head
    assert f"\r\nContent-Length: {len(body)}\r\n".encode() in head
    assert body == b"400 Bad Request: Bad HTTP/0.9 request type ('NOT')\n"
    assert "127.0.0.1 code 400, message Bad HTTP/0.9 request type ('NOT')\n" in live.log.getvalue()


def test_serve_passes_its_options_to_the_app() -> None:
    verify = Recorder()
    server = start(verify=verify, max_body_bytes=20, limits=WireLimits(max_pairs=2))
    try:
        _, _, body = server.request("GET", f"/?{SEED_1}")
        assert json.loads(body)["Response"]["Error"]["Code"] == "InvalidParameter"  # 3 pairs
        status, _, _ = server.request("POST", "/", b"x" * 21, {"Content-Type": FORM})
        assert status == 413
        server.request("GET", "/?Action=DescribeImages&Version=2017-03-12")
        assert [c[0] for c in verify.calls] == ["GET"]
    finally:
        stop(server)


def test_serve_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    parameters = inspect.signature(serve).parameters
    assert (parameters["host"].default, parameters["port"].default) == ("127.0.0.1", 8000)
    # The log goes to stderr unless told otherwise.
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    def interrupt(server: WSGIServer) -> None:
        raise KeyboardInterrupt

    serve("127.0.0.1", 0, ready=interrupt)
    assert stderr.getvalue().startswith("describe-images: serving DescribeImages 2017-03-12 on")


def logged_line(app: WSGIApplication, environ: dict[str, Any]) -> tuple[str, list[Any]]:
    """What _logged writes for one call of ``app``, and what start_response was given."""
    stream = io.StringIO()
    given: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
        given.append((status, exc))
        return lambda data: None

    b"".join(_logged(app, stream)(environ, start_response))
    return stream.getvalue(), given


def test_log_line_of_a_bare_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([10.0, 10.25])  # the app takes 250 ms
    monkeypatch.setattr(http_module, "time", SimpleNamespace(perf_counter=lambda: next(clock)))

    def failing(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        try:
            raise RuntimeError("x")
        except RuntimeError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b""]

    line, given = logged_line(failing, {})
    assert line == "- - / 500 - 250.0ms\n"
    assert given[0][0] == "500 Internal Server Error"
    assert given[0][1][0][0] is RuntimeError  # exc_info is passed on


def test_log_line_of_an_app_that_starts_late() -> None:
    # A generator app calls start_response only when its body is iterated, after the
    # line is written: the status is not known yet.
    def late(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b""

    line, given = logged_line(late, {"REMOTE_ADDR": "10.0.0.1", "REQUEST_METHOD": "GET"})
    assert re.fullmatch(r"10\.0\.0\.1 GET / - - \d+\.\dms\n", line)
    assert given == [("200 OK", ())]


def test_serve_with_verify_logs_no_warning() -> None:
    server = start(verify=Recorder())
    stop(server)
    assert "WARNING" not in server.log.getvalue()


def test_serve_stops_on_keyboard_interrupt() -> None:
    log = io.StringIO()

    def interrupt(server: WSGIServer) -> None:
        raise KeyboardInterrupt

    serve("127.0.0.1", 0, log=log, ready=interrupt)  # returns None: exit codes are the CLI's
    assert log.getvalue().splitlines()[-1] == "describe-images: stopped"


def test_serve_stops_on_ctrl_c_while_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: WSGIServer, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_Server, "serve_forever", interrupted)
    log = io.StringIO()
    serve("127.0.0.1", 0, log=log)
    assert log.getvalue().splitlines()[-2:] == [
        "describe-images: press Ctrl-C to stop",
        "describe-images: stopped",
    ]


def test_ipv6_hosts_get_an_ipv6_server() -> None:
    for host, family in [("::1", socket.AF_INET6), ("127.0.0.1", socket.AF_INET)]:
        server = _Server(host, 0, make_app(), threads=1, read_timeout=1.0, log_stream=io.StringIO())
        try:
            assert server.address_family == family
            assert server.socket.family == family
        finally:
            server.server_close()


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


# --- API 3.0 calls (spec/README.md §3.4, "API 3.0 calls") ---------------------------------

TC3_ID, TC3_KEY = "AKIDapi3", "api3-secret"
API3 = {"HTTP_X_TC_ACTION": "DescribeImages", "HTTP_X_TC_VERSION": "2017-03-12"}
JSON = "application/json"


def api3_call(
    app: WSGIApplication,
    *,
    method: str = "POST",
    body: bytes | None = b'{"ImageIds": ["img-pmqg1cw7"]}',
    query: str = "",
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
) -> Answer:
    environ = {**API3, **(headers or {})}
    if method == "GET":
        body = None
    elif content_type is None:
        content_type = JSON
    return call(
        app, method=method, path="/", query=query, body=body, content_type=content_type,
        extra=environ,
    )  # fmt: skip


def tc3_environ(signed: Any) -> dict[str, Any]:
    """The WSGI environ of a :class:`Tc3Call` (its headers as CGI keys, as wsgiref does)."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": signed.method,
        "PATH_INFO": signed.path,
        "QUERY_STRING": signed.query,
    }
    for name, value in signed.headers:
        key = name.upper().replace("-", "_")
        env[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    if signed.method == "POST":
        env["CONTENT_LENGTH"] = str(len(signed.body))
        env["wsgi.input"] = io.BytesIO(signed.body)
    return env


def expected_answer(request: Any) -> Any:
    """The library's answer to ``request`` as an API 3.0 call gets it (API 3.0 names)."""
    response = answer_request(request, default_catalog(), request_id="x")
    return json.loads(response.to_json("api3"))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_api3_seed_example_1(app: WSGIApplication, method: str) -> None:
    answer = api3_call(app, method=method, query="ImageIds.0=img-pmqg1cw7")
    assert answer.status == "200 OK"
    assert answer.headers[0] == ("Content-Type", "application/json")
    assert_seed_1_answer(answer.body, "api3")


@pytest.mark.parametrize("path", ["/", "/v2/index.php"])
def test_api3_is_answered_at_both_paths(app: WSGIApplication, path: str) -> None:
    body = b'{"ImageIds": ["img-pmqg1cw7"]}'
    answer = call(app, method="POST", path=path, body=body, content_type=JSON, extra=API3)
    assert_seed_1_answer(answer.body, "api3")


def test_api3_get_takes_the_headers_common_parameters(app: WSGIApplication) -> None:
    headers = {"HTTP_X_TC_REGION": "ap-guangzhou", "HTTP_X_TC_LANGUAGE": "en-US"}
    answer = api3_call(app, method="GET", query="Limit=101", headers=headers)
    assert answer.code == "InvalidParameterValue.InvalidParameterValueLimit"
    # The same verdict as the legacy query with the same parameters.
    legacy = call(app, query="Action=DescribeImages&Version=2017-03-12&Region=gz&Limit=101")
    assert answer.json()["Response"]["Error"] == legacy.json()["Response"]["Error"]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("Action=DescribeImages&ImageIds.0=img-pmqg1cw7", "Action"),
        ("Version=2017-03-12&ImageIds.0=img-pmqg1cw7", "Version"),
        ("ImageIds.0=img-pmqg1cw7&Region=ap-guangzhou", "Region"),
        ("ImageIds.0=img-pmqg1cw7&Nonce=1", "Nonce"),
        ("ImageIds.0=img-pmqg1cw7&SignatureMethod=HmacSHA256", "SignatureMethod"),
    ],
)
def test_api3_get_refuses_common_parameters_in_the_query(
    app: WSGIApplication, query: str, path: str
) -> None:
    answer = api3_call(app, method="GET", query=query)
    error = answer.json()["Response"]["Error"]
    assert error["Code"] == "UnknownParameter"
    assert error["Message"].startswith(f"unknown parameter {path}: ")
    assert "header" in error["Message"]


def test_api3_get_with_the_general_codec_path(app: WSGIApplication) -> None:
    # Not a plain query (an escape, base 1): the pairs and the tree, with the headers' common.
    answer = api3_call(
        app, method="GET", query="Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE%5FIMAGE"
    )
    request = decode_request(
        "Action=DescribeImages&Version=2017-03-12"
        "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
    )
    data = answer.json()
    data["Response"]["RequestId"] = "x"
    assert data == expected_answer(request)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"HTTP_X_TC_ACTION": "DescribeZones"}, [("InvalidAction", "X-TC-Action 'DescribeZones'")]),
        ({"HTTP_X_TC_VERSION": "2017-03-13"}, [("NoSuchVersion", "X-TC-Version '2017-03-13'")]),
        ({"HTTP_X_TC_ACTION": ""}, [("MissingParameter", "Action is required")]),
        ({"HTTP_X_TC_VERSION": ""}, [("MissingParameter", "Version is required")]),
        (
            {"HTTP_X_TC_ACTION": "Nope", "HTTP_X_TC_VERSION": "1"},
            [("InvalidAction", "X-TC-Action 'Nope'")],
        ),
    ],
)
def test_api3_headers_are_checked_first_and_alone(
    app: WSGIApplication, headers: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    # The body is wrong too (a bool Limit): the headers decide, as API 3.0's gateway does.
    answer = api3_call(app, body=b'{"Limit": true}', headers=headers)
    error = answer.json()["Response"]["Error"]
    assert (error["Code"], error["Message"][: len(expected[0][1])]) == expected[0]


def test_api3_without_version_header_is_missing_parameter(app: WSGIApplication) -> None:
    env = {"HTTP_X_TC_ACTION": "DescribeImages"}
    answer = call(app, method="POST", path="/", body=b"{}", content_type=JSON, extra=env)
    assert answer.json()["Response"]["Error"] == {
        "Code": "MissingParameter",
        "Message": "Version is required: send the X-TC-Version header",
    }


def test_api3_every_header_problem_is_reported() -> None:
    environ = {"HTTP_X_TC_ACTION": "Nope", "HTTP_X_TC_VERSION": "1", "wsgi.input": io.BytesIO()}
    with pytest.raises(RequestError) as info:
        server_module._api3_common(environ)
    assert [(v.code, v.reason, v.path) for v in info.value.violations] == [
        ("InvalidAction", "unsupported-action", "Action"),
        ("NoSuchVersion", "no-such-version", "Version"),
    ]
    with pytest.raises(RequestError) as info:
        server_module._api3_common({"HTTP_AUTHORIZATION": "TC3-HMAC-SHA256 x"})
    assert [(v.code, v.path) for v in info.value.violations] == [
        ("MissingParameter", "Action"),
        ("MissingParameter", "Version"),
    ]


@pytest.mark.parametrize(
    ("header", "value", "path", "reason"),
    [
        ("HTTP_X_TC_REGION", "ap\x01gz", "Region", "control-character"),
        ("HTTP_X_TC_LANGUAGE", "\xff", "Language", "bad-utf8"),  # the byte 0xFF: not UTF-8
        ("HTTP_X_TC_TOKEN", "t" * 4097, "Token", "too-large"),
    ],
)
def test_api3_header_text_is_checked(
    app: WSGIApplication, header: str, value: str, path: str, reason: str
) -> None:
    common = server_module._api3_common({**API3, header: value})
    with pytest.raises(RequestError) as info:
        decode_request("ImageIds.0=img-pmqg1cw7&Limit=101", common=common)
    # The headers' problems come alone, before the query's.
    assert [(v.reason, v.path) for v in info.value.violations] == [(reason, path)]
    for method in ("GET", "POST"):
        answer = api3_call(app, method=method, query="Limit=101", headers={header: value})
        assert answer.code == "InvalidParameter"


def test_decode_request_common_must_be_common_params() -> None:
    with pytest.raises(UsageError):
        decode_request("ImageIds.0=img-pmqg1cw7", common={"Region": "x"})  # type: ignore[arg-type]  # misuse on purpose


def test_api3_header_text_is_read_as_utf8(app: WSGIApplication) -> None:
    common = server_module._api3_common({**API3, "HTTP_X_TC_REGION": "r\xc3\xa9gion"})
    assert common.region == "région"
    answer = api3_call(app, headers={"HTTP_X_TC_REGION": "\xff"})
    error = answer.json()["Response"]["Error"]
    assert (error["Code"], error["Message"].startswith("the value of 'Region'")) == (
        "InvalidParameter",
        True,
    )


def test_api3_is_recognised_by_a_tc3_authorization(app: WSGIApplication) -> None:
    env = {"HTTP_AUTHORIZATION": "TC3-HMAC-SHA256 Credential=x"}
    answer = call(app, method="GET", path="/", query="ImageIds.0=img-pmqg1cw7", extra=env)
    assert answer.code == "MissingParameter"  # X-TC-Action, not the query's Action
    assert "X-TC-Action" in answer.json()["Response"]["Error"]["Message"]
    # Another Authorization does not make a legacy call an API 3.0 one.
    env = {"HTTP_AUTHORIZATION": "Basic eDp5"}
    assert_seed_1_answer(call(app, query=SEED_1, extra=env).body)


@pytest.mark.parametrize(
    "content_type",
    [JSON, "application/json; charset=utf-8", "Application/JSON;charset=UTF8"],
)
def test_api3_post_json_content_types(app: WSGIApplication, content_type: str) -> None:
    assert_seed_1_answer(api3_call(app, content_type=content_type).body, "api3")


@pytest.mark.parametrize(
    "content_type", [FORM, "text/plain", "application/json; charset=latin-1", ""]
)
def test_api3_post_other_content_types_get_415(app: WSGIApplication, content_type: str) -> None:
    answer = api3_call(app, content_type=content_type)
    assert answer.status == "415 Unsupported Media Type"
    assert answer.body.startswith(b"415 Unsupported Media Type: an API 3.0 POST body must be ")


def test_legacy_post_json_still_gets_415(app: WSGIApplication) -> None:
    answer = call(app, method="POST", body=b'{"ImageIds": []}', content_type=JSON)
    assert answer.status == "415 Unsupported Media Type"
    assert answer.body.startswith(b"415 Unsupported Media Type: a POST body must be ")


def test_api3_post_ignores_the_query_string(app: WSGIApplication) -> None:
    answer = api3_call(app, query="Limit=101")
    assert_seed_1_answer(answer.body, "api3")


def test_api3_post_body_errors_are_the_json_decoders(app: WSGIApplication) -> None:
    answer = api3_call(app, body=b'{"Limit": 5, "Limit": 6}')
    assert answer.code == "InvalidParameter"
    answer = api3_call(app, body=b'{"Region": "ap-guangzhou"}')
    assert answer.code == "UnknownParameter"


# --- API 3.0 calls, signed ----------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_app() -> WSGIApplication:
    credentials = {TC3_ID: TC3_KEY, SECRET_ID: SECRET_KEY}
    return make_app(verify=make_verifier(credentials), verify_tc3=make_tc3_verifier(credentials))


def tc3(method: Any, request: Any = None, **kwargs: Any) -> Any:
    return tc3_sign(
        request or DescribeImagesRequest(image_ids=("img-pmqg1cw7",)),
        secret_id=TC3_ID,
        secret_key=TC3_KEY,
        method=method,
        host="localhost",
        **{"region": "ap-guangzhou", **kwargs},
    )


def wsgi(app: WSGIApplication, env: dict[str, Any]) -> Answer:
    cgi = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING")
    extra = {k: v for k, v in env.items() if k not in cgi}
    extra.setdefault("HTTP_HOST", "localhost")
    return call(
        app, method=env["REQUEST_METHOD"], path=env["PATH_INFO"], query=env["QUERY_STRING"],
        extra=extra,
    )  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_api3_signed_call_is_answered(signed_app: WSGIApplication, method: str) -> None:
    assert_seed_1_answer(wsgi(signed_app, tc3_environ(tc3(method))).body, "api3")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_api3_signed_with_unicode_headers(signed_app: WSGIApplication, method: str) -> None:
    # Non-ASCII in the query or body and in a header (X-TC-Region), read back from latin-1.
    request = DescribeImagesRequest(filters=(Filter("image-name", ("é",)),))
    env = tc3_environ(tc3(method, request, region="广州"))
    env = {k: v.encode().decode("latin-1") if k.startswith("HTTP_") else v for k, v in env.items()}
    answer = wsgi(signed_app, env)
    data = answer.json()
    data["Response"]["RequestId"] = "x"
    assert data == expected_answer(request)


def test_api3_wrong_key_is_signature_failure(signed_app: WSGIApplication) -> None:
    signed = tc3_sign(
        DescribeImagesRequest(), secret_id=TC3_ID, secret_key="wrong", host="localhost"
    )
    assert wsgi(signed_app, tc3_environ(signed)).code == "AuthFailure.SignatureFailure"


def test_api3_changed_body_is_signature_failure(signed_app: WSGIApplication) -> None:
    env = tc3_environ(tc3("POST"))
    env["wsgi.input"] = io.BytesIO(b'{"ImageIds": ["img-pmqg1cw8"]}')
    assert wsgi(signed_app, env).code == "AuthFailure.SignatureFailure"


def test_api3_host_is_the_host_header(signed_app: WSGIApplication) -> None:
    env = tc3_environ(tc3("GET"))
    env["HTTP_HOST"] = "localhost:8000"
    assert wsgi(signed_app, env).code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    ("env", "code"),
    [
        ({}, "MissingParameter"),  # no X-TC-Timestamp (reported first), no Authorization
        ({"HTTP_X_TC_TIMESTAMP": "1700000000"}, "AuthFailure.SignatureFailure"),
    ],
)
def test_api3_unsigned_call_is_refused(
    signed_app: WSGIApplication, env: dict[str, str], code: str
) -> None:
    answer = api3_call(signed_app, method="GET", query="ImageIds.0=img-pmqg1cw7", headers=env)
    assert answer.code == code


def test_api3_verified_before_the_headers_and_the_body(signed_app: WSGIApplication) -> None:
    env = tc3_environ(tc3("POST"))
    env["HTTP_X_TC_VERSION"] = "1999-01-01"  # unsigned: the signature still holds
    assert wsgi(signed_app, env).code == "NoSuchVersion"
    env = tc3_environ(tc3("POST", timestamp=1))
    env["HTTP_X_TC_VERSION"] = "1999-01-01"
    assert wsgi(signed_app, env).code == "AuthFailure.SignatureExpire"


def test_api3_verifier_sees_the_call() -> None:
    seen: list[tuple[Any, ...]] = []

    def record(*args: Any) -> str:
        seen.append(args)
        return "AKID"

    app = make_app(verify_tc3=record)
    env = tc3_environ(tc3("POST"))
    env["SCRIPT_NAME"] = "/api"
    wsgi(app, env)
    method, host, path, query, headers, body = seen[0]
    sent = env["wsgi.input"].getvalue()
    assert (method, host, path, query, body) == ("POST", "localhost", "/api/", "", sent)
    names = [name for name, _ in headers]
    assert {"content-type", "content-length", "host", "authorization"} <= set(names)
    assert len(names) == len(set(names))


def test_one_verifier_closes_the_other_door() -> None:
    v1_only = make_app(verify=make_verifier({TC3_ID: TC3_KEY}))
    answer = wsgi(v1_only, tc3_environ(tc3("GET")))
    assert answer.code == "InvalidParameterValue"
    assert "TC3-HMAC-SHA256" in answer.json()["Response"]["Error"]["Message"]
    tc3_only = make_app(verify_tc3=make_tc3_verifier({TC3_ID: TC3_KEY}))
    answer = call(tc3_only, query=SEED_1)
    assert answer.code == "InvalidParameterValue"
    assert "v1 call is refused" in answer.json()["Response"]["Error"]["Message"]
    assert call(tc3_only, query="Limit=%zz").code == "InvalidParameter"  # the codec first


def test_legacy_signed_calls_still_pass_with_both_verifiers(signed_app: WSGIApplication) -> None:
    get = signed_raw(SEED_1, "GET").decode()
    assert_seed_1_answer(call(signed_app, query=get, HTTP_HOST="h").body)
    post = signed_raw(SEED_1, "POST")
    answer = call(signed_app, method="POST", body=post, content_type=FORM, HTTP_HOST="h")
    assert_seed_1_answer(answer.body)
    assert call(signed_app, query=SEED_1, HTTP_HOST="h").code == "MissingParameter"


def test_create_app_checks_api3_calls_with_the_same_keys() -> None:
    # The gunicorn factory closes both doors with one key file, as serve --credentials does.
    from describe_images._nonces import MemoryNonceStore
    from describe_images.server import create_app

    app = create_app(credentials={TC3_ID: TC3_KEY}, nonce_store=MemoryNonceStore(), environ={})
    assert_seed_1_answer(wsgi(app, tc3_environ(tc3("POST"))).body, "api3")
    assert_seed_1_answer(wsgi(app, tc3_environ(tc3("GET"))).body, "api3")
    wrong = tc3_sign(DescribeImagesRequest(), secret_id=TC3_ID, secret_key="x", host="localhost")
    assert wsgi(app, tc3_environ(wrong)).code == "AuthFailure.SignatureFailure"
    unsigned = api3_call(app, method="GET", query="ImageIds.0=img-pmqg1cw7", headers={})
    assert unsigned.code == "MissingParameter"
