"""TC3-HMAC-SHA256 (API 3.0): vectors, the official SDK as oracle, properties, boundaries
and hostile input (spec/README.md §4.7)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import (
    AuthError,
    DescribeImagesError,
    DescribeImagesRequest,
    Filter,
    RequestError,
    Tc3Call,
    UsageError,
    WireError,
    encode_json,
    make_tc3_verifier,
    tc3_authorization,
    tc3_canonical_request,
    tc3_sign,
    tc3_signing_key,
    tc3_string_to_sign,
    tc3_verify,
)
from describe_images._tc3 import MAX_HEADER_LENGTH, MAX_HEADERS, MAX_TIMESTAMP

from . import vectorfiles
from .strategies import any_requests, hostile_requests, valid_requests

ROOT = Path(__file__).resolve().parent.parent
VECTORS: dict[str, Any] = vectorfiles.load("tc3.json")
SIGNING: list[dict[str, Any]] = vectorfiles.cases("tc3.json", "sign")
VERIFICATION: list[dict[str, Any]] = vectorfiles.cases("tc3.json", "verify")
CREDENTIALS: dict[str, str] = VECTORS["credentials"]

SID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"
KEY = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"
HOST = "cvm.tencentcloudapi.com"
T = 1700000000  # 2023-11-14T22:13:20Z
MIDNIGHT = 1700006400  # 2023-11-15T00:00:00Z

# The official SDK (a test-only dependency), imported by name: it has no type information.
SDK_CLIENT: Any = importlib.import_module("tencentcloud.common.abstract_client")
SDK_SIGN: Any = importlib.import_module("tencentcloud.common.sign").Sign
SDK_CREDENTIAL: Any = importlib.import_module("tencentcloud.common.credential")
SDK_PROFILE: Any = importlib.import_module("tencentcloud.common.profile.client_profile")
SDK_HTTP: Any = importlib.import_module("tencentcloud.common.profile.http_profile")
SDK_REQUEST: Any = importlib.import_module("tencentcloud.common.http.request")


class _Cvm(SDK_CLIENT.AbstractClient):  # type: ignore[misc]  # an untyped base class
    """The SDK's CvmClient as far as signing goes (its model package is not needed)."""

    _apiVersion = "2017-03-12"
    _endpoint = HOST
    _service = "cvm"


def sdk_call(
    method: str,
    params: dict[str, Any],
    *,
    host: str = HOST,
    region: str | None = None,
    token: str | None = None,
    language: str | None = None,
    timestamp: int = T,
    unsigned: bool = False,
    secret_key: str = KEY,
) -> tuple[dict[str, str], str, str]:
    """What the official SDK sends for ``params``, built offline: (headers, data, RequestClient)."""
    profile = SDK_PROFILE.ClientProfile(
        httpProfile=SDK_HTTP.HttpProfile(endpoint=host, reqMethod=method)
    )
    profile.language = language
    profile.unsignedPayload = unsigned
    client = _Cvm(SDK_CREDENTIAL.Credential(SID, secret_key, token), region, profile=profile)
    request = SDK_REQUEST.RequestInternal(host, method, "/", header={})
    with (
        mock.patch.object(SDK_CLIENT.time, "time", return_value=timestamp),
        warnings.catch_warnings(),
    ):
        # Newer Pythons deprecate the SDK's datetime.utcfromtimestamp; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        client._build_req_inter("DescribeImages", params, request)
    return dict(request.header), request.data, client.request_client


def sdk_params(request: DescribeImagesRequest) -> dict[str, Any]:
    """The SDK model's parameters for ``request`` (its member order)."""
    params: dict[str, Any] = {}
    if request.image_ids:
        params["ImageIds"] = list(request.image_ids)
    if request.filters:
        params["Filters"] = [{"Name": f.name, "Values": list(f.values)} for f in request.filters]
    if request.offset is not None:
        params["Offset"] = request.offset
    if request.limit is not None:
        params["Limit"] = request.limit
    return params


def _errors(exc: RequestError) -> list[tuple[str, str, str]]:
    return [(v.code, v.reason, v.path) for v in exc.violations]


def _expected(errors: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(e["code"], e["reason"], e["path"]) for e in errors]


def text(value: Any) -> str:
    """A vector's *text*: a string, or {prefix, repeat, times, suffix}."""
    if isinstance(value, str):
        return value
    prefix: str = value.get("prefix", "")
    suffix: str = value.get("suffix", "")
    return f"{prefix}{value['repeat'] * value['times']}{suffix}"


def headers_of(case: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, text(value)) for name, value in case["headers"]]


def secret(secret_id: str) -> str | None:
    return CREDENTIALS.get(secret_id)


# --- vectors -------------------------------------------------------------------------------


def test_vectors_match_their_schema() -> None:
    schema = vectorfiles.schemas()["tc3.schema.json"]
    assert vectorfiles.schema_problems(VECTORS, schema) == []


def test_vector_ids_are_unique_and_counted() -> None:
    ids = [case["id"] for case in SIGNING + VERIFICATION]
    assert len(ids) == len(set(ids))
    assert (len(SIGNING), len(VERIFICATION)) == (17, 58)
    assert len(VECTORS["cases"]) == 17 + 58
    # Every verification code has a case (spec/README.md §4.7.4).
    codes = {e["code"] for case in VERIFICATION for e in case["errors"]}
    assert codes == {
        "AuthFailure.SignatureFailure",
        "AuthFailure.SignatureExpire",
        "AuthFailure.SecretIdNotFound",
        "AuthFailure.InvalidAuthorization",
        "MissingParameter",
        "InvalidParameter",
    }


SIGNS = [case for case in SIGNING if "errors" not in case]
REFUSED = [case for case in SIGNING if "errors" in case]


def _low_level(case: dict[str, Any]) -> tuple[str, str, str, str, list[tuple[str, str]], bytes]:
    return (
        case["method"],
        case["host"],
        case["path"],
        case["query"],
        headers_of(case),
        case["payload"].encode(),
    )


def _signed_headers(case: dict[str, Any]) -> dict[str, Any]:
    return {"signed_headers": case["signed_headers"]} if "signed_headers" in case else {}


