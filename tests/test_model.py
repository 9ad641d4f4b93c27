"""The typed request (describe_images._model): defaults, the JSON shape, and the checks
every value built in code meets, whichever door it comes in by (spec/README.md §2.6)."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import (
    CommonParams,
    DescribeImagesError,
    DescribeImagesRequest,
    Filter,
    RequestError,
    UsageError,
    Violation,
    WireLimits,
    decode_request,
    encode_query,
    encode_request,
    validate,
)
from describe_images._grammar import DEFAULT_LIMITS
from describe_images._model import _all_clear, int_text, shown, suggest, value_problems
from tests.strategies import any_requests, hostile_requests, valid_requests

FILTERS = [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]


def triples(violations: tuple[Violation, ...] | list[Violation]) -> list[tuple[str, str, str]]:
    return [(v.code, v.reason, v.path) for v in violations]


# --- one model: Action defaults to DescribeImages, to_dict emits what differs ------------------


def test_action_defaults_to_describe_images_everywhere() -> None:
    request = DescribeImagesRequest(common=CommonParams(region="ap-guangzhou"))
    assert request.common.action == "DescribeImages"
    assert CommonParams().action == DescribeImagesRequest().common.action == "DescribeImages"
    assert request.to_dict() == {"Region": "ap-guangzhou"}
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request
    assert decode_request(encode_query(request)) == request
    assert encode_query(request) == ("Action=DescribeImages&Version=2017-03-12&Region=ap-guangzhou")


def test_to_dict_adds_nothing_the_caller_did_not_give() -> None:
    data = {"Filters": FILTERS, "Limit": 50}
    assert DescribeImagesRequest.from_dict(data).to_dict() == data
    assert DescribeImagesRequest.from_dict({}).to_dict() == {}
    # An Action that is not the default is carried, so the round trip holds for it too.
    other = DescribeImagesRequest(common=CommonParams(action="RunInstances"))
    assert other.to_dict() == {"Action": "RunInstances"}
    assert DescribeImagesRequest.from_dict(other.to_dict()) == other
    # Version is implied: accepted when right, never emitted.
    versioned = DescribeImagesRequest.from_dict({"Version": "2017-03-12", "Limit": 5})
    assert versioned.to_dict() == {"Limit": 5}


def test_every_common_parameter_round_trips() -> None:
    common = CommonParams(
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
    public = Filter("image-type", ("PUBLIC_IMAGE",))
    request = DescribeImagesRequest(filters=(public,), common=common)
    assert request.to_dict() == {
        "Filters": [{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}],
        "Region": "ap-guangzhou",
        "Timestamp": "1465185768",
        "Nonce": "11886",
        "SecretId": "AKID",
        "SignatureMethod": "HmacSHA256",
        "Token": "tok",
        "RequestClient": "SDK_PYTHON_3.0.0",
        "Language": "en-US",
        "Signature": "sig/+=",
    }
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request
    for base in (0, 1):
        assert decode_request(encode_query(request, base=base)) == request


@given(valid_requests(), st.sampled_from([0, 1]))
def test_decode_of_encode_is_the_identity(
    request: DescribeImagesRequest, base: Literal[0, 1]
) -> None:
    assert decode_request(encode_query(request, base=base)) == request
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request


@given(any_requests())
def test_one_request_one_verdict(request: DescribeImagesRequest) -> None:
    # Whatever rule a well-typed request breaks, decoding what it encodes to gives the same
    # violations (0-based paths) as validate(); a valid one comes back equal.
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request
    found = validate(request)
    query = encode_query(request)
    if not found:
        assert decode_request(query) == request
        return
    with pytest.raises(RequestError) as info:
        decode_request(query)
    assert info.value.violations == found


# --- values built in code meet the wire's checks, with paths --------------------------------


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param(
            DescribeImagesRequest(image_ids=(5,)),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "ImageIds.0", "ImageIds.0 must be a str, not int")],
            id="int-image-id",
        ),
        pytest.param(
            DescribeImagesRequest(filters=("x",)),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Filters.0", "Filters.0 must be a Filter, not str")],
            id="str-filter",
        ),
        pytest.param(
            DescribeImagesRequest(filters=(Filter("image-name", (5,)),)),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Filters.0.Values.0", "Filters.0.Values.0 must be a str, not int")],
            id="int-filter-value",
        ),
        pytest.param(
            DescribeImagesRequest(filters=(Filter(None, ("x",)),)),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Filters.0.Name", "Filters.0.Name must be a str, not NoneType")],
            id="none-filter-name",
        ),
        pytest.param(
            DescribeImagesRequest(image_ids=("img-pmqg1cw7", "\udcff")),
            [("bad-utf8", "ImageIds.1", "the value of 'ImageIds.1' is not valid UTF-8")],
            id="lone-surrogate",
        ),
        pytest.param(
            DescribeImagesRequest(filters=(Filter("image-name", ("b\f",)),)),
            [
                (
                    "control-character",
                    "Filters.0.Values.0",
                    "the value of 'Filters.0.Values.0' contains a control character "
                    "(U+0000-U+001F or U+007F)",
                )
            ],
            id="control-character",
        ),
        pytest.param(
            DescribeImagesRequest(filters=(Filter("image-name", ("é" * 4097,)),)),
            [
                (
                    "too-large",
                    "Filters.0.Values.0",
                    "the value of 'Filters.0.Values.0' is 4097 characters long; at most 4096 "
                    "are allowed (max_value_length)",
                )
            ],
            id="value-over-the-cap",
        ),
        pytest.param(
            DescribeImagesRequest(offset=10**5000),
            [
                (
                    "too-large",
                    "Offset",
                    "Offset is an integer of more than 4096 digits; at most 4096 characters "
                    "are allowed (max_value_length)",
                )
            ],
            id="offset-beyond-int-str-limit",
        ),
        pytest.param(
            DescribeImagesRequest(limit="5"),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Limit", "Limit must be an int, not str")],
            id="str-limit",
        ),
        pytest.param(
            DescribeImagesRequest(offset=True),
            [("wrong-type", "Offset", "Offset must be an int, not bool")],
            id="bool-offset",
        ),
        pytest.param(
            DescribeImagesRequest(common=CommonParams(action=None)),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Action", "Action must be a str, not NoneType")],
            id="none-action",
        ),
        pytest.param(
            DescribeImagesRequest(common=CommonParams(region=b"gz")),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Region", "Region must be a str, not bytes")],
            id="bytes-region",
        ),
        pytest.param(
            DescribeImagesRequest(common=5),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "", "the request's common must be a CommonParams, not int")],
            id="int-common",
        ),
        pytest.param(
            DescribeImagesRequest(filters=5),  # type: ignore[arg-type]  # on purpose
            [("wrong-type", "Filters", "Filters must be a tuple of Filter, not int")],
            id="int-filters",
        ),
    ],
)
def test_values_built_in_code_are_checked(
    request_: DescribeImagesRequest, expected: list[tuple[str, str, str]]
) -> None:
    found = validate(request_)
    assert [(v.reason, v.path, v.message) for v in found] == expected
    assert {v.code for v in found} == {"InvalidParameter"}
    with pytest.raises(RequestError) as info:
        encode_query(request_)
    assert info.value.violations == found
    with pytest.raises(RequestError):
        encode_request(request_)


def test_validate_of_something_that_is_not_a_request() -> None:
    given: Any = {"ImageIds": []}
    assert triples(validate(given)) == [("InvalidParameter", "wrong-type", "")]
    assert validate(given)[0].message == "the request must be a DescribeImagesRequest, not dict"


def test_value_problems_come_alone_and_in_field_order() -> None:
    # A value that cannot travel is reported before, and instead of, any rule: the rules
    # never see a request the wire could not carry (as a query the codec refuses).
    request = DescribeImagesRequest(
        image_ids=("img-pmqg1cw7", 7),  # type: ignore[arg-type]  # on purpose
        filters=(Filter("image-type", ("x\x00",)),) * 11,
        limit=1000,
    )
    found = validate(request)
    assert [v.path for v in found] == ["ImageIds.1", *[f"Filters.{i}.Values.0" for i in range(11)]]


def test_limits_are_the_callers() -> None:
    tight = WireLimits(max_value_length=8)
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7",))
    assert validate(request) == ()
    # "img-pmqg1cw7" is 12 characters and "DescribeImages" 14: both over a cap of 8.
    assert [v.path for v in validate(request, limits=tight)] == ["ImageIds.0", "Action"]
    with pytest.raises(RequestError):
        encode_query(request, limits=tight)
    roomy = WireLimits(max_value_length=14)
    assert [v.path for v in validate(DescribeImagesRequest(offset=10**14), limits=roomy)] == [
        "Offset"
    ]
    assert validate(DescribeImagesRequest(offset=10**13), limits=roomy) == ()


def test_int_text() -> None:
    assert int_text(0) == "0"
    assert int_text(-(10**40)) == "-1" + "0" * 40
    assert int_text(10**4095) == "1" + "0" * 4095  # 4096 characters: at the cap
    assert int_text(10**4096) is None  # 4097: over it
    assert int_text(10**5000) is None  # past Python's int-to-str limit: never converted
    assert int_text(10**20, WireLimits(max_value_length=20)) is None


@given(hostile_requests())
def test_only_library_errors_escape_for_values_built_in_code(
    request: DescribeImagesRequest,
) -> None:
    found = validate(request)
    assert isinstance(found, tuple) and all(isinstance(v, Violation) for v in found)
    problems = value_problems(request)
    encoded: str | tuple[Violation, ...]
    try:
        encoded = encode_query(request)
    except RequestError as exc:
        encoded = exc.violations
    if not isinstance(encoded, str):
        assert problems and list(encoded) == problems == list(found)
        return
    assert not problems
    decoded: DescribeImagesRequest | tuple[Violation, ...]
    try:
        decoded = decode_request(encoded)
    except RequestError as exc:
        decoded = exc.violations
    assert decoded == (found or request)
    assert DescribeImagesRequest.from_dict(request.to_dict()) == request


# --- from_dict meets the same checks -------------------------------------------------------


def test_from_dict_refuses_what_the_wire_refuses() -> None:
    data = {"Filters": [{"Name": "image-name", "Values": ["b\f"]}]}
    with pytest.raises(RequestError) as from_json:
        DescribeImagesRequest.from_dict(data)
    with pytest.raises(RequestError) as from_wire:
        decode_request(
            "Action=DescribeImages&Version=2017-03-12"
            "&Filters.0.Name=image-name&Filters.0.Values.0=b%0C"
        )
    assert from_json.value.violations == from_wire.value.violations
    assert triples(from_json.value.violations) == [
        ("InvalidParameter", "control-character", "Filters.0.Values.0")
    ]


def test_from_dict_lone_surrogate_and_huge_integers() -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict({"Region": "\ud800"})
    assert triples(info.value.violations) == [("InvalidParameter", "bad-utf8", "Region")]
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict({"Timestamp": 10**5000})
    assert [(v.reason, v.path, v.message) for v in info.value.violations] == [
        (
            "too-large",
            "Timestamp",
            "Timestamp is an integer of more than 4096 digits; at most 4096 characters are "
            "allowed (max_value_length)",
        )
    ]
    assert DescribeImagesRequest.from_dict({"Nonce": 10**30}).common.nonce == "1" + "0" * 30
    # An integer Offset too long for the wire is refused as the wire refuses it, never str().
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict({"Offset": 10**5000})
    assert triples(info.value.violations) == [("InvalidParameter", "too-large", "Offset")]


def test_from_dict_unknown_key_with_a_lone_surrogate_has_a_printable_path() -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict({"X\udcff": 1, "Filters": [{"Name": "x", 5: 1}]})
    assert [(v.reason, v.path) for v in info.value.violations] == [
        ("unknown-parameter", "X\\udcff"),
        ("unknown-parameter", "Filters.0.5"),
    ]
    for v in info.value.violations:
        v.path.encode("utf-8")  # printable: never a surrogate in a path


# --- the constructors never raise; the encoder's arguments ---------------------------------


def test_constructors_never_raise_for_any_value() -> None:
    odd: list[Any] = [None, 5, "s", b"b", {"a": 1}, 1.5, object()]
    for value in odd:
        made = Filter(value, value)
        assert made.name is value
        anything: Any = value
        request = DescribeImagesRequest(anything, anything, anything, anything, anything)
        assert validate(request)  # reported, never raised


def test_encode_request_base_is_zero_or_one() -> None:
    for base in (True, False, 2, -1, "0", None, 0.0):
        with pytest.raises(UsageError, match="base must be 0 or 1"):
            encode_request(DescribeImagesRequest(), base=base)  # type: ignore[arg-type]  # on purpose
    assert isinstance(UsageError("x"), DescribeImagesError)


# --- boundaries the mutation run asked for ------------------------------------------------


def test_sequences_become_tuples() -> None:
    as_list: Any = ["PRIVATE_IMAGE"]
    assert Filter("image-type", as_list).values == ("PRIVATE_IMAGE",)
    filters: Any = [Filter("image-type", ("PRIVATE_IMAGE",))]
    request = DescribeImagesRequest(filters=filters)
    assert type(request.filters) is tuple and request.filters == tuple(filters)
    kept: Any = b"img"
    assert DescribeImagesRequest(image_ids=kept).image_ids is kept


@pytest.mark.parametrize("where", ["name", "value"])
def test_text_at_the_value_cap(where: str) -> None:
    # Another problem sends the check down the slow path: the cap is exact there too.
    def request(text: str) -> DescribeImagesRequest:
        item = Filter(text, ("x",)) if where == "name" else Filter("image-name", (text,))
        return DescribeImagesRequest(image_ids=(7,), filters=(item,))  # type: ignore[arg-type]  # on purpose

    path = "Filters.0.Name" if where == "name" else "Filters.0.Values.0"
    assert [v.path for v in validate(request("a" * 4096))] == ["ImageIds.0"]
    assert [v.path for v in validate(request("a" * 4097))] == ["ImageIds.0", path]
    # And on the fast path, with nothing else wrong:
    assert validate(DescribeImagesRequest(filters=(Filter("image-name", ("a" * 4096,)),))) == ()
    assert [v.reason for v in validate(DescribeImagesRequest(image_ids=("a" * 4097,)))] == [
        "too-large"
    ]


def test_every_bad_filter_is_reported() -> None:
    five: Any = (5,)
    filters: Any = ("x", Filter("image-type", five), 3)
    assert [v.path for v in validate(DescribeImagesRequest(filters=filters))] == [
        "Filters.0",
        "Filters.1.Values.0",
        "Filters.2",
    ]


def test_int_text_boundaries_with_a_larger_cap() -> None:
    roomy = WireLimits(max_value_length=5000)
    assert int_text(2**13899, roomy) is not None  # 13,900 bits: converted
    assert int_text(2**13900, roomy) is None  # 13,901 bits: never converted
    assert validate(DescribeImagesRequest(offset=10**5000), limits=roomy)[0].message == (
        "Offset is an integer of more than 4185 digits; at most 5000 characters are allowed "
        "(max_value_length)"
    )


def test_the_fast_check_takes_the_common_cases() -> None:
    # value_problems answers these without looking at each value (spec: same verdict).
    common = CommonParams(region="ap-guangzhou", timestamp="1", nonce="2")
    clear = [
        DescribeImagesRequest(),
        DescribeImagesRequest(image_ids=("img-pmqg1cw7",), offset=5, limit=None),
        DescribeImagesRequest(filters=(Filter("image-name", ("数据", "a" * 4096)),), common=common),
        DescribeImagesRequest(offset=-(10**18) + 1, limit=10**18 - 1),
    ]
    for request in clear:
        assert _all_clear(request, DEFAULT_LIMITS), request
    assert _all_clear(DescribeImagesRequest(limit=5), WireLimits(max_value_length=19))
    look_closer: list[Any] = [
        DescribeImagesRequest(offset=-(10**18)),
        DescribeImagesRequest(limit=10**18),
        DescribeImagesRequest(offset=10**18),
        DescribeImagesRequest(limit=-(10**18)),
        DescribeImagesRequest(image_ids=("a" * 4097,)),
        DescribeImagesRequest(image_ids=("\x7f",)),
        DescribeImagesRequest(image_ids=("é\x00",)),
        DescribeImagesRequest(image_ids=("\udcff",)),
        DescribeImagesRequest(common=CommonParams(action=None)),  # type: ignore[arg-type]  # on purpose
    ]
    for request in look_closer:
        assert not _all_clear(request, DEFAULT_LIMITS), request
    assert not _all_clear(DescribeImagesRequest(limit=5), WireLimits(max_value_length=18))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ImageIds": [None]}, "ImageIds.0 must be a string, not a null"),
        ({"Limit": b"5"}, "Limit must be an integer, not a bytes"),
        (
            {"Filters": [{"Name": "x", "Values": [1.5]}]},
            "Filters.0.Values.0 must be a string, not a number",
        ),
        (
            {"Version": "9" * 100},
            "Version '999999999999999999999999999999999999... is not supported; use '2017-03-12'",
        ),
    ],
)
def test_from_dict_messages(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict(data)
    assert [v.message for v in info.value.violations] == [message]


def test_from_dict_reports_every_filter_and_honours_limits() -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict({"Filters": ["x", {"Name": 1}, {"Name": "y", "Mode": 2}]})
    assert [(v.reason, v.path) for v in info.value.violations] == [
        ("wrong-type", "Filters.0"),
        ("wrong-type", "Filters.1.Name"),
        ("unknown-parameter", "Filters.2.Mode"),
    ]
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict(
            {"ImageIds": ["img-pmqg1cw7"], "Region": "ap-guangzhou"},
            limits=WireLimits(max_value_length=11),
        )
    # Members in their order; Action (not sent: the default, 14 characters) after them.
    assert [(v.reason, v.path) for v in info.value.violations] == [
        ("too-large", "ImageIds.0"),
        ("too-large", "Region"),
        ("too-large", "Action"),
    ]


def test_from_dict_orders_by_rule_then_member() -> None:
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict(
            {"Zed": 1, "Limit": "1", "Timestamp": 10**5000, "Version": "x", "ImageIds": 5}
        )
    assert [(v.reason, v.path) for v in info.value.violations] == [
        ("too-large", "Timestamp"),
        ("wrong-type", "Limit"),
        ("wrong-type", "ImageIds"),
        ("unknown-parameter", "Zed"),
        ("unsupported-version", "Version"),
    ]
    # Text problems come in member order too (their own pass, once the types are right).
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict({"Region": "\x00", "ImageIds": ["\x01"], "Token": "\x02"})
    assert [v.path for v in info.value.violations] == ["Region", "ImageIds.0", "Token"]


# --- pinned details (from mutation runs) ---------------------------------------------------


def test_shown_quotes_what_it_shows_not_the_whole_value() -> None:
    # A quote far past the cut does not change how the shown part is quoted.
    assert shown("x" * 50 + "'") == "'" + "x" * 36 + "..."
    assert shown("x" * 38) == "'" + "x" * 38 + "'"
    assert shown("x" * 39) == "'" + "x" * 36 + "..."
    # repr sees the first width + 1 characters (all a cut needs): a quote among them picks
    # the other quote, one after them does not.
    assert shown("x" * 39 + "'") == '"' + "x" * 36 + "..."
    assert shown("x" * 40 + "'") == '"' + "x" * 36 + "..."
    assert shown("x" * 41 + "'") == "'" + "x" * 36 + "..."


def test_suggest_handles_a_key_of_two_segments() -> None:
    assert suggest("Filter.1") == "Filters.1"
    assert suggest("Filters.1") is None
    assert suggest("Filter.1.Value") == "Filters.1.Values"


def test_from_dict_reads_a_filter_without_name_as_an_empty_name() -> None:
    request = DescribeImagesRequest.from_dict({"Filters": [{"Values": ["x"]}]})
    assert request.filters == (Filter("", ("x",)),)
    # The same verdict as the wire door gives Filters.0.Values.0=x.
    assert [(v.code, v.reason, v.path) for v in validate(request)] == [
        ("InvalidFilter", "missing-filter-name", "Filters.0")
    ]


def test_from_dict_keeps_a_timestamp_or_nonce_of_zero() -> None:
    request = DescribeImagesRequest.from_dict({"Timestamp": 0, "Nonce": 0})
    assert (request.common.timestamp, request.common.nonce) == ("0", "0")


def test_from_dict_counts_integer_digits_with_the_callers_limits() -> None:
    assert DescribeImagesRequest.from_dict({"Timestamp": 10**19}).common.timestamp == str(10**19)
    with pytest.raises(RequestError) as info:
        DescribeImagesRequest.from_dict(
            {"Timestamp": 10**19}, limits=WireLimits(max_value_length=19)
        )
    assert [(v.code, v.reason, v.path) for v in info.value.violations] == [
        ("InvalidParameter", "too-large", "Timestamp")
    ]
    assert info.value.violations[0].message == (
        "Timestamp is an integer of more than 19 digits; at most 19 characters are allowed "
        "(max_value_length)"
    )


@pytest.mark.parametrize("base", [0, 1])
def test_lists_longer_than_the_key_table_are_encoded_from_either_base(base: Literal[0, 1]) -> None:
    # Encoding checks no rule: 102 IDs and 13 filters of 7 values (past the pre-built keys
    # of every list) get their keys written from the same base as the rest.
    ids = tuple(f"img-{i:08d}" for i in range(102))
    filters = tuple(Filter("image-type", ("PRIVATE_IMAGE",) * 7) for _ in range(13))
    keys = [key for key, _ in encode_request(DescribeImagesRequest(ids, filters), base)]
    assert keys == [
        "Action",
        "Version",
        *(f"ImageIds.{i + base}" for i in range(102)),
        *(
            key
            for i in range(13)
            for key in (
                f"Filters.{i + base}.Name",
                *(f"Filters.{i + base}.Values.{j + base}" for j in range(7)),
            )
        ),
    ]
