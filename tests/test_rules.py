"""The rules (describe_images._rules): the whole-sequence fast checks agree with the
detailed ones and are actually taken, boundaries, and the messages users read."""

from __future__ import annotations

import pytest

from describe_images import CommonParams, DescribeImagesRequest, Filter, encode_request, validate
from describe_images._model import shown
from describe_images._rules import _all_image_ids, _filter_ok, _filters_ok, check
from describe_images._spec import MAX_FILTER_VALUES, MAX_FILTERS, MAX_IMAGE_IDS

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