@pytest.mark.parametrize("case", SIGNS, ids=[case["id"] for case in SIGNS])
def test_signing_vector(case: dict[str, Any]) -> None:
    args, extra = _low_level(case), _signed_headers(case)
    service = case.get("service", "cvm")
    timestamp = int({n.lower(): v for n, v in args[4]}["x-tc-timestamp"])
    canonical = tc3_canonical_request(*args, **extra)
    assert canonical == case["canonical_request"]
    # The payload as text gives the same as its UTF-8 bytes.
    method, host, path, query, headers, payload = args
    as_text = tc3_canonical_request(method, host, path, query, headers, case["payload"], **extra)
    assert as_text == canonical
    assert tc3_string_to_sign(canonical, timestamp, service) == case["string_to_sign"]
    authorization = tc3_authorization(
        *args, secret_id=case["secret_id"], secret_key=case["secret_key"], service=service, **extra
    )
    assert authorization == case["authorization"]
    # Independent checks of the expected values: plain hashlib/hmac, and the SDK's signer.
    date = case["string_to_sign"].split("\n")[2].split("/")[0]
    digest = hashlib.sha256(case["canonical_request"].encode()).hexdigest()
    assert case["string_to_sign"].endswith(f"/{service}/tc3_request\n{digest}")
    key = tc3_signing_key(case["secret_key"], date, service)
    signature = hmac.new(key, case["string_to_sign"].encode(), hashlib.sha256).hexdigest()
    assert signature == case["signature"]
    sdk = SDK_SIGN.sign_tc3(case["secret_key"], date, service, case["string_to_sign"])
    assert sdk == case["signature"]
    assert authorization.endswith(f", Signature={signature}")
    # The signed call verifies.
    verified = tc3_verify(
        method, host, path, query, [*headers, ("Authorization", authorization)], payload,
        secrets={case["secret_id"]: case["secret_key"]}.get, now=timestamp, service=service,
    )  # fmt: skip
    assert verified == case["secret_id"]


@pytest.mark.parametrize("case", REFUSED, ids=[case["id"] for case in REFUSED])
def test_signing_vector_refused(case: dict[str, Any]) -> None:
    with pytest.raises(RequestError) as info:
        tc3_authorization(
            *_low_level(case),
            secret_id=case["secret_id"],
            secret_key=case["secret_key"],
            **_signed_headers(case),
        )
    assert _errors(info.value) == _expected(case["errors"])


CALLS = [case for case in SIGNING if "call" in case]


@pytest.mark.parametrize("case", CALLS, ids=[case["id"] for case in CALLS])
def test_signing_vector_call(case: dict[str, Any]) -> None:
    given_ = dict(case["call"])
    request = DescribeImagesRequest.from_dict(given_.pop("request"))
    if "body" in given_:
        given_["body"] = given_["body"].encode()
    if "unsigned_payload" in given_:
        given_["unsigned_payload"] = bool(given_["unsigned_payload"])
    call = tc3_sign(request, secret_id=case["secret_id"], secret_key=case["secret_key"], **given_)
    assert call == Tc3Call(
        case["method"],
        case["host"],
        case["path"],
        case["query"],
        (*headers_of(case), ("Authorization", case["authorization"])),
        case["payload"].encode(),
    )


@pytest.mark.parametrize("case", CALLS, ids=[case["id"] for case in CALLS])
def test_signing_vector_call_is_what_the_sdk_sends(case: dict[str, Any]) -> None:
    # The oracle rebuilds each whole-call vector (only its RequestClient, the SDK's version,
    # may differ: it is not signed).
    given_ = case["call"]
    headers, data, _ = sdk_call(
        given_["method"],
        sdk_params(DescribeImagesRequest.from_dict(given_["request"])),
        host=given_.get("host", HOST),
        region=given_.get("region"),
        token=given_.get("token"),
        language=given_.get("language"),
        timestamp=given_["timestamp"],
        unsigned=given_.get("unsigned_payload", False),
    )
    expected = dict(headers_of(case))
    expected["Authorization"] = case["authorization"]
    expected["X-TC-RequestClient"] = headers["X-TC-RequestClient"]
    assert list(headers.items()) == list(expected.items())
    assert data == (case["query"] if case["method"] == "GET" else case["payload"])


@pytest.mark.parametrize("case", VERIFICATION, ids=[case["id"] for case in VERIFICATION])
def test_verification_vector(case: dict[str, Any]) -> None:
    def run() -> str:
        return tc3_verify(
            case["method"],
            case["host"],
            case["path"],
            case["query"],
            headers_of(case),
            case["body"].encode(),
            secrets=secret,
            now=case["now"],
            max_skew=case.get("max_skew", 300),
            service=case.get("service", "cvm"),
        )

    if not case["errors"]:
        assert run() == case["secret_id"]
        return
    with pytest.raises(AuthError) as info:
        run()
    assert _errors(info.value) == _expected(case["errors"])


# --- differential: the official SDK --------------------------------------------------------

_HOSTS = st.sampled_from([HOST, "127.0.0.1:8000", "cvm.ap-guangzhou.tencentcloudapi.com"])
_HEADER_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters=" \t"),
    max_size=20,
)
_TIMESTAMPS = st.integers(min_value=0, max_value=4_102_444_800) | st.sampled_from(
    [MIDNIGHT - 1, MIDNIGHT, MIDNIGHT + 1, 0, 86_399, 86_400]
)


def _plain(request: DescribeImagesRequest) -> DescribeImagesRequest:
    return DescribeImagesRequest(
        image_ids=request.image_ids,
        filters=request.filters,
        offset=request.offset,
        limit=request.limit,
    )


@given(
    request=valid_requests().map(_plain),
    method=st.sampled_from(["GET", "POST"]),
    host=_HOSTS,
    region=st.none() | _HEADER_TEXT,
    token=st.none() | _HEADER_TEXT,
    language=st.sampled_from([None, "zh-CN", "en-US"]),
    timestamp=_TIMESTAMPS,
    unsigned=st.booleans(),
)
def test_tc3_sign_sends_what_the_sdk_sends(
    request: DescribeImagesRequest,
    method: str,
    host: str,
    region: str | None,
    token: str | None,
    language: str | None,
    timestamp: int,
    unsigned: bool,
) -> None:
    params = sdk_params(request)
    headers, data, client = sdk_call(
        method, params, host=host, region=region, token=token, language=language,
        timestamp=timestamp, unsigned=unsigned,
    )  # fmt: skip
    call = tc3_sign(
        request,
        secret_id=SID,
        secret_key=KEY,
        method="GET" if method == "GET" else "POST",
        host=host,
        region=region,
        token=token,
        language=language,
        request_client=client,
        timestamp=timestamp,
        unsigned_payload=unsigned,
    )
    # Whole headers, in the SDK's order, Authorization included.
    assert list(call.headers) == list(headers.items())
    if method == "GET":
        assert (call.query, call.body) == (data, b"")
    else:
        assert (call.query, call.body) == ("", data.encode())
    assert tc3_verify(
        call.method, host, call.path, call.query, call.headers, call.body,
        secrets={SID: KEY}.get, now=timestamp,
    ) == SID  # fmt: skip


