"""API 3.0 JSON request bodies (describe_images._json, spec/README.md §2.10): the
vectors, the official SDK as an oracle for the writer, one verdict whatever the door, and
hostile bodies."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tencentcloud.cvm.v20170312 import (  # type: ignore[import-untyped]  # the SDK has no types
    models as sdk_models,
)

from describe_images import (
    DEFAULT_LIMITS,
    CommonParams,
    DescribeImagesError,
    DescribeImagesRequest,
    Filter,
    RequestError,
    UsageError,
    WireLimits,
    _json,
    decode_json_request,
    decode_request,
    encode_json,
    encode_query,
)
from describe_images._errors import REASONS
from describe_images._model import value_problems
from tests.strategies import any_requests, hostile_requests, invalid_requests, valid_requests
from tests.vectorfiles import text

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors" / "json.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text("utf-8"))["cases"]

Found = list[tuple[str, str, str]]


def found(body: object, **kwargs: Any) -> Found:
    """The (code, reason, path) of every violation decoding ``body`` gives."""
    with pytest.raises(RequestError) as info:
        decode_json_request(body, **kwargs)  # type: ignore[arg-type]  # any input, on purpose
    return [(v.code, v.reason, v.path) for v in info.value.violations]


def messages(body: object, **kwargs: Any) -> list[str]:
    with pytest.raises(RequestError) as info:
        decode_json_request(body, **kwargs)  # type: ignore[arg-type]  # any input, on purpose
    return [v.message for v in info.value.violations]


# --- spec/vectors/json.json ------------------------------------------------------------------


def case_inputs(case: dict[str, Any]) -> list[str | bytes]:
    if "body_hex" in case:
        return [bytes.fromhex(case["body_hex"])]
    body = text(case["body"])
    return [body, body.encode("utf-8")]


def exact_integers(shape: dict[str, Any]) -> dict[str, Any]:
    """A request's JSON shape with Offset or Limit beyond 2^53 - 1, written as a decimal
    string in the vector file (spec/README.md §Vector files, "Numbers"), read as the int."""
    return {
        name: int(value) if name in ("Offset", "Limit") and isinstance(value, str) else value
        for name, value in shape.items()
    }


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_json_vector(case: dict[str, Any]) -> None:
    limits = dataclasses.replace(DEFAULT_LIMITS, **case.get("limits", {}))
    common = DescribeImagesRequest.from_dict(case["common"]).common if "common" in case else None
    # Every body holds as text and as its UTF-8 bytes.
    for body in case_inputs(case):
        if "errors" in case:
            expected = [(e["code"], e["reason"], e["path"]) for e in case["errors"]]
            assert found(body, common=common, limits=limits) == expected
            continue
        request = decode_json_request(body, common=common, limits=limits)
        assert request.to_dict() == exact_integers(case["request"])
        assert DescribeImagesRequest.from_dict(exact_integers(case["request"])) == request
        if case.get("encoded"):
            assert encode_json(request) == text(case["body"]).encode("ascii")
        # One request, one verdict: its query form decodes to it too (the default caps: a
        # query has two pairs more, Action and Version, and other bytes).
        assert decode_request(encode_query(request)) == request


def test_vectors_cover_every_kind() -> None:
    reasons = {e["reason"] for case in CASES for e in case.get("errors", [])}
    assert reasons >= {
        "bad-json", "bad-utf8", "too-large", "too-deep", "duplicate-key", "control-character",
        "wrong-type", "unknown-parameter", "invalid-limit", "invalid-offset",
        "coexist-imageids-filters", "unsupported-action", "not-an-integer",
    }  # fmt: skip
    for case in CASES:
        for error in case.get("errors", []):
            assert REASONS[error["reason"]] == error["code"], case["id"]
    assert sum("request" in case for case in CASES) >= 15
    assert sum(bool(case.get("encoded")) for case in CASES) >= 4


# --- decoding: what users read ---------------------------------------------------------------


def test_seed_example_and_common() -> None:
    common = CommonParams(region="ap-guangzhou", timestamp="1465185768")
    request = decode_json_request(b'{"ImageIds": ["img-pmqg1cw7"]}', common=common)
    assert request == DescribeImagesRequest(image_ids=("img-pmqg1cw7",), common=common)
    assert decode_json_request("{}") == DescribeImagesRequest()
    assert decode_json_request(bytearray(b"{}")) == DescribeImagesRequest()
    assert decode_json_request(memoryview(b'{"Limit": 5}')) == DescribeImagesRequest(limit=5)


def test_document_messages() -> None:
    assert messages("{") == [
        "the body is not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    ]
    assert messages('{"Limit": NaN}') == ["the body is not JSON: NaN is not a JSON value"]
    assert messages(b'{"a": "\xff"}') == ["the body is not valid UTF-8 (byte 0xff at offset 7)"]
    assert messages("[" * 9) == [
        "the body nests 9 containers deep; at most 8 are allowed (max_depth)"
    ]
    limits = WireLimits(max_query_bytes=3)
    assert messages("{ }  ", limits=limits) == [
        "the body is 5 bytes; at most 3 are allowed (max_query_bytes)"
    ]
    assert messages('{"ImageIds": ["a", "b"]}', limits=WireLimits(max_pairs=1)) == [
        "the body has more than 1 values; at most 1 are allowed (max_pairs)"
    ]
    assert messages('{"Limit": 5, "Limit": 6}') == ["the member 'Limit' is sent twice"]
    assert messages('{"Offset": -' + "1" * 4096 + "}") == [
        "Offset is an integer of 4096 digits; at most 4096 are allowed (max_value_length)"
    ]
    assert messages('{"A\\u0007": 1}') == [
        "the member name 'A\\x07' contains a control character (U+0000-U+001F or U+007F)"
    ]
    assert messages('{"\\udc80x": 1}') == ["the key '\\udc80x' is not valid UTF-8"]
    assert messages('{"' + "A" * 129 + '": 1}')[0].startswith("the path 'AAAA")
    assert messages('{"' + "A" * 129 + '": 1}')[0].endswith(
        "is 129 characters long; at most 128 are allowed (max_key_length)"
    )


def test_placing_messages() -> None:
    assert messages("[]") == ["the body must be a JSON object, not an array"]
    assert messages("5") == ["the body must be a JSON object, not a number"]
    assert messages("true") == ["the body must be a JSON object, not a bool"]
    assert messages("null") == ["the body must be a JSON object, not null"]
    assert messages('"x"') == ["the body must be a JSON object, not a string"]
    assert messages(5) == ["the body must be bytes or str, not int"]
    assert messages(None) == ["the body must be bytes or str, not NoneType"]
    assert messages('{"Limit": null, "Offset": 1.5, "ImageIds": [null]}') == [
        "Limit must be an integer, not a null",
        "Offset must be an integer, not a number",
        "ImageIds.0 must be a string, not a null",
    ]
    assert messages('{"Filters": [{"Name": "image-type", "Values": null}]}') == [
        "Filters.0.Values must be a list of strings, not a null"
    ]
    assert messages(
        '{"Region": "x", "Nonce": 1, "InstanceType": "S5", "imageIds": [], "Zz": 1}'
    ) == [
        "unknown parameter Region: an API 3.0 body carries only the action's parameters; "
        "Region is sent in the X-TC-Region header",
        "unknown parameter Nonce: it belongs to the legacy v1 signature; an API 3.0 call is "
        "signed in its Authorization header",
        "unknown parameter InstanceType: a member of API 3.0's DescribeImages model, not a "
        "parameter of Version 2017-03-12, which this library implements",
        "unknown parameter imageIds; did you mean ImageIds?",
        "unknown parameter Zz",
    ]
    # A suggestion that is itself not a body member is not offered.
    assert messages('{"region": "x"}') == ["unknown parameter region"]


def test_released_memoryview() -> None:
    view = memoryview(b"{}")
    view.release()
    assert messages(view) == ["the body must be bytes or str, not a released memoryview"]


def test_memoryview_size_is_its_bytes() -> None:
    wide = memoryview(bytearray(b"{}  ")).cast("H")  # 2 items, 4 bytes
    assert found(wide, limits=WireLimits(max_query_bytes=3)) == [
        ("InvalidParameter", "too-large", "")
    ]
    assert (
        decode_json_request(wide, limits=WireLimits(max_query_bytes=4)) == DescribeImagesRequest()
    )


def test_text_is_measured_in_utf8_bytes() -> None:
    body = '{"Filters": [{"Name": "image-name", "Values": ["中"]}]}'
    size = len(body.encode("utf-8"))
    assert len(body) < size
    assert decode_json_request(body, limits=WireLimits(max_query_bytes=size)).filters[0].values == (
        "中",
    )
    assert found(body, limits=WireLimits(max_query_bytes=size - 1)) == [
        ("InvalidParameter", "too-large", "")
    ]
    # A raw lone surrogate in text counts as its three bytes, and is bad-utf8 at its path.
    lone = '{"ImageIds": ["\udc80"]}'
    assert found(lone) == [("InvalidParameter", "bad-utf8", "ImageIds.0")]
    assert found(lone, limits=WireLimits(max_query_bytes=len(lone) + 1)) == [
        ("InvalidParameter", "too-large", "")
    ]


def test_depth_counts_only_brackets_outside_strings() -> None:
    limits = WireLimits(max_depth=1)
    assert found('{"Zz": "[[{{"}', limits=limits) == [
        ("UnknownParameter", "unknown-parameter", "Zz")
    ]
    assert found('{"Zz": "\\"[[", "Y": "\\\\"}', limits=limits) == [
        ("UnknownParameter", "unknown-parameter", "Zz"),
        ("UnknownParameter", "unknown-parameter", "Y"),
    ]
    assert found('{"Zz": "\\\\", "Y": [1]}', limits=limits) == [
        ("InvalidParameter", "too-deep", "")
    ]
    assert found('{"Zz": {}}', limits=limits) == [("InvalidParameter", "too-deep", "")]
    # Closers before openers: the parser stops at the first, as deep as the count says.
    assert found("{}]]]][[", limits=limits) == [("InvalidParameter", "bad-json", "")]
    assert found("]{}", limits=limits) == [("InvalidParameter", "bad-json", "")]


def test_a_deep_stack_is_never_a_recursion_error() -> None:
    limits = WireLimits(max_depth=10**6, max_query_bytes=10**7)
    body = "[" * 200_000 + "]" * 200_000
    assert found(body, limits=limits) == [("InvalidParameter", "too-deep", "")]


def test_integers_any_size() -> None:
    assert decode_json_request('{"Offset": 9223372036854775807}').offset == 2**63 - 1
    digits = "9" * 4096
    assert found(f'{{"Offset": {digits}}}') == [
        ("InvalidParameterValue", "invalid-offset", "Offset")
    ]
    assert found(f'{{"Offset": {digits}9}}') == [("InvalidParameter", "too-large", "Offset")]
    # Above Python's 4,300-digit limit: never converted, whatever max_value_length allows.
    long = "1" * 5000
    limits = WireLimits(max_value_length=10_000)
    assert found(f'{{"Limit": {long}}}', limits=limits) == [
        ("InvalidParameter", "too-large", "Limit")
    ]
    assert messages(f'{{"Limit": {long}}}', limits=limits) == [
        "Limit is an integer of 5000 digits; at most 4185 are allowed (max_value_length)"
    ]
    # 4,185 digits are converted, then judged by value_problems like a value built in code.
    assert found('{"Limit": ' + "1" * 4185 + "}", limits=limits)[0][1] in {
        "invalid-limit",
        "too-large",
    }
    assert found('{"Limit": ' + "1" * 4000 + "}", limits=limits) == [
        ("InvalidParameterValue.InvalidParameterValueLimit", "invalid-limit", "Limit")
    ]


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="Python 3.11+")
def test_a_lowered_int_digit_limit_is_too_large_not_a_value_error() -> None:
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        assert found('{"Offset": ' + "1" * 700 + "}") == [
            ("InvalidParameter", "too-large", "Offset")
        ]
        assert found('{"Offset": ' + "1" * 600 + "}") == [
            ("InvalidParameterValue", "invalid-offset", "Offset")
        ]
    finally:
        sys.set_int_max_str_digits(before)


def test_common_parameters_are_checked_with_the_rules() -> None:
    assert found("{}", common=CommonParams(action="DescribeInstances")) == [
        ("InvalidAction", "unsupported-action", "Action")
    ]
    assert found('{"Limit": 101}', common=CommonParams(signature_method="MD5")) == [
        ("InvalidParameterValue", "unsupported-signature-method", "SignatureMethod"),
        ("InvalidParameterValue.InvalidParameterValueLimit", "invalid-limit", "Limit"),
    ]
    assert found("{}", common=CommonParams(region="a\x00")) == [
        ("InvalidParameter", "control-character", "Region")
    ]
    assert found("{}", common="Region=x") == [("InvalidParameter", "wrong-type", "")]


def test_limits_must_be_wire_limits() -> None:
    with pytest.raises(UsageError, match=r"^limits must be a WireLimits, not dict$"):
        decode_json_request("{}", limits={})  # type: ignore[arg-type]  # on purpose
    with pytest.raises(UsageError, match=r"^limits must be a WireLimits, not int$"):
        encode_json(DescribeImagesRequest(), limits=5)  # type: ignore[arg-type]  # on purpose


# --- writing: the official SDK's body ---------------------------------------------------------


def sdk_body(request: DescribeImagesRequest) -> bytes:
    """What tencentcloud-sdk-python sends for ``request`` on its TC3 POST path: its model
    deserialised from the request's JSON shape, serialised, and json.dumps'ed."""
    shape = {
        k: v
        for k, v in request.to_dict().items()
        if k in ("ImageIds", "Filters", "Offset", "Limit")
    }
    model = sdk_models.DescribeImagesRequest()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown member would be a warning: none may occur
        model._deserialize(shape)
    return json.dumps(model._serialize()).encode("utf-8")


@given(st.one_of(valid_requests(), any_requests()))
def test_encode_json_is_the_official_sdk_body(request: DescribeImagesRequest) -> None:
    assert encode_json(request) == sdk_body(request)


def test_encode_json_examples() -> None:
    request = DescribeImagesRequest(
        filters=(Filter("image-name", ("中文", "😀")), Filter("image-type", ())),
        offset=0,
        limit=5,
        common=CommonParams(region="ap-guangzhou"),
    )
    body = encode_json(request)
    assert body == (
        b'{"Filters": [{"Name": "image-name", "Values": ["\\u4e2d\\u6587", "\\ud83d\\ude00"]}, '
        b'{"Name": "image-type", "Values": []}], "Offset": 0, "Limit": 5}'
    )
    assert body == sdk_body(request)
    assert encode_json(DescribeImagesRequest()) == b"{}"

    class Big(enum.IntEnum):
        FIVE = 5

    assert encode_json(DescribeImagesRequest(limit=Big.FIVE)) == b'{"Limit": 5}'


def test_encode_json_refuses_what_the_wire_cannot_carry() -> None:
    for request, path in (
        (DescribeImagesRequest(image_ids=("img-1", 5)), "ImageIds.1"),  # type: ignore[arg-type]
        (DescribeImagesRequest(limit=True), "Limit"),
        (DescribeImagesRequest(offset=10**5000), "Offset"),
        (DescribeImagesRequest(common=CommonParams(region="\ud800")), "Region"),
    ):
        with pytest.raises(RequestError) as info:
            encode_json(request)
        assert info.value.path == path
    with pytest.raises(RequestError) as info:
        encode_json("{}")  # type: ignore[arg-type]  # on purpose
    assert info.value.violations[0].reason == "wrong-type"


@given(hostile_requests())
def test_encode_json_only_raises_request_errors(request: DescribeImagesRequest) -> None:
    # Refused exactly as encode_query refuses it, or written as ASCII.
    by_json = verdict(lambda: encode_json(request))
    by_query = verdict(lambda: encode_query(request))
    if isinstance(by_json, bytes):
        assert by_json.isascii() and isinstance(by_query, str)
    else:
        assert by_json == by_query


# --- properties --------------------------------------------------------------------------------


@given(valid_requests())
def test_round_trip(request: DescribeImagesRequest) -> None:
    assert decode_json_request(encode_json(request), common=request.common) == request
    assert decode_json_request(encode_json(request).decode(), common=request.common) == request


def verdict(decode: Any) -> object:
    try:
        return decode()
    except RequestError as error:
        return [(v.code, v.reason, v.path) for v in error.violations]


@given(any_requests())
def test_one_verdict_whatever_the_door(request: DescribeImagesRequest) -> None:
    # Both encoders write 0-based paths; the common parameters travel in headers for JSON.
    by_json = verdict(lambda: decode_json_request(encode_json(request), common=request.common))
    by_query = verdict(lambda: decode_request(encode_query(request)))
    assert by_json == by_query


@given(invalid_requests())
def test_a_broken_rule_is_reported_by_its_code(
    broken: tuple[DescribeImagesRequest, str, str],
) -> None:
    request, code, reason = broken
    with pytest.raises(RequestError) as info:
        decode_json_request(encode_json(request), common=request.common)
    assert (info.value.code, info.value.violations[0].reason) == (code, reason)


def business_bodies() -> st.SearchStrategy[dict[str, object]]:
    """JSON bodies with the four members, each of the right type or not."""
    texts = st.text(max_size=5)
    ids = st.lists(texts | st.integers() | st.none(), max_size=3) | st.none() | texts
    one_filter = st.fixed_dictionaries(
        {},
        optional={
            "Name": texts | st.none() | st.integers(),
            "Values": st.lists(texts | st.none(), max_size=3) | st.none() | texts,
            "Zz": st.just(1),
        },
    )
    filters = st.lists(one_filter | st.none() | st.integers(), max_size=3) | st.none()
    floats = st.floats(allow_nan=False, allow_infinity=False)
    ints = st.integers() | st.none() | st.booleans() | floats | texts
    return st.fixed_dictionaries(
        {}, optional={"ImageIds": ids, "Filters": filters, "Offset": ints, "Limit": ints}
    )


@given(business_bodies())
def test_the_typed_path_is_from_dicts(body: dict[str, object]) -> None:
    document = _json._Document(DEFAULT_LIMITS)
    members = document.node(_json._parse(json.dumps(body), DEFAULT_LIMITS), "")
    assert isinstance(members, dict)
    typed = _json.typed_request(members)
    built = verdict(lambda: DescribeImagesRequest.from_dict(members))
    if typed is None:
        return
    if isinstance(built, DescribeImagesRequest):
        assert typed == built
    else:  # only text problems, then: the ones value_problems names
        problems = [(v.code, v.reason, v.path) for v in value_problems(typed)]
        assert isinstance(built, list) and sorted(problems) == sorted(built)


def json_values() -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.sampled_from(["img-pmqg1cw7", "image-type", "PRIVATE_IMAGE", "", "Name"]),
    )
    names = st.sampled_from(["ImageIds", "Filters", "Offset", "Limit", "Name", "Values", "Region"])
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(names | st.text(max_size=4), inner, max_size=4)
        ),
        max_leaves=20,
    )


def assert_well_formed(error: RequestError) -> None:
    for v in error.violations:
        assert v.code == REASONS[v.reason]
        assert isinstance(v.path, str) and isinstance(v.message, str) and v.message


@given(json_values())
def test_any_json_value_gets_a_verdict(value: object) -> None:
    body = json.dumps(value)
    try:
        request = decode_json_request(body)
    except RequestError as error:
        assert_well_formed(error)
    else:
        assert isinstance(request, DescribeImagesRequest)
        assert decode_json_request(encode_json(request)) == request


FRAGMENTS = ['{', '}', '[', ']', '"', '\\', ':', ',', '"ImageIds"', '"Filters"', '"Limit"',
             "1", "-", "1e9", "null", "NaN", "true", '"\\ud800"', '"\\u0000"', " ", "\x00",
             "\xff"]  # fmt: skip


@given(
    st.one_of(
        st.binary(max_size=64),
        st.text(max_size=64),
        st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
    )
)
def test_hostile_bodies_only_raise_request_errors(body: str | bytes) -> None:
    try:
        decode_json_request(body)
    except RequestError as error:
        assert_well_formed(error)
    if isinstance(body, str):
        try:
            as_bytes = body.encode("utf-8")
        except UnicodeEncodeError:
            return
        assert verdict(lambda: decode_json_request(as_bytes)) == verdict(
            lambda: decode_json_request(body)
        )


@pytest.mark.parametrize(
    "body",
    [
        "[" * 65_536,
        "{" * 65_536,
        '"' + '\\"' * 32_767,
        '["' + "\\\\" * 32_000 + '"]',
        "[" + "1," * 32_000 + "1]",
        '{"ImageIds": [' + '"x", ' * 13_000 + '"x"]}',
        '{"Limit": ' + "9" * 65_000 + "}",
        "[" + "1." + "1" * 65_000 + "]",
        '{"a": 1, ' * 6_000 + "}",
        '{"' + "A" * 65_000 + '": 1}',
        '{"Filters": [' + '{"Name": "image-type", "Values": ["x"]}, ' * 1_500 + "{}]}",
    ],
    ids=[
        "brackets",
        "braces",
        "escaped-quotes",
        "backslashes",
        "numbers",
        "ids",
        "long-int",
        "long-float",
        "members",
        "long-name",
        "filters",
    ],
)
def test_hostile_bodies_take_linear_time(body: str) -> None:
    body = body[: DEFAULT_LIMITS.max_query_bytes]
    start = time.perf_counter()
    with pytest.raises(RequestError) as info:
        decode_json_request(body)
    elapsed = time.perf_counter() - start
    assert_well_formed(info.value)
    # A quadratic step over 65,536 characters takes seconds; linear work, milliseconds.
    assert elapsed < 0.5, elapsed


def test_errors_are_library_errors() -> None:
    with pytest.raises(DescribeImagesError):
        decode_json_request(b"\x00")


# --- pinned details (from mutation runs) -------------------------------------------------------


def test_a_body_that_is_not_bytes_or_text_is_refused_at_the_root() -> None:
    assert found(5) == [("InvalidParameter", "wrong-type", "")]
    view = memoryview(b"{}")
    view.release()
    assert found(view) == [("InvalidParameter", "wrong-type", "")]


def test_bytes_over_the_cap_name_their_size() -> None:
    limits = WireLimits(max_query_bytes=3)
    for body in (b"{ } ", bytearray(b"{ } "), memoryview(b"{ } ")):
        assert messages(body, limits=limits) == [
            "the body is 4 bytes; at most 3 are allowed (max_query_bytes)"
        ]


def test_text_of_exactly_the_cap_in_characters_is_measured_in_bytes() -> None:
    body = '{"Zz": "\u00e9"}'  # 11 characters, 12 bytes
    assert len(body) == 11
    assert messages(body, limits=WireLimits(max_query_bytes=11)) == [
        "the body is 12 bytes; at most 11 are allowed (max_query_bytes)"
    ]
    assert found(body, limits=WireLimits(max_query_bytes=12)) == [
        ("UnknownParameter", "unknown-parameter", "Zz")
    ]


def test_an_interpreter_without_an_int_digit_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python 3.10 has no sys.get_int_max_str_digits: there is no limit, and the caps alone
    # decide what is converted.
    monkeypatch.delattr(sys, "get_int_max_str_digits", raising=False)
    assert decode_json_request('{"Offset": 5}').offset == 5
    digits = "9" * 4096
    assert found(f'{{"Offset": {digits}}}') == [
        ("InvalidParameterValue", "invalid-offset", "Offset")
    ]
    assert found(f'{{"Offset": {digits}9}}') == [("InvalidParameter", "too-large", "Offset")]


def test_a_negative_integer_is_counted_without_its_sign() -> None:
    # max_value_length above 4,185: the digit cap (4,185) is what decides, the sign apart.
    limits = WireLimits(max_value_length=10_000)
    negative = "-" + "1" * 4185
    assert found(f'{{"Offset": {negative}}}', limits=limits) == [
        ("InvalidParameterValue", "invalid-offset", "Offset")
    ]
    assert messages(f'{{"Offset": {negative}1}}', limits=limits) == [
        "Offset is an integer of 4186 digits; at most 4185 are allowed (max_value_length)"
    ]


def test_a_stack_too_deep_for_the_parser_message() -> None:
    limits = WireLimits(max_depth=10**6, max_query_bytes=10**7)
    body = "[" * 200_000 + "]" * 200_000
    assert messages(body, limits=limits) == [
        "the body nests deeper than this server can read (max_depth)"
    ]


def test_top_level_values_are_named_by_their_path() -> None:
    long = "1" * 5000
    assert messages(long) == [
        "the body is an integer of 5000 digits; at most 4096 are allowed (max_value_length)"
    ]
    assert found(f"[1, {long}]") == [("InvalidParameter", "too-large", "1")]
    assert found(f'{{"Zz": [{long}]}}') == [("InvalidParameter", "too-large", "Zz.0")]


def test_every_bad_member_name_is_reported_once() -> None:
    # Each member gets at most one violation; a bad name does not stop the walk.
    assert found('{"A\\u0007": 1, "B\\u0007": 2}') == [
        ("InvalidParameter", "control-character", "A\x07"),
        ("InvalidParameter", "control-character", "B\x07"),
    ]
    assert found('{"A\\u0007": 1, "A\\u0007": 2}') == [
        ("InvalidParameter", "control-character", "A\x07"),
        ("InvalidParameter", "control-character", "A\x07"),
    ]
    assert found('{"\\udc80": 1, "\\udc80": [' + "1" * 5000 + "]}") == [
        ("InvalidParameter", "bad-utf8", "\\udc80"),
        ("InvalidParameter", "bad-utf8", "\\udc80"),
    ]


def test_an_unknown_dotted_member_gets_its_suggestion() -> None:
    assert messages('{"filter.0": 1}') == ["unknown parameter filter.0; did you mean Filters.0?"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"ImageIds": [1]}', "ImageIds.0 must be a string, not a number"),
        ('{"ImageIds": ["img-1", true]}', "ImageIds.1 must be a string, not a bool"),
        ('{"Offset": "1"}', "Offset must be an integer, not a string"),
        ('{"Limit": "1"}', "Limit must be an integer, not a string"),
        ('{"Limit": 1, "Offset": null}', "Offset must be an integer, not a null"),
        ('{"Filters": [{"Name": 5, "Values": ["x"]}]}',
         "Filters.0.Name must be a string, not a number"),
        ('{"Filters": [{"Name": "image-name", "Values": [5]}]}',
         "Filters.0.Values.0 must be a string, not a number"),
    ],
)  # fmt: skip
def test_a_wrong_type_is_named_in_json_terms(body: str, message: str) -> None:
    assert messages(body) == [message]


def test_problems_of_one_rank_come_in_document_order() -> None:
    body = '{"Filters": [{"Name": "image-name", "Values": ["\\u0001"]}], "ImageIds": ["\\u0002"]}'
    assert found(body) == [
        ("InvalidParameter", "control-character", "Filters.0.Values.0"),
        ("InvalidParameter", "control-character", "ImageIds.0"),
    ]


def test_the_body_text_is_checked_before_the_header_parameters() -> None:
    # Stage 2 (the body's types and text) failing stops there: the common parameters are
    # checked with the rules, in stage 3 (spec/README.md §2.10).
    common = CommonParams(region="\x00")
    assert found('{"ImageIds": ["\\u0001"]}', common=common) == [
        ("InvalidParameter", "control-character", "ImageIds.0")
    ]
    assert found('{"ImageIds": ["img-pmqg1cw7"]}', common=common) == [
        ("InvalidParameter", "control-character", "Region")
    ]


def test_encode_json_reads_the_caller_limits() -> None:
    request = DescribeImagesRequest(image_ids=("img-" + "a" * 11,))  # 15 characters
    assert encode_json(request, limits=WireLimits(max_value_length=15)) == (
        b'{"ImageIds": ["img-aaaaaaaaaaa"]}'
    )
    with pytest.raises(RequestError) as info:
        encode_json(request, limits=WireLimits(max_value_length=14))  # Action: 14 characters
    assert [(v.reason, v.path) for v in info.value.violations] == [("too-large", "ImageIds.0")]


@pytest.mark.parametrize(
    ("members", "request_"),
    [
        ({}, DescribeImagesRequest()),
        ({"ImageIds": ["img-1"], "Offset": 0, "Limit": 5},
         DescribeImagesRequest(image_ids=("img-1",), offset=0, limit=5)),
        ({"ImageIds": []}, DescribeImagesRequest()),
        ({"Filters": [{"Name": "image-name", "Values": ["a", "b"]}]},
         DescribeImagesRequest(filters=(Filter("image-name", ("a", "b")),))),
        ({"Filters": [{"Values": ["x"]}]}, DescribeImagesRequest(filters=(Filter("", ("x",)),))),
        ({"Filters": [{"Name": "n"}]}, DescribeImagesRequest(filters=(Filter("n"),))),
        ({"Filters": [{"Name": "n", "Values": []}]}, DescribeImagesRequest(filters=(Filter("n"),))),
    ],
)  # fmt: skip
def test_the_typed_path_takes_every_well_typed_body(
    members: dict[str, object], request_: DescribeImagesRequest
) -> None:
    # The fast path is taken (from_dict is not called) and builds from_dict's request.
    assert _json.typed_request(members) == request_ == DescribeImagesRequest.from_dict(members)


def test_a_well_typed_body_never_calls_from_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("from_dict was called")

    monkeypatch.setattr(DescribeImagesRequest, "from_dict", refuse)
    body = '{"ImageIds": ["img-pmqg1cw7"], "Offset": 0, "Limit": 5}'
    assert decode_json_request(body).limit == 5
