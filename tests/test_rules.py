"""The rules (describe_images._rules): the whole-sequence fast checks agree with the
detailed ones and are actually taken, boundaries, and the messages users read."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, TypeVar
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from describe_images import (
    DEFAULT_LIMITS,
    CommonParams,
    DescribeImagesRequest,
    Filter,
    RequestError,
    UsageError,
    WireLimits,
    _encode,
    encode_query,
    encode_request,
    validate,
)
from describe_images._model import shown, value_problems
from describe_images._pairs import write_pairs
from describe_images._rules import _all_image_ids, _filter_ok, _filters_ok, check
from describe_images._spec import MAX_FILTER_VALUES, MAX_FILTERS, MAX_IMAGE_IDS
from tests.strategies import any_requests, hostile_requests, valid_requests

_T = TypeVar("_T")
IDS = tuple(f"img-{i:08d}" for i in range(MAX_IMAGE_IDS))
NEAR_MISSES = (
    "img-1234567",  # 11 characters
    "img-123456789",  # 13
    "img-ABCDEFGH",  # upper case
    "Img-12345678",
    "iMg-12345678",
    "imG-12345678",
    "img_12345678",
    "img-1234-678",  # a second dash
    "img-1234567\u0661",  # a non-ASCII digit
    "img-1234567é",
    "img-1234567 ",
    "",
)


@pytest.mark.parametrize("count", [1, 15, 16, 17, 100])
def test_the_batch_image_id_check_takes_valid_ids(count: int) -> None:
    assert _all_image_ids(IDS[:count]) is True


@pytest.mark.parametrize("count", [15, 16, 17, 100])
@pytest.mark.parametrize("bad", NEAR_MISSES)
def test_the_batch_image_id_check_refuses_every_near_miss(count: int, bad: str) -> None:
    for at in (0, count // 2, count - 1):
        values = (*IDS[:at], bad, *IDS[at + 1 : count])
        assert len(values) == count
        assert _all_image_ids(values) is False, (bad, at)
        request = DescribeImagesRequest(image_ids=values)
        assert [(v.reason, v.path) for v in validate(request)] == [
            ("malformed-image-id", f"ImageIds.{at}")
        ]
    # Two IDs whose lengths shift but keep the joined layout (11 + 13 characters).
    shifted = (*IDS[: count - 2], "img-1234567", "ximg-12345678")
    assert _all_image_ids(shifted) is False


def test_the_filter_fast_checks_take_the_valid_shapes() -> None:
    types = ("PRIVATE_IMAGE", "PUBLIC_IMAGE", "SHARED_IMAGE", "PRIVATE_IMAGE", "PUBLIC_IMAGE")
    assert _filter_ok("image-type", types[:MAX_FILTER_VALUES])
    assert _filter_ok("image-id", IDS[:MAX_FILTER_VALUES])
    assert _filter_ok("image-name", ("a", "b", "c", "d", "e"))
    assert not _filter_ok("image-type", (*types, "PRIVATE_IMAGE"))  # 6 values
    assert not _filter_ok("image-name", ())
    assert not _filter_ok("image-name", ("a", ""))
    assert not _filter_ok("image-type", ("private",))
    assert not _filter_ok("image-id", ("img-X",))
    assert not _filter_ok("Image-Type", ("PRIVATE_IMAGE",))
    ok = Filter("image-type", ("PRIVATE_IMAGE",))
    assert _filters_ok((ok,) * MAX_FILTERS)
    assert _filters_ok(())
    assert not _filters_ok((ok,) * (MAX_FILTERS + 1))
    assert not _filters_ok((ok, Filter("image-type", ())))


def test_exactly_at_the_maxima_one_broken_element_is_all_that_is_reported() -> None:
    ok = Filter("image-type", ("PRIVATE_IMAGE",))
    ten = (ok,) * (MAX_FILTERS - 1) + (Filter("image-type", ("private",)),)
    assert [(v.reason, v.path) for v in validate(DescribeImagesRequest(filters=ten))] == [
        ("invalid-filter-value", "Filters.9.Values.0")
    ]
    five = Filter("image-type", ("PRIVATE_IMAGE",) * (MAX_FILTER_VALUES - 1) + ("x",))
    assert [(v.reason, v.path) for v in validate(DescribeImagesRequest(filters=(five,)))] == [
        ("invalid-filter-value", "Filters.0.Values.4")
    ]


def test_filters_after_one_without_values_are_checked() -> None:
    request = DescribeImagesRequest(
        filters=(Filter("image-type", ()), Filter("image-id", ("img-X",)), Filter("", ("x",)))
    )
    assert [(v.reason, v.path) for v in validate(request)] == [
        ("missing-filter-name", "Filters.2"),
        ("missing-filter-values", "Filters.0"),
        ("invalid-filter-value", "Filters.1.Values.0"),
    ]


def test_paths_use_the_indexes_as_sent() -> None:
    request = DescribeImagesRequest(
        image_ids=("bad",), filters=(Filter("image-type", ("PRIVATE_IMAGE", "x")),)
    )
    found = check(request, image_index=[7], filter_index=[3], value_index=[[5, 6]])
    assert [v.path for v in found] == ["", "Filters.3.Values.6", "ImageIds.7"]
    assert found[1].message == (
        "Filters.3.Values.6 is 'x'; image-type takes PRIVATE_IMAGE, PUBLIC_IMAGE, SHARED_IMAGE"
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            DescribeImagesRequest(
                image_ids=("img-pmqg1cw7",), filters=(Filter("image-type", ("SHARED_IMAGE",)),)
            ),
            "ImageIds and Filters cannot be specified at the same time",
        ),
        (
            DescribeImagesRequest(common=CommonParams(action="RunInstances")),
            "Action 'RunInstances' is not supported; this endpoint serves DescribeImages",
        ),
        (
            DescribeImagesRequest(common=CommonParams(timestamp="12a")),
            "Timestamp is '12a'; it must be an unsigned decimal integer",
        ),
        (
            DescribeImagesRequest(common=CommonParams(nonce="-1")),
            "Nonce is '-1'; it must be an unsigned decimal integer",
        ),
        (
            DescribeImagesRequest(common=CommonParams(signature_method="hmacsha256")),
            "SignatureMethod is 'hmacsha256'; use HmacSHA1 or HmacSHA256",
        ),
        (
            DescribeImagesRequest(filters=(Filter("", ("x",)),)),
            "Filters.0 has no Name; a filter's Name is one of image-id, image-type, image-name",
        ),
        (
            DescribeImagesRequest(filters=(Filter("image-id", ("img-X",)),)),
            "Filters.0.Values.0 is 'img-X'; an image ID is img- followed by 8 lower-case "
            "letters or digits (img-pmqg1cw7)",
        ),
        (
            DescribeImagesRequest(image_ids=("img-X",)),
            "ImageIds.0 is 'img-X'; an image ID is img- followed by 8 lower-case letters or "
            "digits (img-pmqg1cw7)",
        ),
        (
            DescribeImagesRequest(offset=-1),
            "Offset is '-1'; it must be an integer from 0 to 9223372036854775807",
        ),
        (
            DescribeImagesRequest(limit=10**50),
            "Limit is '100000000000000000000000000000000000...; it must be an integer from 1 "
            "to 100",
        ),
    ],
)
def test_messages(request_: DescribeImagesRequest, message: str) -> None:
    assert [v.message for v in validate(request_)] == [message]


def test_shown_cuts_at_forty_characters() -> None:
    assert shown("x" * 38) == "'" + "x" * 38 + "'"  # 40 characters: kept
    assert shown("x" * 39) == "'" + "x" * 36 + "..."  # 41: cut to 37 and "..."
    assert shown("x" * 10_000) == "'" + "x" * 36 + "..."
    assert shown(12345) == "12345"
    assert shown("a\x00b") == "'a\\x00b'"


def test_violations_of_different_filters_come_in_rule_order() -> None:
    request = DescribeImagesRequest(
        filters=(Filter("image-type", ("private",)), Filter("", ("PRIVATE_IMAGE",)))
    )
    assert [(v.reason, v.path) for v in validate(request)] == [
        ("missing-filter-name", "Filters.1"),
        ("invalid-filter-value", "Filters.0.Values.0"),
    ]


def test_encode_request_is_zero_based_by_default() -> None:
    pairs = encode_request(DescribeImagesRequest(image_ids=("img-pmqg1cw7",)))
    assert pairs == [
        ("Action", "DescribeImages"),
        ("Version", "2017-03-12"),
        ("ImageIds.0", "img-pmqg1cw7"),
    ]


def test_every_image_id_filter_is_checked_not_only_the_last() -> None:
    # The fast check batches the image-id values of all filters (mutation: keeping only
    # the last filter's batch accepted a malformed ID in an earlier one).
    broken_first = (Filter("image-id", ("img-bad",)), Filter("image-id", ("img-pmqg1cw7",)))
    assert _filters_ok(broken_first) is False
    assert [
        (v.code, v.reason, v.path) for v in validate(DescribeImagesRequest(filters=broken_first))
    ] == [("InvalidFilter", "invalid-filter-value", "Filters.0.Values.0")]
    assert _filters_ok(broken_first[::-1]) is False
    assert _filters_ok((broken_first[1], broken_first[1])) is True


# --- the encoder writes the common case at once ---------------------------------------------


def _slow_query(request: object, base: Literal[0, 1]) -> str | None:
    """What encode_query gives without its fast writer (None: it refuses the request)."""
    try:
        return write_pairs(encode_request(request, base))  # type: ignore[arg-type]
    except RequestError:
        return None


@given(
    st.one_of(valid_requests(), any_requests(), hostile_requests()),
    st.sampled_from([0, 1]),
    st.sampled_from([DEFAULT_LIMITS, WireLimits(max_value_length=12)]),
)
def test_the_fast_writer_writes_what_the_pairs_give(
    request: DescribeImagesRequest, base: Literal[0, 1], limits: WireLimits
) -> None:
    fast = _encode._written(request, base, limits)
    problems = value_problems(request, limits)
    if problems:
        assert fast is None
        with pytest.raises(RequestError):
            encode_query(request, base, limits=limits)
        return
    slow = write_pairs(encode_request(request, base, limits=limits))
    assert fast in (None, slow)
    assert encode_query(request, base, limits=limits) == slow
    assert slow == urlencode(encode_request(request, base, limits=limits))


@given(valid_requests(), st.sampled_from([0, 1]))
def test_the_fast_writer_takes_every_valid_request_of_plain_text(
    request: DescribeImagesRequest, base: Literal[0, 1]
) -> None:
    # Valid requests hold few distinct bytes to escape: no "=" or "&", or non-ASCII.
    text = "".join(value for _, value in encode_request(request))
    assume(text.isascii() and "=" not in text and "&" not in text)
    assert _encode._written(request, base, DEFAULT_LIMITS) == _slow_query(request, base)


FULL = DescribeImagesRequest(
    filters=tuple(
        Filter(f"n{i}", tuple(f"v{i}{j}" for j in range(MAX_FILTER_VALUES + 1)))
        for i in range(MAX_FILTERS + 1)
    ),
    image_ids=(*IDS, "img-00000100"),
    offset=10**18 - 1,
    limit=-(10**18) + 1,
    common=CommonParams(
        region="r", timestamp="1", nonce="2", secret_id="s", signature_method="HmacSHA256",
        token="t", request_client="c", language="l", signature="x",
    ),
)  # fmt: skip


@pytest.mark.parametrize("base", [0, 1])
@pytest.mark.parametrize(
    "request_",
    [
        FULL,  # every list as long as the key table: written at once
        DescribeImagesRequest(),
        DescribeImagesRequest(filters=(Filter("image-name", ()),), offset=0),
        DescribeImagesRequest(common=CommonParams(action="Other", token="")),
        DescribeImagesRequest(offset=2**63 - 1, limit=-(10**30)),
        DescribeImagesRequest(filters=(Filter("image-name", ("a b/c%d~e+f",)),)),
        DescribeImagesRequest(filters=(Filter("image-name", ("a=b&c",)),)),  # "=" and "&"
        DescribeImagesRequest(filters=(Filter("image-name", ("中文 名",)),)),  # many bytes
        DescribeImagesRequest(filters=(Filter("image-name", ("!\"#$%'()*,/:;<>?@[",)),)),
        DescribeImagesRequest(filters=(Filter("image-name", ("!\"#$%'()*,/:;<>?",)),)),
    ],
)
def test_the_fast_writer_takes_the_plain_types_up_to_the_key_table(
    request_: DescribeImagesRequest, base: Literal[0, 1]
) -> None:
    written = _encode._written(request_, base, DEFAULT_LIMITS)
    assert written is not None
    assert written == _slow_query(request_, base) == urlencode(encode_request(request_, base))


class _Text(str):
    __slots__ = ()


def _with(value: _T, field: str, given: object) -> _T:
    """``value`` holding ``given`` in ``field`` as no constructor would keep it."""
    object.__setattr__(value, field, given)
    return value


@pytest.mark.parametrize(
    "request_",
    [
        replace(FULL, image_ids=(*FULL.image_ids, "img-00000102")),  # past the key table
        replace(FULL, filters=(*FULL.filters, Filter("n", ("v",)))),
        replace(FULL, filters=(Filter("n", ("v",) * (MAX_FILTER_VALUES + 2)),)),
        DescribeImagesRequest(offset=10**5000),  # too many digits to convert
        DescribeImagesRequest(limit=-(10**5000)),
        DescribeImagesRequest(limit=True),
        _with(DescribeImagesRequest(), "image_ids", ["img-pmqg1cw7"]),  # a list
        _with(DescribeImagesRequest(), "filters", [Filter("n", ("v",))]),
        DescribeImagesRequest(filters=(_with(Filter("n"), "values", ["v"]),)),
        DescribeImagesRequest(filters=(Filter(5, ("v",)),)),  # type: ignore[arg-type]
        DescribeImagesRequest(filters=("x",)),  # type: ignore[arg-type]
        DescribeImagesRequest(common=CommonParams(action=None)),  # type: ignore[arg-type]
        DescribeImagesRequest(common=CommonParams(region=5)),  # type: ignore[arg-type]
        DescribeImagesRequest(common=CommonParams(region="\ud800")),
        DescribeImagesRequest(common=CommonParams(region="a\x7f")),
        DescribeImagesRequest(image_ids=("\x00",)),  # the separators too
        DescribeImagesRequest(image_ids=("\x01",)),
        DescribeImagesRequest(image_ids=("x" * 4097,)),
        DescribeImagesRequest(common=None),  # type: ignore[arg-type]
        "Action=DescribeImages",
    ],
)
def test_the_fast_writer_declines_anything_else(request_: DescribeImagesRequest) -> None:
    assert _encode._written(request_, 0, DEFAULT_LIMITS) is None
    if not value_problems(request_):
        assert encode_query(request_) == _slow_query(request_, 0)


def test_the_fast_writer_honours_the_value_cap() -> None:
    # Its longest text has 15 characters (Action has 14), all of it 51.
    request = DescribeImagesRequest(image_ids=("img-pmqg1cw7", "x" * 15))
    for cap, written in ((15, True), (14, False), (51, True), (50, True)):
        found = _encode._written(request, 0, WireLimits(max_value_length=cap))
        assert (found is not None) is written, cap
        assert found in (None, _slow_query(request, 0))
    subclassed = DescribeImagesRequest(image_ids=(_Text("img-pmqg1cw7"),))
    assert _encode._written(subclassed, 0, DEFAULT_LIMITS) == _slow_query(subclassed, 0)


@pytest.mark.parametrize("base", [0, 1])
def test_encode_query_takes_the_fast_writer(
    base: Literal[0, 1], monkeypatch: pytest.MonkeyPatch
) -> None:
    request = DescribeImagesRequest(
        filters=(Filter("image-name", ("Ubuntu 22.04/x86",)),), offset=0, limit=10
    )
    expected = _slow_query(request, base)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("encode_request called")

    monkeypatch.setattr(_encode, "encode_request", refuse)
    assert encode_query(request, base) == expected
    assert encode_query(request, base=base) == expected


@pytest.mark.parametrize("base", [True, False, 2, -1, 1.0, "0", None])
def test_encode_query_refuses_a_base_that_is_not_0_or_1(base: object) -> None:
    with pytest.raises(UsageError, match="base must be 0 or 1"):
        encode_query(DescribeImagesRequest(), base)  # type: ignore[arg-type]