@given(
    query=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30),
    payload=st.binary(max_size=50),
    content_type=_HEADER_TEXT,
    host=_HOSTS,
    timestamp=_TIMESTAMPS,
    secret_key=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20
    ),
)
def test_authorization_equals_the_sdk_signer(
    query: str, payload: bytes, content_type: str, host: str, timestamp: int, secret_key: str
) -> None:
    # The SDK's own signing steps (_get_tc3_signature) on a hand-made request object.
    request = SDK_REQUEST.RequestInternal(host, "POST", "/", header={})
    request.header = {"Content-Type": content_type, "Host": host, "X-TC-Timestamp": str(timestamp)}
    request.data = payload
    client = object.__new__(_Cvm)
    date = tc3_string_to_sign("", timestamp).split("\n")[2].split("/")[0]
    sdk = client._get_tc3_signature({}, request, date, "cvm", secret_key)
    headers = {"Content-Type": content_type, "X-TC-Timestamp": str(timestamp)}
    ours = tc3_authorization(
        "POST", host, "/", "", headers, payload, secret_id=SID, secret_key=secret_key
    )
    assert ours.endswith(f"Signature={sdk}")
    assert f"Credential={SID}/{date}/cvm/tc3_request," in ours
    # GET: the query is the canonical query, the payload is not hashed.
    request.method, request.data = "GET", query
    sdk = client._get_tc3_signature({}, request, date, "cvm", secret_key)
    ours = tc3_authorization(
        "GET", host, "/", query, headers, b"", secret_id=SID, secret_key=secret_key
    )
    assert ours.endswith(f"Signature={sdk}")


# --- properties: verify accepts what sign produces, and nothing changed ----------------------


def _sign(request: DescribeImagesRequest, method: str, **kwargs: Any) -> Tc3Call:
    body = None if method == "GET" else json.dumps(sdk_params(request)).encode()
    kwargs.setdefault("timestamp", T)
    return tc3_sign(
        request, secret_id=SID, secret_key=KEY, method="GET" if method == "GET" else "POST",
        body=body, **kwargs,
    )  # fmt: skip


def _verify(call: Tc3Call, **changes: Any) -> str:
    fields = {
        "method": call.method,
        "host": call.host,
        "path": call.path,
        "query": call.query,
        "headers": call.headers,
        "body": call.body,
        **changes,
    }
    return tc3_verify(
        fields["method"],
        fields["host"],
        fields["path"],
        fields["query"],
        fields["headers"],
        fields["body"],
        secrets={SID: KEY}.get,
        now=T,
    )


def _bad_signature(call: Tc3Call, **changes: Any) -> None:
    with pytest.raises(AuthError) as info:
        _verify(call, **changes)
    assert _errors(info.value) == [
        ("AuthFailure.SignatureFailure", "bad-signature", "authorization")
    ]


def _changed(value: str, position: int, other: str) -> str:
    position %= len(value)
    replacement = other if other != value[position] else chr(ord(other) ^ 1)
    return value[:position] + replacement + value[position + 1 :]


@given(request=valid_requests().map(_plain), data=st.data())
def test_verify_accepts_every_signed_call_and_refuses_any_one_change(
    request: DescribeImagesRequest, data: st.DataObject
) -> None:
    method = data.draw(st.sampled_from(["GET", "POST"]))
    call = _sign(request, method, region=data.draw(st.none() | _HEADER_TEXT))
    assert _verify(call) == SID
    position = data.draw(st.integers(min_value=0, max_value=10_000))
    other = data.draw(st.characters(min_codepoint=0x21, max_codepoint=0x7E))
    if call.body:
        flipped = bytearray(call.body)
        flipped[position % len(flipped)] ^= data.draw(st.integers(min_value=1, max_value=255))
        _bad_signature(call, body=bytes(flipped))
    if call.query:
        _bad_signature(call, query=_changed(call.query, position, other))
    _bad_signature(call, host=_changed(call.host, position, other))
    headers = dict(call.headers)
    content_type = _changed(headers["Content-Type"], position, other)
    _bad_signature(call, headers={**headers, "Content-Type": content_type})
    authorization = headers["Authorization"]
    hex_digits = "0123456789abcdef"
    start, at = len(authorization) - 64, len(authorization) - 64 + position % 64
    step = data.draw(st.integers(min_value=1, max_value=15))
    digit = hex_digits[(hex_digits.index(authorization[at]) + step) % 16]
    flipped_signature = authorization[:at] + digit + authorization[at + 1 :]
    assert len(flipped_signature) == len(authorization) and start <= at
    _bad_signature(call, headers={**headers, "Authorization": flipped_signature})


def test_an_unsigned_payload_does_not_cover_the_body() -> None:
    # spec/README.md §4.7.7: that is what UNSIGNED-PAYLOAD means.
    call = _sign(DescribeImagesRequest(limit=5), "POST", unsigned_payload=True)
    assert _verify(call, body=b'{"Limit": 100}') == SID


def test_a_replay_inside_the_window_is_accepted() -> None:
    # spec/README.md §4.7.7: TC3 has no nonce; the library keeps no replay cache.
    call = _sign(DescribeImagesRequest(), "POST")
    assert _verify(call) == _verify(call) == SID


# --- boundaries ------------------------------------------------------------------------------


