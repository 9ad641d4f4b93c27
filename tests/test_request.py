"""The request layer: decode_request, validate, encode_request/encode_query, the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import (
    CommonParams,
    DescribeImagesError,
    DescribeImagesRequest,
    ErrorCode,
    Filter,
    RequestError,
    Violation,
    WireError,
    WireLimits,
    decode_json_request,
    decode_request,
    encode_query,
    encode_request,
    parse_query,
    validate,
)
from describe_images._model import INSTANCE_TYPE_MESSAGE
from tests.strategies import (
    image_ids,
    invalid_requests,
    valid_requests,
    wireish_queries,
)

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"


def _cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["cases"]
    return cases


VALIDATE = _cases("validate.json")
DECODE = _cases("decode.json")
ENCODE = _cases("encode.json")

SEED_1 = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
SEED_2 = (
    "Action=DescribeImages&Version=2017-03-12"
    "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
)


def _outcome(query: str | list[tuple[str, str]]) -> list[dict[str, str]]:
    """The violations decoding gives, as {code, reason, path}; [] when valid."""
    try:
        decode_request(query)
    except RequestError as exc:
        return [{"code": v.code, "reason": v.reason, "path": v.path} for v in exc.violations]
    return []


# --- vectors ---------------------------------------------------------------------------


def test_vector_counts() -> None:
    assert len(VALIDATE) + len(DECODE) + len(ENCODE) >= 80
    ids = [c["id"] for c in VALIDATE + DECODE + ENCODE]
    assert all(ids.count(i) <= 3 for i in ids)
    for cases in (VALIDATE, DECODE, ENCODE):
        assert len({c["id"] for c in cases}) == len(cases)


@pytest.mark.parametrize("case", VALIDATE, ids=[c["id"] for c in VALIDATE])
def test_validate_vector(case: dict[str, Any]) -> None:
    assert _outcome(case["query"]) == case["errors"]


@pytest.mark.parametrize("case", DECODE, ids=[c["id"] for c in DECODE])
def test_decode_vector(case: dict[str, Any]) -> None:
    request = decode_request(case["query"])
    assert request.to_dict() == case["request"]
    assert DescribeImagesRequest.from_dict(case["request"]) == request


@pytest.mark.parametrize("case", ENCODE, ids=[c["id"] for c in ENCODE])
def test_encode_vector(case: dict[str, Any]) -> None:
    request = DescribeImagesRequest.from_dict(case["request"])
    base: Literal[0, 1] = case["base"]
    assert encode_query(request, base=base) == case["query"]
    assert urlencode(encode_request(request, base=base)) == case["query"]


# --- the examples ----------------------------------------------------------------


def test_seed_examples_decode_and_encode_back() -> None:
    one = decode_request(SEED_1)
    assert one == DescribeImagesRequest(image_ids=("img-pmqg1cw7",))
    assert encode_query(one, base=0) == SEED_1
    two = decode_request(SEED_2)
    assert two.filters == (Filter("image-type", ("PRIVATE_IMAGE",)),)
    assert two.image_ids == ()
    assert two.offset is None and two.limit is None
    assert two.effective_offset == 0 and two.effective_limit == 20
    assert two.common.action == "DescribeImages" and two.common.region is None
    assert encode_request(two, base=0) == [
        ("Action", "DescribeImages"),
        ("Version", "2017-03-12"),
        ("Filters.0.Name", "image-type"),
        ("Filters.0.Values.0", "PRIVATE_IMAGE"),
    ]
    assert encode_query(two, base=1) == SEED_2


def test_validate_eleven_filters() -> None:
    request = DescribeImagesRequest(filters=(Filter("image-type", ("PRIVATE_IMAGE",)),) * 11)
    assert validate(request) == (
        Violation(
            ErrorCode.INVALID_FILTER,
            "too-many-filters",
            "Filters",
            "Filters has 11 filters; at most 10 are allowed",
        ),
    )
    assert validate(DescribeImagesRequest(filters=request.filters[:10])) == ()


def test_from_dict_and_to_dict() -> None:
    data = {"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Limit": 50}
    request = DescribeImagesRequest.from_dict(data)
    assert request == DescribeImagesRequest(
        filters=(Filter("image-type", ("PRIVATE_IMAGE",)),), limit=50
    )
    # Only what the request carries beyond its defaults: no Action, no Version.
    assert request.to_dict() == data
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (
            {"ImageIds": "img-pmqg1cw7"},
            "ImageIds",
            "ImageIds must be a list of strings, not a string",
        ),
        ({"ImageIds": [1]}, "ImageIds.0", "ImageIds.0 must be a string, not a number"),
        ({"Limit": True}, "Limit", "Limit must be an integer, not a bool"),
        ({"Limit": "50"}, "Limit", "Limit must be an integer, not a string"),
        ({"Offset": 1.5}, "Offset", "Offset must be an integer, not a number"),
        ({"Filters": {"Name": "x"}}, "Filters", "Filters must be a list of objects, not a object"),
        ({"Filters": ["image-type"]}, "Filters.0", "Filters.0 must be an object, not a string"),
        (
            {"Filters": [{"Name": 1, "Values": []}]},
            "Filters.0.Name",
            "Filters.0.Name must be a string, not a number",
        ),
        (
            {"Filters": [{"Name": "image-type", "Values": "PRIVATE_IMAGE"}]},
            "Filters.0.Values",
            "Filters.0.Values must be a list of strings, not a string",
        ),
        ({"Region": 1}, "Region", "Region must be a string, not a number"),
        ({"Timestamp": -1}, "Timestamp", "Timestamp must be a string, not a number"),
        ({"Version": 2017}, "Version", "Version must be a string, not a number"),
        (["ImageIds"], "", "the request must be an object, not a list"),
    ],
)
def test_from_dict_refuses_wrong_types(data: Any, path: str, message: str) -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict(data)
    (violation,) = info.value.violations
    assert violation == Violation(ErrorCode.INVALID_PARAMETER, "wrong-type", path, message)


def test_from_dict_unknown_and_version() -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict(
            {"Filter": [], "Version": "2020-01-01", "Filters": [{"Name": "x", "Mode": 1}]}
        )
    assert [(v.reason, v.path, v.message) for v in info.value.violations] == [
        ("unknown-parameter", "Filter", "unknown parameter Filter; did you mean Filters?"),
        ("unknown-parameter", "Filters.0.Mode", "unknown parameter Filters.0.Mode"),
        (
            "unsupported-version",
            "Version",
            "Version '2020-01-01' is not supported; use '2017-03-12'",
        ),
    ]
    ok = DescribeImagesRequest.from_dict({"Version": "2017-03-12", "Timestamp": 1408704141})
    assert ok.common.timestamp == "1408704141"


def test_model_keeps_a_string_for_a_tuple_and_validate_reports_it() -> None:
    # Never split into characters (botocore's bug), never a bare TypeError: the value is
    # kept as given and reported with its path (spec/README.md §2.6).
    given: Any = "img-pmqg1cw7"  # what a caller without type checking may pass
    request = DescribeImagesRequest(image_ids=given)
    assert request.image_ids is given
    assert [(v.reason, v.path, v.message) for v in validate(request)] == [
        ("wrong-type", "ImageIds", "ImageIds must be a tuple of str, not str")
    ]
    bad_filter = Filter("image-type", given)
    assert [(v.reason, v.path) for v in validate(DescribeImagesRequest(filters=(bad_filter,)))] == [
        ("wrong-type", "Filters.0.Values")
    ]
    as_list: Any = ["img-pmqg1cw7"]
    listed = DescribeImagesRequest(image_ids=as_list)
    assert listed.image_ids == ("img-pmqg1cw7",)
    assert hash(listed) == hash(DescribeImagesRequest(image_ids=("img-pmqg1cw7",)))


# --- errors and messages --------------------------------------------------------------------


def test_request_error_envelope_and_messages() -> None:
    with pytest.raises(RequestError) as info:
        decode_request(
            "Action=DescribeImages&Version=2017-03-12&Filters.1.Name=image-type"
            + "".join(f"&Filters.1.Values.{i}=PRIVATE_IMAGE" for i in range(1, 7))
            + "&Limit=101"
        )
    error = info.value
    assert error.code == ErrorCode.INVALID_FILTER
    assert [v.message for v in error.violations] == [
        "Filters.1.Values has 6 values; at most 5 are allowed",
        "Limit is '101'; it must be an integer from 1 to 100",
    ]
    assert error.to_response("r-1") == {
        "Response": {
            "Error": {
                "Code": "InvalidFilter",
                "Message": "Filters.1.Values has 6 values; at most 5 are allowed "
                "(and 1 more problem)",
            },
            "RequestId": "r-1",
        }
    }
    assert isinstance(error, DescribeImagesError)
    assert str(error).startswith("InvalidFilter: Filters.1.Values has 6 values")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("Filter.1.Name", "unknown parameter Filter.1.Name; did you mean Filters.1.Name?"),
        (
            "Filters.1.Value.1",
            "unknown parameter Filters.1.Value.1; did you mean Filters.1.Values.1?",
        ),
        ("ImageId.1", "unknown parameter ImageId.1; did you mean ImageIds.1?"),
        ("MaxResults", "unknown parameter MaxResults; did you mean Limit?"),
        ("NextToken", "unknown parameter NextToken; did you mean Offset?"),
        ("imageIds.0", "unknown parameter imageIds.0; did you mean ImageIds.0?"),
        ("filters.0.name", "unknown parameter filters.0.name; did you mean Filters.0.Name?"),
        (
            "InstanceType",
            "unknown parameter InstanceType: a member of API 3.0's DescribeImages model, "
            "not a parameter of Version 2017-03-12, which this library implements",
        ),
        ("InstanceType.0", "unknown parameter InstanceType.0"),
        ("instanceType", "unknown parameter instanceType"),
    ],
)
def test_suggestions(key: str, message: str) -> None:
    with pytest.raises(RequestError) as info:
        decode_request(f"Action=DescribeImages&Version=2017-03-12&{key}=1")
    assert [v.message for v in info.value.violations if v.reason == "unknown-parameter"] == [
        message
    ]


def test_instance_type_says_why_by_every_door() -> None:
    # InstanceType is API 3.0's model member: the query, from_dict and JSON doors agree.
    calls: list[Callable[[], object]] = [
        lambda: decode_request("Action=DescribeImages&Version=2017-03-12&InstanceType=S1"),
        lambda: DescribeImagesRequest.from_dict({"InstanceType": "S1"}),
        lambda: decode_json_request('{"InstanceType": "S1"}'),
    ]
    found = []
    for call in calls:
        with pytest.raises(RequestError) as info:
            call()
        found.append([(v.reason, v.path, v.message) for v in info.value.violations])
    assert found == [[("unknown-parameter", "InstanceType", INSTANCE_TYPE_MESSAGE)]] * 3


def test_pinned_messages() -> None:
    def messages(query: str) -> list[str]:
        with pytest.raises(RequestError) as info:
            decode_request("Action=DescribeImages&Version=2017-03-12&" + query)
        return [v.message for v in info.value.violations]

    assert messages("ImageIds.0=img-PMQG1CW7") == [
        "ImageIds.0 is 'img-PMQG1CW7'; an image ID is img- followed by 8 lower-case letters "
        "or digits (img-pmqg1cw7)"
    ]
    assert messages("Filters.0.Name=os&Filters.0.Values.0=x") == [
        "Filters.0.Name is 'os'; allowed names are image-id, image-type, image-name"
    ]
    assert messages("Offset=-1") == [
        "Offset is '-1'; it must be an integer from 0 to 9223372036854775807"
    ]
    assert messages("ImageIds=img-pmqg1cw7") == [
        "ImageIds does not fit the parameter's shape: ImageIds is a list of strings; "
        "send ImageIds.0=img-..."
    ]
    long_value = "x" * 100
    assert messages(f"Filters.0.Name=image-type&Filters.0.Values.0={long_value}") == [
        f"Filters.0.Values.0 is '{'x' * 36}...; image-type takes PRIVATE_IMAGE, PUBLIC_IMAGE, "
        "SHARED_IMAGE"
    ]


# --- inputs: bytes, pairs, URLs, limits -------------------------------------------------------


def test_decode_accepts_bytes_pairs_and_urls() -> None:
    expected = decode_request(SEED_1)
    assert decode_request(SEED_1.encode()) == expected
    assert decode_request(bytes(bytearray(SEED_1.encode()))) == expected
    assert decode_request(parse_query(SEED_1)) == expected
    assert decode_request(iter(parse_query(SEED_1))) == expected
    assert decode_request("https://image.api.qcloud.com/v2/index.php?" + SEED_1) == expected
    assert decode_request(b"http://localhost:8000/?" + SEED_1.encode()) == expected
    assert decode_request("/v2/index.php?" + SEED_1 + "#frag") == expected


def test_decode_pairs_input_is_checked() -> None:
    with pytest.raises(WireError) as info:
        decode_request([("Action", "DescribeImages"), ("Version", "2017-03-12\n")])
    assert [(v.reason, v.path) for v in info.value.violations] == [("control-character", "Version")]
    with pytest.raises(WireError) as info:
        decode_request([("Action", 1)])  # type: ignore[list-item]  # hostile input on purpose
    assert info.value.violations[0].reason == "bad-pair"


def test_decode_refuses_huge_input_by_size() -> None:
    huge = "https://x/?" + "a" * (2 * 1024 * 1024)
    with pytest.raises(WireError) as info:
        decode_request(huge)
    assert [v.reason for v in info.value.violations] == ["too-large"]


def test_tight_limits_use_the_general_path() -> None:
    limits = WireLimits(max_index=5)
    with pytest.raises(WireError) as info:
        decode_request(SEED_1.replace("ImageIds.0", "ImageIds.0&ImageIds.6=x"), limits=limits)
    assert [(v.reason, v.path) for v in info.value.violations] == [
        ("index-out-of-range", "ImageIds.6")
    ]
    assert decode_request(SEED_1, limits=limits) == decode_request(SEED_1)


def test_encode_rejects_a_bad_base() -> None:
    with pytest.raises(ValueError, match="base must be 0 or 1"):
        encode_request(DescribeImagesRequest(), base=2)  # type: ignore[arg-type]  # on purpose


def test_encode_beyond_prebuilt_keys() -> None:
    request = DescribeImagesRequest(
        filters=tuple(Filter("image-name", tuple(f"v{j}" for j in range(8))) for _ in range(13))
    )
    pairs = encode_request(request, base=1)
    assert pairs[-1] == ("Filters.13.Values.8", "v7")
    assert pairs[2] == ("Filters.1.Name", "image-name")
    assert len(pairs) == 2 + 13 * 9


def test_common_params_round_trip() -> None:
    common = CommonParams(
        action="DescribeImages",
        region="ap-guangzhou",
        timestamp="1465185768",
        nonce="11886",
        secret_id="AKID",
        signature="sig/+=",
        signature_method="HmacSHA256",
        token="tok",
        request_client="SDK_PYTHON_3.0.0",
        language="en-US",
    )
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",), common=common)
    assert decode_request(encode_query(request)) == request
    assert [k for k, _ in encode_request(request)][-9:] == [
        "Region",
        "Timestamp",
        "Nonce",
        "SecretId",
        "SignatureMethod",
        "Token",
        "RequestClient",
        "Language",
        "Signature",
    ]


# --- properties ---------------------------------------------------------------------------


@given(valid_requests(), st.sampled_from([0, 1]))
def test_round_trip_valid_requests(request: DescribeImagesRequest, base: Literal[0, 1]) -> None:
    assert validate(request) == ()
    query = encode_query(request, base=base)
    assert query == urlencode(encode_request(request, base=base))
    assert decode_request(query) == request
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request


@given(invalid_requests(), st.sampled_from([0, 1]))
def test_each_broken_rule_gives_its_code(
    case: tuple[DescribeImagesRequest, ErrorCode, str], base: Literal[0, 1]
) -> None:
    request, code, reason = case
    found = validate(request)
    assert [(v.code, v.reason) for v in found] == [(code, reason)]
    with pytest.raises(RequestError) as info:
        decode_request(encode_query(request, base=base))
    assert info.value.code == code
    assert [v.reason for v in info.value.violations] == [reason]
    if base == 0:  # validate() names paths 0-based; decode names them as sent
        assert info.value.violations == found


_KEYISH = st.text(alphabet="AFILNOVacegilmnorstv.0123456789-_%=&+", max_size=60)


@given(st.lists(st.tuples(_KEYISH, _KEYISH), max_size=12))
def test_only_request_errors_escape(pairs: list[tuple[str, str]]) -> None:
    query = "Action=DescribeImages&Version=2017-03-12&" + "&".join(f"{k}={v}" for k, v in pairs)
    outcome: object
    try:
        outcome = decode_request(query)
    except RequestError as exc:
        outcome = exc.violations
    if isinstance(outcome, DescribeImagesRequest):
        assert validate(outcome) == ()
        assert decode_request(encode_query(outcome)) == outcome
    else:
        assert isinstance(outcome, tuple) and outcome
        assert all(v.code in set(ErrorCode) and type(v.code) is str for v in outcome)


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), wireish_queries()))
def test_arbitrary_input_only_request_errors(data: str | bytes) -> None:
    outcome: object
    try:
        outcome = decode_request(data)
    except RequestError as exc:
        outcome = exc.violations
    if isinstance(outcome, DescribeImagesRequest):
        assert validate(outcome) == ()
    else:
        assert isinstance(outcome, tuple) and outcome
        assert all(isinstance(v, Violation) for v in outcome)


@given(
    st.lists(
        image_ids() | st.text(alphabet="img-0123456789abcxyzAZ,é", max_size=14),
        min_size=1,
        max_size=6,
    )
)
def test_batch_image_id_check_agrees_with_the_regex(values: list[str]) -> None:
    from describe_images._rules import _all_image_ids
    from describe_images._spec import IMAGE_ID_RE

    expected = all(IMAGE_ID_RE.match(v) for v in values)
    assert _all_image_ids(tuple(values)) is expected


@pytest.mark.parametrize(
    "values",
    [
        ("img-1234567", "ximg-12345678"),  # lengths that shift but keep the joined layout
        ("img-1234567-",),
        ("img-ABCDEFGH",),
        ("img-1234567\u0661",),
        ("imgx12345678",),
    ],
)
def test_batch_image_id_check_refuses_near_misses(values: tuple[str, ...]) -> None:
    from describe_images._rules import _all_image_ids

    assert _all_image_ids(values) is False