def _verify_at(now: float, **kwargs: Any) -> str:
    call = _sign(DescribeImagesRequest(), "POST")
    return tc3_verify(
        call.method, call.host, call.path, call.query, call.headers, call.body,
        secrets={SID: KEY}.get, now=now, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("now", [T - 300, T + 300, T + 299.5, T, T - 0.5])
def test_inside_the_window(now: float) -> None:
    assert _verify_at(now) == SID


@pytest.mark.parametrize("now", [T - 301, T + 301, T + 300.5, T - 300.001])
def test_outside_the_window(now: float) -> None:
    with pytest.raises(AuthError) as info:
        _verify_at(now)
    assert info.value.code == "AuthFailure.SignatureExpire"
    assert info.value.message.startswith(f"X-TC-Timestamp {T} is more than 300 s from ")


def test_max_skew_is_the_window() -> None:
    assert _verify_at(T + 10, max_skew=10) == SID
    with pytest.raises(AuthError):
        _verify_at(T + 11, max_skew=10)
    assert _verify_at(0, max_skew=float("inf")) == SID


@pytest.mark.parametrize(
    ("timestamp", "date"),
    [
        (0, "1970-01-01"),
        (86_399, "1970-01-01"),
        (86_400, "1970-01-02"),
        (MIDNIGHT - 1, "2023-11-14"),
        (MIDNIGHT, "2023-11-15"),
        (951_782_400, "2000-02-29"),
        (MAX_TIMESTAMP, "9999-12-31"),
    ],
)
def test_the_scope_date_is_the_utc_date(timestamp: int, date: str) -> None:
    assert tc3_string_to_sign("", timestamp).split("\n")[2] == f"{date}/cvm/tc3_request"


def test_the_date_in_the_scope_must_be_the_timestamps() -> None:
    call = _sign(DescribeImagesRequest(), "POST", timestamp=MIDNIGHT)
    assert "2023-11-15/cvm" in dict(call.headers)["Authorization"]
    with pytest.raises(AuthError) as info:
        _verify(call)  # now=T: the call is 6,400 s ahead
    assert info.value.code == "AuthFailure.SignatureExpire"


def test_the_service_is_checked_after_the_signature() -> None:
    call = _sign(DescribeImagesRequest(), "POST", service="image")
    with pytest.raises(AuthError) as info:
        _verify(call)
    assert _errors(info.value) == [
        ("AuthFailure.SignatureFailure", "wrong-credential-service", "authorization")
    ]
    assert info.value.message == "the Credential's service is 'image', not 'cvm'"
    hook = make_tc3_verifier({SID: KEY}, service="image")
    with pytest.raises(AuthError) as expired:  # the hook's clock is the real one
        hook(call.method, call.host, call.path, call.query, call.headers, call.body)
    assert expired.value.code == "AuthFailure.SignatureExpire"


# --- tc3_sign ------------------------------------------------------------------------------


def test_tc3_sign_get_is_the_dotted_query_without_action_and_version() -> None:
    request = DescribeImagesRequest(
        filters=(Filter("image-name", ("a b/é",)),), offset=0, limit=10
    )
    call = _sign(request, "GET")
    assert call.query == (
        "Filters.0.Name=image-name&Filters.0.Values.0=a+b%2F%C3%A9&Offset=0&Limit=10"
    )
    assert call.url == f"https://{HOST}/?{call.query}"
    assert call.target == f"/?{call.query}"
    assert dict(call.headers)["Content-Type"] == "application/x-www-form-urlencoded"
    post = _sign(request, "POST")
    assert (post.query, post.url, post.target) == ("", f"https://{HOST}/", "/")
    assert dict(post.headers)["Content-Type"] == "application/json"


def test_tc3_sign_takes_common_values_from_the_request_unless_given() -> None:
    common = {"Region": "ap-guangzhou", "Token": "tok", "Language": "en-US", "RequestClient": "rc"}
    request = DescribeImagesRequest.from_dict(common)
    headers = dict(_sign(request, "POST").headers)
    assert [headers[f"X-TC-{name}"] for name in common] == list(common.values())
    headers = dict(_sign(request, "POST", region="ap-shanghai", token="").headers)
    assert headers["X-TC-Region"] == "ap-shanghai"
    assert "X-TC-Token" not in headers  # empty: not sent, as the SDK does


def test_tc3_sign_validates_the_request() -> None:
    with pytest.raises(RequestError) as info:
        _sign(DescribeImagesRequest(limit=101), "GET")
    assert info.value.code == "InvalidParameterValue.InvalidParameterValueLimit"
    with pytest.raises(WireError) as wire:
        _sign(DescribeImagesRequest(filters=(Filter("image-name", ("\ud800",)),)), "GET")
    assert wire.value.violations[0].reason == "bad-utf8"
    # Common parameters that travel in headers are not the request's rules' business.
    request = DescribeImagesRequest.from_dict({"SignatureMethod": "nope"})
    assert _verify(_sign(request, "GET")) == SID


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("region", "ap\r\nX-Evil: 1", "control-character"),
        ("token", "\udcff", "bad-utf8"),
        ("language", "x" * (MAX_HEADER_LENGTH + 1), "too-large"),
    ],
)
def test_tc3_sign_refuses_header_values_a_verifier_refuses(
    field: str, value: str, reason: str
) -> None:
    with pytest.raises(RequestError) as info:
        _sign(DescribeImagesRequest(), "POST", **{field: value})
    name = {"region": "x-tc-region", "token": "x-tc-token", "language": "x-tc-language"}[field]
    assert _errors(info.value) == [("InvalidParameter", reason, name)]


def test_tc3_sign_post_writes_the_json_body_unless_given_one() -> None:
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",), limit=5)
    call = tc3_sign(request, secret_id=SID, secret_key=KEY, timestamp=T)
    assert call.body == encode_json(request) == b'{"ImageIds": ["img-pmqg1cw7"], "Limit": 5}'
    given = tc3_sign(request, secret_id=SID, secret_key=KEY, timestamp=T, body=b"{}")
    assert given.body == b"{}"
    assert _verify(call) == SID == _verify(given)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"request": {}}, "request must be a DescribeImagesRequest, not dict"),
        ({"method": "PUT"}, "method must be 'GET' or 'POST', not 'PUT'"),
        ({"method": "get"}, "method must be 'GET' or 'POST', not 'get'"),
        ({"timestamp": True}, "timestamp must be an int (Unix seconds), not bool"),
        ({"timestamp": 1.5}, "timestamp must be an int (Unix seconds), not float"),
        (
            {"timestamp": -1},
            "timestamp must be from 0 to 253402300799 (9999-12-31T23:59:59Z): the credential "
            "scope needs its YYYY-MM-DD date",
        ),
        ({"timestamp": MAX_TIMESTAMP + 1}, "timestamp must be from 0 to 253402300799 "),
        ({"timestamp": 10**5000}, "timestamp must be from 0 to 253402300799 "),
        ({"secret_id": ""}, "secret_id must be visible ASCII without ',' or '/'"),
        ({"secret_id": "a/b"}, "secret_id must be visible ASCII without ',' or '/'"),
        ({"secret_id": 1}, "secret_id must be a str, not int"),
        ({"secret_key": b"k"}, "secret_key must be a str, not bytes"),
        ({"secret_key": "\ud800"}, "secret_key is not valid UTF-8 text"),
        ({"service": "CVM"}, "service 'CVM' is not a service name (a-z, 0-9, '-')"),
        ({"host": None}, "host must be a str, not None"),
        ({"path": b"/"}, "path must be a str, not bytes"),
        ({"region": 5}, "region must be a str, not int"),
        ({"unsigned_payload": 1}, "unsigned_payload must be a bool, not int"),
        ({"method": "GET", "body": b"{}"}, "a GET has no body: leave body out"),
        ({"body": "{}"}, "body must be bytes, not str"),
    ],
)
def test_tc3_sign_refuses_misused_arguments(changes: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "secret_id": SID, "secret_key": KEY, "timestamp": T, "body": b"{}", **changes,
    }  # fmt: skip
    request = arguments.pop("request", DescribeImagesRequest())
    with pytest.raises(UsageError) as info:
        tc3_sign(request, **arguments)
    assert str(info.value).startswith(message)


# --- the low-level functions ---------------------------------------------------------------

_FORM = {"Content-Type": "application/x-www-form-urlencoded", "X-TC-Timestamp": str(T)}


def test_canonical_headers_are_sorted_lower_case_and_trimmed() -> None:
    canonical = tc3_canonical_request(
        "POST", " h ", "/", "", [("X-Custom", "\t v  1 "), ("content-TYPE", "ct")], b"",
        signed_headers=["X-Custom", "HOST", "Content-Type"],
    )  # fmt: skip
    assert canonical.split("\n")[3:7] == ["content-type:ct", "host:h", "x-custom:v  1", ""]
    assert canonical.split("\n")[7] == "content-type;host;x-custom"


@pytest.mark.parametrize(
    ("signed", "message"),
    [
        (["host"], "signed_headers must include 'content-type'"),
        (["content-type"], "signed_headers must include 'host'"),
        (["host", "content-type", "Host"], "signed_headers names a header twice"),
        (["host", "content-type", "a b"], "signed_headers holds 'a b', which is not a header name"),
        (["host", "content-type", 1], "signed_headers holds int, which is not a header name"),
        ("content-type;host", "signed_headers must be header names (str), not str"),
    ],
)
def test_signed_headers_argument(signed: Any, message: str) -> None:
    with pytest.raises(UsageError) as info:
        tc3_canonical_request("GET", HOST, "/", "", _FORM, b"", signed_headers=signed)
    assert str(info.value).startswith(message)


def test_low_level_text_problems_are_violations() -> None:
    with pytest.raises(RequestError) as info:
        tc3_canonical_request("GET\n", HOST, "/\ud800", "a\x00", _FORM, "\udcff")
    assert _errors(info.value) == [
        ("InvalidParameter", "bad-utf8", ""),
        ("InvalidParameter", "control-character", ""),
        ("InvalidParameter", "bad-utf8", ""),
        ("InvalidParameter", "control-character", ""),
    ]
    assert [v.message for v in info.value.violations] == [
        "the payload is not valid UTF-8 (a lone surrogate)",
        "the method 'GET\\n' contains a control character",
        "the path '/\\ud800' is not valid UTF-8 (a lone surrogate)",
        "the query 'a\\x00' contains a control character",
    ]
    with pytest.raises(RequestError) as host:
        tc3_canonical_request("GET", "h\nx", "/", "", _FORM, b"")
    assert _errors(host.value) == [("InvalidParameter", "control-character", "host")]


def test_tc3_authorization_reads_the_timestamp_header() -> None:
    def authorization(stamp: str) -> str:
        return tc3_authorization(
            "GET", HOST, "/", "", {**_FORM, "X-TC-Timestamp": stamp}, b"",
            secret_id=SID, secret_key=KEY,
        )  # fmt: skip

    assert authorization(str(T)) == authorization(f"  {T}\t")  # trimmed
    with pytest.raises(RequestError) as info:
        authorization(str(MAX_TIMESTAMP + 1))
    assert _errors(info.value) == [("InvalidParameter", "too-large", "x-tc-timestamp")]
    with pytest.raises(RequestError) as info:
        authorization("9" * 5000)  # never converted
    assert _errors(info.value) == [("InvalidParameter", "too-large", "x-tc-timestamp")]
    with pytest.raises(RequestError) as info:
        authorization("")
    assert _errors(info.value) == [("MissingParameter", "missing-parameter", "x-tc-timestamp")]


# The package as a caller without type checking sees it.
LOOSE: Any = importlib.import_module("describe_images")


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("tc3_string_to_sign", (b"x", T), "canonical_request must be a str, not bytes"),
        ("tc3_string_to_sign", ("x", "1"), "timestamp must be an int (Unix seconds), not str"),
        ("tc3_string_to_sign", ("\ud800", T), "canonical_request and service must be valid"),
        ("tc3_signing_key", ("k", "2023-11-14", "\ud800"), "date and service must be valid"),
        ("tc3_signing_key", ("k", 20231114, "cvm"), "date must be a str, not int"),
        ("tc3_canonical_request", ("GET", HOST, "/", "", "x", b""), "headers must be a"),
        ("tc3_canonical_request", ("GET", HOST, "/", "", [("a", 1)], b""), "headers must be (str"),
        ("tc3_canonical_request", ("GET", HOST, "/", "", _FORM, None), "payload must be bytes"),
    ],
)
def test_low_level_misuse(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(UsageError) as info:
        getattr(LOOSE, name)(*args)
    assert str(info.value).startswith(message)


def test_signing_key_is_the_chain_of_hmacs() -> None:
    def mac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    expected = mac(mac(mac(b"TC3" + KEY.encode(), "2023-11-14"), "cvm"), "tc3_request")
    assert tc3_signing_key(KEY, "2023-11-14") == expected


# --- verification: hostile input and misuse ------------------------------------------------


def _signed_headers_of(call: Tc3Call) -> dict[str, str]:
    return dict(call.headers)


def _refused(headers: Any, body: bytes = b"{}") -> list[tuple[str, str, str]]:
    with pytest.raises(AuthError) as info:
        tc3_verify("POST", HOST, "/", "", headers, body, secrets={SID: KEY}.get, now=T)
    return _errors(info.value)


def test_too_many_headers_are_refused_before_they_are_read() -> None:
    call = _sign(DescribeImagesRequest(), "POST")
    padding = [(f"x-pad-{i}", "v") for i in range(MAX_HEADERS - len(call.headers))]
    assert _verify(call, headers=[*call.headers, *padding]) == SID

    def endless() -> Iterator[tuple[str, str]]:
        yield from call.headers
        while True:
            yield ("x-pad", "v")

    assert _refused(endless()) == [("InvalidParameter", "too-large", "")]


def test_huge_and_hostile_header_values() -> None:
    headers = _signed_headers_of(_sign(DescribeImagesRequest(), "POST"))
    huge = {**headers, "Authorization": "x" * (MAX_HEADER_LENGTH + 1)}
    assert _refused(huge) == [("InvalidParameter", "too-large", "authorization")]
    exact = {**headers, "Authorization": "x" * MAX_HEADER_LENGTH}
    assert _refused(exact) == [
        ("AuthFailure.InvalidAuthorization", "bad-authorization", "authorization")
    ]
    assert _refused({**headers, "Authorization": "TC3\ud800"}) == [
        ("InvalidParameter", "bad-utf8", "authorization")
    ]
    assert _refused({**headers, "X-TC-Timestamp": "1\x00"}) == [
        ("InvalidParameter", "control-character", "x-tc-timestamp")
    ]
    assert _refused({**headers, "Content-Type": "\udcff"}) == [
        ("InvalidParameter", "bad-utf8", "content-type")
    ]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("TC3-HMAC-SHA256", "the Authorization header has '' where Credential=, "),
        ("HMAC x", "the Authorization algorithm is 'HMAC', not 'TC3-HMAC-SHA256'"),
        ("TC3-HMAC-SHA256 Credential=a, Credential=b", "the Authorization header gives Cred"),
        ("TC3-HMAC-SHA256 Credential=a", "the Authorization header has no SignedHeaders"),
        ("TC3-HMAC-SHA256 Credential=é", "the Authorization header is not printable ASCII"),
    ],
)
def test_malformed_authorization_messages(authorization: str, message: str) -> None:
    headers = {**_FORM, "Authorization": authorization}
    with pytest.raises(AuthError) as info:
        tc3_verify("GET", HOST, "/", "", headers, b"", secrets={SID: KEY}.get, now=T)
    assert info.value.code == "AuthFailure.InvalidAuthorization"
    assert info.value.message.startswith(message)


@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                ["Authorization", "X-TC-Timestamp", "Content-Type", "X-TC-Content-SHA256", "x"]
            )
            | st.text(max_size=5),
            st.text(max_size=80)
            | st.sampled_from(["TC3-HMAC-SHA256 ", "Credential=", ", ", "Signature=", "/"]),
        ),
        max_size=8,
    ),
    body=st.binary(max_size=20),
    query=st.text(max_size=10),
    host=st.text(max_size=10),
)
def test_hostile_calls_get_only_library_errors(
    headers: list[tuple[str, str]], body: bytes, query: str, host: str
) -> None:
    outcome: object
    try:
        outcome = tc3_verify("POST", host, "/", query, headers, body, secrets={SID: KEY}.get, now=T)
    except DescribeImagesError as exc:
        outcome = exc
    # Only an AuthError with its violations, or (by chance) a verified SecretId.
    assert (isinstance(outcome, AuthError) and outcome.violations) or outcome == SID


def test_a_secret_for_a_secret_id_with_a_5000_digit_timestamp_is_expired_not_converted() -> None:
    stamp = "9" * 5000
    headers = {**_FORM, "X-TC-Timestamp": stamp}
    canonical = tc3_canonical_request("GET", HOST, "/", "", headers, b"")
    scope = "2023-11-14/cvm/tc3_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    string = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    signature = SDK_SIGN.sign_tc3(KEY, "2023-11-14", "cvm", string)
    authorization = (
        f"TC3-HMAC-SHA256 Credential={SID}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}"
    )
    with pytest.raises(AuthError) as info:
        tc3_verify(
            "GET", HOST, "/", "", {**headers, "Authorization": authorization}, b"",
            secrets={SID: KEY}.get, now=T, max_skew=float("inf"),
        )  # fmt: skip
    # Even with no window the date cannot match: 10**18 has no YYYY-MM-DD date.
    assert _errors(info.value) == [
        ("AuthFailure.SignatureFailure", "wrong-credential-date", "authorization")
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": None}, "method must be a str, not None"),
        ({"host": 1}, "host must be a str, not int"),
        ({"query": b""}, "query must be a str, not bytes"),
        ({"headers": None}, "headers must be a mapping or (name, value) pairs of str, not None"),
        ({"headers": [("a", "b", "c")]}, "headers must be (str, str) pairs, not (str, str, str)"),
        ({"body": "{}"}, "body must be bytes, not str"),
        ({"secrets": {}}, "secrets must be a function SecretId -> SecretKey, not dict"),
        ({"now": float("nan")}, "now must be a finite number"),
        ({"max_skew": -1}, "max_skew must be"),
        ({"service": None}, "service must be a str, not None"),
    ],
)
def test_tc3_verify_refuses_misused_arguments(changes: dict[str, Any], message: str) -> None:
    call = _sign(DescribeImagesRequest(), "POST")
    arguments: dict[str, Any] = {
        "method": call.method, "host": call.host, "path": call.path, "query": call.query,
        "headers": call.headers, "body": call.body, "secrets": {SID: KEY}.get, "now": T,
        **changes,
    }  # fmt: skip
    with pytest.raises(UsageError) as info:
        tc3_verify(**arguments)
    assert str(info.value).startswith(message)


def test_a_secrets_function_returning_a_bad_key_is_misuse() -> None:
    call = _sign(DescribeImagesRequest(), "POST")
    with pytest.raises(UsageError) as info:
        tc3_verify(
            call.method, call.host, call.path, call.query, call.headers, call.body,
            secrets=lambda _: b"key", now=T,  # type: ignore[arg-type, return-value]  # on purpose
        )  # fmt: skip
    assert str(info.value) == (
        f"the SecretKey secrets returned for {SID!r} must be a str, not bytes"
    )


def test_the_signature_is_compared_in_constant_time() -> None:
    call = _sign(DescribeImagesRequest(), "POST")
    authorization = dict(call.headers)["Authorization"]
    with mock.patch("describe_images._tc3.hmac.compare_digest", return_value=True) as compare:
        headers = {**dict(call.headers), "Authorization": authorization[:-1] + "x"}
        with contextlib.suppress(AuthError):
            _verify(call, headers=headers)
    assert compare.call_count == 0  # refused by the grammar first: 'x' is not hex
    wrong = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    with mock.patch("describe_images._tc3.hmac.compare_digest", return_value=True) as compare:
        # The patched comparison decides: nothing else compares the signature.
        assert _verify(call, headers={**dict(call.headers), "Authorization": wrong}) == SID
    assert compare.call_count == 1


def test_make_tc3_verifier() -> None:
    with pytest.raises(UsageError, match="credentials must be a mapping"):
        make_tc3_verifier([(SID, KEY)])  # type: ignore[arg-type]  # on purpose
    with pytest.raises(UsageError, match="credentials map a SecretId"):
        make_tc3_verifier({1: KEY})  # type: ignore[dict-item]  # on purpose
    with pytest.raises(UsageError, match="the SecretKey of"):
        make_tc3_verifier({SID: None})  # type: ignore[dict-item]  # on purpose
    credentials = {SID: KEY}
    hook = make_tc3_verifier(credentials, max_skew=float("inf"))
    credentials[SID] = "changed"  # copied
    call = _sign(DescribeImagesRequest(), "GET")
    assert hook(call.method, call.host, call.path, call.query, call.headers, call.body) == SID


@given(
    request=hostile_requests() | any_requests(),
    method=st.sampled_from(["GET", "POST"]),
    region=st.none() | st.text(max_size=10),
)
def test_tc3_sign_of_any_request_gives_a_call_or_a_library_error(
    request: DescribeImagesRequest, method: str, region: str | None
) -> None:
    outcome: object
    try:
        outcome = _sign(request, method, region=region) if method == "GET" else tc3_sign(
            request, secret_id=SID, secret_key=KEY, timestamp=T, region=region, body=b"{}"
        )
    except DescribeImagesError as exc:
        outcome = exc
    if isinstance(outcome, Tc3Call):
        assert _verify(outcome) == SID
    else:
        assert isinstance(outcome, RequestError) and outcome.violations


def test_a_get_query_over_the_cap_is_refused() -> None:
    values = tuple("n" * 3000 for _ in range(5))
    request = DescribeImagesRequest(
        filters=tuple(Filter("image-name", values) for _ in range(5))
    )
    with pytest.raises(WireError) as info:
        _sign(request, "GET")
    assert _errors(info.value) == [("InvalidParameter", "too-large", "")]
    assert info.value.message.startswith("the query is 75")


def test_a_method_path_or_query_a_canonical_request_cannot_carry_is_refused() -> None:
    call = _sign(DescribeImagesRequest(), "GET")
    with pytest.raises(AuthError) as info:
        _verify(call, method="GET\n", path="/\udc80")
    assert _errors(info.value) == [
        ("InvalidParameter", "control-character", ""),
        ("InvalidParameter", "bad-utf8", ""),
    ]


# --- pinned details (from mutation runs) -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("tc3_string_to_sign", ("x", T, 5), "service must be a str, not int"),
        ("tc3_string_to_sign", ("x", T, "\ud800"),
         "canonical_request and service must be valid UTF-8 text"),
        ("tc3_signing_key", (5, "2023-11-14"), "secret_key must be a str, not int"),
        ("tc3_signing_key", ("k", "2023-11-14", 5), "service must be a str, not int"),
        ("tc3_signing_key", ("k", "\ud800"), "date and service must be valid UTF-8 text"),
    ],
)  # fmt: skip
def test_low_level_misuse_messages(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(UsageError) as info:
        getattr(LOOSE, name)(*args)
    assert str(info.value) == message


@pytest.mark.parametrize("name", ["token", "language", "request_client"])
def test_tc3_sign_names_a_header_argument_of_the_wrong_type(name: str) -> None:
    with pytest.raises(UsageError) as info:
        LOOSE.tc3_sign(DescribeImagesRequest(), secret_id=SID, secret_key=KEY, **{name: 5})
    assert str(info.value) == f"{name} must be a str, not int"


def test_tc3_sign_raises_a_plain_request_error_for_a_rule() -> None:
    # A WireError only when every problem is one the wire cannot carry.
    with pytest.raises(RequestError) as info:
        _sign(DescribeImagesRequest(limit=101), "GET")
    assert type(info.value) is RequestError


def _image_names(size: int) -> DescribeImagesRequest:
    """A valid request whose GET query (without Action and Version) is ``size`` bytes:
    10 image-name filters of 5 values, "n" repeated (each character one byte)."""
    lengths = [1] * 50
    shortest = DescribeImagesRequest(
        filters=tuple(Filter("image-name", ("n",) * 5) for _ in range(10))
    )
    missing = size - len(_sign(shortest, "GET").query)
    for i in range(50):
        grow = min(missing, 4095)
        lengths[i] += grow
        missing -= grow
    assert missing == 0
    values = ["n" * length for length in lengths]
    return DescribeImagesRequest(
        filters=tuple(Filter("image-name", tuple(values[i : i + 5])) for i in range(0, 50, 5))
    )


def test_a_get_query_of_exactly_the_cap_is_sent() -> None:
    request = _image_names(65_536)
    call = _sign(request, "GET")
    assert len(call.query) == 65_536
    assert _verify(call) == SID
    longer = _image_names(65_537)
    with pytest.raises(WireError) as info:
        _sign(longer, "GET")
    assert info.value.message == (
        "the query is 65537 bytes; at most 65536 are allowed (max_query_bytes)"
    )


def _by_hand(stamp: str, date: str, service: str = "cvm") -> list[tuple[str, str]]:
    """Headers of a GET signed over ``stamp`` as sent and the scope ``date``/``service``,
    whatever they are (tc3_sign refuses such a timestamp)."""
    headers = {**_FORM, "X-TC-Timestamp": stamp}
    canonical = tc3_canonical_request("GET", HOST, "/", "", headers, b"")
    scope = f"{date}/{service}/tc3_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    string = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    signature = SDK_SIGN.sign_tc3(KEY, date, service, string)
    authorization = (
        f"TC3-HMAC-SHA256 Credential={SID}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}"
    )
    return [*headers.items(), ("Authorization", authorization)]


def _refused_at(headers: list[tuple[str, str]], now: float) -> AuthError:
    with pytest.raises(AuthError) as info:
        tc3_verify("GET", HOST, "/", "", headers, b"", secrets={SID: KEY}.get, now=now)
    return info.value


def test_after_the_signature_messages_cut_the_timestamp_at_40_characters() -> None:
    error = _refused_at(_by_hand("x" * 41, "2023-11-14"), T)
    assert error.message == (
        f"X-TC-Timestamp is {'x' * 40!r}; it must be an unsigned decimal integer (Unix seconds)"
    )
    padded = "0" * 31 + str(T)  # 41 characters, the value T
    error = _refused_at(_by_hand(padded, "2023-11-15"), T)
    assert error.message == (
        f"the Credential's date 2023-11-15 is not the UTC date of X-TC-Timestamp {padded[:40]} "
        "(2023-11-14)"
    )


def test_a_timestamp_after_9999_has_no_date() -> None:
    stamp = str(MAX_TIMESTAMP + 1)
    error = _refused_at(_by_hand(stamp, "9999-12-31"), MAX_TIMESTAMP + 1)
    assert error.message == (
        f"the Credential's date 9999-12-31 is not the UTC date of X-TC-Timestamp {stamp} "
        "(after 9999-12-31)"
    )


def test_the_last_second_with_a_date_is_verified() -> None:
    call = _sign(DescribeImagesRequest(), "GET", timestamp=MAX_TIMESTAMP)
    assert "9999-12-31/cvm" in dict(call.headers)["Authorization"]
    assert tc3_verify(
        call.method, call.host, call.path, call.query, call.headers, call.body,
        secrets={SID: KEY}.get, now=MAX_TIMESTAMP,
    ) == SID  # fmt: skip


def test_a_long_credential_service_is_cut_in_the_message() -> None:
    call = _sign(DescribeImagesRequest(), "POST", service="a" * 41)
    with pytest.raises(AuthError) as info:
        _verify(call)
    assert info.value.message == f"the Credential's service is {'a' * 40!r}, not 'cvm'"


def test_make_tc3_verifier_checks_its_service() -> None:
    with pytest.raises(UsageError) as info:
        make_tc3_verifier({SID: KEY}, service=5)  # type: ignore[arg-type]  # on purpose
    assert str(info.value) == "service must be a str, not int"
    hook = make_tc3_verifier({SID: KEY}, max_skew=float("inf"), service="image")
    call = _sign(DescribeImagesRequest(), "GET", service="image")
    assert hook(call.method, call.host, call.path, call.query, call.headers, call.body) == SID


_SCOPE = f"{SID}/2023-11-14/cvm/tc3_request"
_HEX = "0" * 64


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("A" * 41 + " x", f"the Authorization algorithm is {'A' * 40!r}, not 'TC3-HMAC-SHA256'"),
        ("TC3-HMAC-SHA256 " + "B" * 41,
         f"the Authorization header has {'B' * 40!r} where Credential=, SignedHeaders= or "
         "Signature= belongs"),
        ("TC3-HMAC-SHA256 XSignature=a",
         "the Authorization header has 'XSignature=a' where Credential=, SignedHeaders= or "
         "Signature= belongs"),
        (f"TC3-HMAC-SHA256 Credential=a=b, SignedHeaders=content-type;host, Signature={_HEX}",
         "the Credential 'a=b' is not <SecretId>/<YYYY-MM-DD>/<service>/tc3_request"),
        (f"TC3-HMAC-SHA256 Credential={_SCOPE}, SignedHeaders={'H' * 81}, Signature={_HEX}",
         f"SignedHeaders {'H' * 80!r} are not lower-case header names in ascending order, "
         "each once, joined by ';'"),
        (f"TC3-HMAC-SHA256 Credential={_SCOPE}, SignedHeaders=content-type;host, Signature=x",
         "the Signature is not 64 lower-case hex digits"),
        (f"TC3-HMAC-SHA256 Credential={_SCOPE}, SignedHeaders=host;{'x' * 80}, Signature={_HEX}",
         f"SignedHeaders must include 'content-type' (they are {'host;' + 'x' * 75!r})"),
        (f"TC3-HMAC-SHA256 Credential={'A' * 65}/2023-11-14/cvm/tc3_request, "
         f"SignedHeaders=content-type;host, Signature={_HEX}",
         f"SecretId {'A' * 64!r} is not known"),
        (f"TC3-HMAC-SHA256 Credential={_SCOPE}, SignedHeaders=content-type;host, Signature={_HEX}",
         "the signature does not match the call (check the SecretKey, the method, host, path, "
         "query, signed headers and body, and the credential scope)"),
        ("", "the call is not signed: the Authorization header is missing or empty"),
        ("x" * (MAX_HEADER_LENGTH + 1),
         "the header 'authorization' is 8193 characters long; at most 8192 are allowed "
         "(MAX_HEADER_LENGTH)"),
    ],
)  # fmt: skip
def test_verification_messages(authorization: str, message: str) -> None:
    headers = {**_FORM, "Authorization": authorization}
    with pytest.raises(AuthError) as info:
        tc3_verify("GET", HOST, "/", "", headers, b"", secrets={SID: KEY}.get, now=T)
    assert [v.message for v in info.value.violations] == [message]


def test_a_content_sha256_header_sent_twice_is_refused() -> None:
    headers = [*_FORM.items(), ("X-TC-Content-SHA256", "a"), ("x-tc-content-sha256", "b")]
    with pytest.raises(RequestError) as info:
        tc3_canonical_request("GET", HOST, "/", "", headers, b"")
    assert _errors(info.value) == [("InvalidParameter", "duplicate-key", "x-tc-content-sha256")]
    call = _sign(DescribeImagesRequest(), "GET")
    with pytest.raises(AuthError) as refused:
        _verify(call, headers=[*call.headers, *headers[2:]])
    assert _errors(refused.value) == [
        ("InvalidParameter", "duplicate-key", "x-tc-content-sha256")
    ]


@pytest.mark.parametrize(
    ("position", "message"),
    [(0, "method must be a str, not int"), (1, "host must be a str, not int"),
     (3, "query must be a str, not int")],
)  # fmt: skip
def test_canonical_request_names_an_argument_of_the_wrong_type(position: int, message: str) -> None:
    args: list[Any] = ["GET", HOST, "/", "", _FORM, b""]
    args[position] = 5
    with pytest.raises(UsageError) as info:
        LOOSE.tc3_canonical_request(*args)
    assert str(info.value) == message


def test_tc3_verify_names_a_path_of_the_wrong_type() -> None:
    with pytest.raises(UsageError) as info:
        LOOSE.tc3_verify("GET", HOST, 5, "", _FORM, b"", secrets={SID: KEY}.get)
    assert str(info.value) == "path must be a str, not int"


def _authorization(headers: Any, **kwargs: Any) -> str:
    authorization: str = LOOSE.tc3_authorization(
        "GET", HOST, "/", "", headers, b"", secret_id=SID, secret_key=KEY, **kwargs
    )
    return authorization


def test_tc3_authorization_reads_the_timestamp_header_exactly() -> None:
    assert "Credential=" + SID + "/9999-12-31/cvm/tc3_request" in _authorization(
        {**_FORM, "X-TC-Timestamp": str(MAX_TIMESTAMP)}
    )
    with pytest.raises(RequestError) as info:
        _authorization([*_FORM.items(), ("X-TC-Timestamp", str(T))])
    assert _errors(info.value) == [("InvalidParameter", "duplicate-key", "x-tc-timestamp")]
    with pytest.raises(RequestError) as info:
        _authorization({**_FORM, "X-TC-Timestamp": "x" * 41})
    assert info.value.message == (
        f"X-TC-Timestamp is {'x' * 40!r}; it must be an unsigned decimal integer"
    )
    late = "0" * 30 + str(MAX_TIMESTAMP + 1)
    with pytest.raises(RequestError) as info:
        _authorization({**_FORM, "X-TC-Timestamp": late})
    assert described_tc3(info.value) == [
        ("too-large", "x-tc-timestamp",
         f"X-TC-Timestamp {late[:40]} is after 9999-12-31T23:59:59Z (no YYYY-MM-DD date); "
         "at most 253402300799 are allowed (MAX_TIMESTAMP)"),
    ]  # fmt: skip


def described_tc3(error: RequestError) -> list[tuple[str, str, str]]:
    return [(v.reason, v.path, v.message) for v in error.violations]


def test_tc3_authorization_misuse_messages() -> None:
    with pytest.raises(UsageError) as info:
        _authorization(_FORM, service=5)
    assert str(info.value) == "service must be a str, not int"
    with pytest.raises(UsageError) as info:
        _authorization(_FORM, signed_headers=["host"])
    assert str(info.value) == (
        "signed_headers must include 'content-type': a server refuses a signature that does "
        "not cover content-type and host (spec/README.md §4.7.4)"
    )


def test_one_header_past_the_cap_is_refused_with_its_message() -> None:
    call = _sign(DescribeImagesRequest(), "POST")
    padding = [(f"x-pad-{i}", "v") for i in range(MAX_HEADERS + 1 - len(call.headers))]
    with pytest.raises(AuthError) as info:
        _verify(call, headers=[*call.headers, *padding])
    assert described_tc3(info.value) == [
        ("too-large", "", "the request has more than 256 headers; at most 256 are allowed "
         "(MAX_HEADERS)"),
    ]  # fmt: skip


def test_headers_of_the_wrong_type_are_named() -> None:
    with pytest.raises(UsageError) as info:
        LOOSE.tc3_verify("GET", HOST, "/", "", 5, b"", secrets={SID: KEY}.get)
    assert str(info.value) == "headers must be a mapping or (name, value) pairs of str, not int"


def test_a_long_malformed_credential_is_cut_at_80_characters() -> None:
    credential = "C" * 81
    headers = {
        **_FORM,
        "Authorization": f"TC3-HMAC-SHA256 Credential={credential}, "
        f"SignedHeaders=content-type;host, Signature={_HEX}",
    }
    with pytest.raises(AuthError) as info:
        tc3_verify("GET", HOST, "/", "", headers, b"", secrets={SID: KEY}.get, now=T)
    assert info.value.message == (
        f"the Credential {'C' * 80!r} is not <SecretId>/<YYYY-MM-DD>/<service>/tc3_request"
    )


def test_only_spaces_and_tabs_are_trimmed_from_a_header() -> None:
    # Other whitespace is text: a line break is a control character, a no-break space is
    # part of the value (spec/README.md §4.7.5).
    headers = _signed_headers_of(_sign(DescribeImagesRequest(), "POST"))
    for end in ("\n", "\r", "\x1f", "\x0b"):
        assert _refused({**headers, "X-TC-Timestamp": f" {T}{end}"}) == [
            ("InvalidParameter", "control-character", "x-tc-timestamp")
        ]
    canonical = tc3_canonical_request(
        "GET", HOST, "/", "", {"Content-Type": " \tapplication/json\u00a0\t "}, b""
    )
    assert canonical.split("\n")[3] == "content-type:application/json\u00a0"
