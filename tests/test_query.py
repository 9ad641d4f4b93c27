"""The reference semantics, answer_request() (describe_images._query), against
spec/vectors/query.json
and against an independent oracle."""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import DescribeImagesRequest, Filter, RequestError, decode_request
from describe_images._catalog import default_catalog, parse_catalog
from describe_images._errors import ErrorCode
from describe_images._query import (
    FILTER_ATTRIBUTES,
    ValidRequest,
    answer_request,
    answer_valid,
    select,
)
from describe_images._response import DescribeImagesResponse, Image
from describe_images._spec import (
    DEFAULT_LIMIT,
    FILTER_NAMES,
    IMAGE_TYPES,
    MAX_FILTER_VALUES,
    MAX_FILTERS,
    MAX_LIMIT,
)
from tests import vectorfiles
from tests.seed import SEED_1_IMAGE

ROOT = Path(__file__).resolve().parent.parent
QUERY_VECTORS = ROOT / "spec" / "vectors" / "query.json"


@cache
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(QUERY_VECTORS.read_text(encoding="utf-8"))
    return data


@cache
def vector_catalog() -> tuple[Image, ...]:
    return parse_catalog(vectors(), source=str(QUERY_VECTORS))


CASES = vectors()["cases"]


# --- spec/vectors/query.json -----------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_query_vector(case: dict[str, Any]) -> None:
    page = answer_request(decode_request(case["query"]), vector_catalog(), request_id="r")
    assert page.total_count == case["total_count"]
    assert [image.image_id for image in page.image_set] == case["image_ids"]


def test_query_vectors_cover_the_required_edges() -> None:
    ids = {case["id"] for case in CASES}
    assert len(CASES) >= 30
    assert len(ids) == len(CASES)
    required = {
        "default-page",  # the default Limit 20 (the catalog has more than 20 images)
        "limit-100",
        "last-partial-page",
        "offset-past-end",
        "offset-equals-total",
        "type-duplicate-name-disjoint",
        "type-duplicate-name-overlap",
        "type-values-or",
        "name-exact",
        "name-case-sensitive",
        "name-trailing-space",
        "name-no-substring",
        "image-ids-unknown",
        "image-ids-catalog-order",
    }
    assert required <= ids
    assert len(vector_catalog()) > DEFAULT_LIMIT
    assert {image.image_type for image in vector_catalog()} == set(IMAGE_TYPES)


def test_query_vectors_match_their_schema() -> None:
    schema = vectorfiles.schemas()["query.schema.json"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert vectors()["$schema"] == "../schema/query.schema.json"
    assert vectorfiles.schema_problems(vectors(), schema) == []
    # The validator does catch things.
    broken = {"description": "x", "catalog": [{"ImageId": "img-1"}], "cases": [], "extra": 1}
    assert len(vectorfiles.schema_problems(broken, schema)) >= 5


# --- answer_request(): the rules of the answer ----------------------------------------------------


def image(image_id: str, kind: str = "PUBLIC_IMAGE", name: str = "n") -> Image:
    return Image(image_id, "os", kind, "t", "NORMAL", name, "d", "PUBLIC")


SMALL = (
    image("img-00000003", "PRIVATE_IMAGE", "b"),
    image("img-00000001", "PUBLIC_IMAGE", "a"),
    image("img-00000002", "SHARED_IMAGE", "A"),
)


def ids(response: DescribeImagesResponse) -> list[str]:
    return [i.image_id for i in response.image_set]


def test_catalog_order_not_request_order() -> None:
    request = DescribeImagesRequest(image_ids=("img-00000002", "img-00000003"))
    assert ids(answer_request(request, SMALL)) == ["img-00000003", "img-00000002"]


def test_image_name_is_exact_and_case_sensitive() -> None:
    request = DescribeImagesRequest(filters=(Filter("image-name", ("a",)),))
    assert ids(answer_request(request, SMALL)) == ["img-00000001"]


def test_images_may_be_any_iterable() -> None:
    page = answer_request(DescribeImagesRequest(), iter(SMALL), request_id="r")
    assert page == DescribeImagesResponse(SMALL, 3, "r")


def test_request_id_defaults_to_a_fresh_uuid4() -> None:
    first = answer_request(DescribeImagesRequest(), SMALL).request_id
    second = answer_request(DescribeImagesRequest(), SMALL).request_id
    assert uuid.UUID(first).version == 4
    assert first != second
    assert str(uuid.UUID(first)) == first


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (DescribeImagesRequest(limit=101), ErrorCode.INVALID_LIMIT),
        (DescribeImagesRequest(limit=0), ErrorCode.INVALID_LIMIT),
        (DescribeImagesRequest(offset=-1), ErrorCode.INVALID_PARAMETER_VALUE),
        (
            DescribeImagesRequest(
                image_ids=("img-00000001",), filters=(Filter("image-id", ("img-00000001",)),)
            ),
            ErrorCode.COEXIST_IMAGE_IDS_FILTERS,
        ),
        (DescribeImagesRequest(filters=(Filter("image-size", ("1",)),)), ErrorCode.INVALID_FILTER),
        (DescribeImagesRequest(image_ids=("IMG-1",)), ErrorCode.MALFORMED_IMAGE_ID),
    ],
    ids=["limit-101", "limit-0", "offset-negative", "coexist", "unknown-filter", "malformed-id"],
)
def test_an_invalid_request_is_refused(request_: DescribeImagesRequest, code: ErrorCode) -> None:
    with pytest.raises(RequestError) as info:
        answer_request(request_, SMALL)
    assert info.value.code == code


def test_filter_attributes_cover_every_filter_name() -> None:
    assert set(FILTER_ATTRIBUTES) == set(FILTER_NAMES)


def test_the_seed_example_1_answers_the_seed_response() -> None:
    request = decode_request(
        "https://image.api.qcloud.com/v2/index.php?Action=DescribeImages"
        "&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
    )
    request_id = "5920380e-277a-420a-a221-0caac3eb7159"
    page = answer_request(request, default_catalog(), request_id=request_id)
    assert page.to_dict() == {
        "Response": {
            "ImageSet": [SEED_1_IMAGE],
            "TotalCount": 1,
            "RequestId": "5920380e-277a-420a-a221-0caac3eb7159",
        }
    }


def test_the_seed_example_2_answers_the_private_images() -> None:
    # The seed's Example 2 response shows a PUBLIC_IMAGE for a PRIVATE_IMAGE filter; the
    # semantics win over that copy-paste (spec/README.md §3.2).
    request = decode_request(
        "Action=DescribeImages&Version=2017-03-12"
        "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
    )
    page = answer_request(request, default_catalog())
    private = [i for i in default_catalog() if i.image_type == "PRIVATE_IMAGE"]
    assert page.total_count == len(private) > 0
    assert list(page.image_set) == private[:DEFAULT_LIMIT]


# --- Properties, against an oracle written differently ----------------------------------

NAMES = ("a", "A", "a ", "b", "数据")


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[Image, ...]:
    numbers = draw(st.lists(st.integers(0, 60), unique=True, max_size=40))
    return tuple(
        image(f"img-{n:08d}", draw(st.sampled_from(IMAGE_TYPES)), draw(st.sampled_from(NAMES)))
        for n in numbers
    )


def id_pool(catalog: tuple[Image, ...]) -> st.SearchStrategy[str]:
    unknown = st.integers(61, 70).map(lambda n: f"img-{n:08d}")
    known = [i.image_id for i in catalog]
    return st.sampled_from(known) | unknown if known else unknown


@st.composite
def valid_requests(draw: st.DrawFn, catalog: tuple[Image, ...]) -> DescribeImagesRequest:
    ids_ = id_pool(catalog)
    pools = {
        "image-id": ids_,
        "image-type": st.sampled_from(IMAGE_TYPES),
        "image-name": st.sampled_from(NAMES),
    }
    image_ids: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    mode = draw(st.sampled_from(["all", "ids", "filters"]))
    if mode == "ids":
        image_ids = tuple(draw(st.lists(ids_, min_size=1, max_size=8)))
    elif mode == "filters":
        names = draw(st.lists(st.sampled_from(FILTER_NAMES), min_size=1, max_size=MAX_FILTERS))
        filters = tuple(
            Filter(name, tuple(draw(st.lists(pools[name], min_size=1, max_size=MAX_FILTER_VALUES))))
            for name in names
        )
    offset = draw(st.none() | st.integers(0, len(catalog) + 3) | st.just(2**63 - 1))
    limit = draw(st.none() | st.integers(1, MAX_LIMIT))
    return DescribeImagesRequest(image_ids=image_ids, filters=filters, offset=offset, limit=limit)


def oracle(request: DescribeImagesRequest, catalog: tuple[Image, ...]) -> list[Image]:
    """Matches by set algebra: intersect, over the filters, the union of each's values."""
    chosen = {i.image_id for i in catalog}
    if request.image_ids:
        chosen &= set(request.image_ids)
    fields = {"image-id": "image_id", "image-type": "image_type", "image-name": "image_name"}
    for flt in request.filters:
        hits: set[str] = set()
        for value in flt.values:
            hits |= {i.image_id for i in catalog if getattr(i, fields[flt.name]) == value}
        chosen &= hits
    return [i for i in catalog if i.image_id in chosen]


@given(st.data())
def test_answer_against_the_oracle(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    request = data.draw(valid_requests(catalog))
    page = answer_request(request, catalog)
    matches = oracle(request, catalog)
    assert len(page.image_set) <= request.effective_limit
    assert page.total_count == len(matches)
    start = request.effective_offset
    assert list(page.image_set) == matches[start : start + request.effective_limit]
    assert select(request, catalog) == matches
    # The decoder's requests are answered without validating again: the same page.
    again = answer_valid(ValidRequest(request), catalog, request_id=page.request_id)
    assert again == page


@given(st.data())
def test_paging_visits_every_match_exactly_once(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    base = data.draw(valid_requests(catalog))
    limit = data.draw(st.integers(1, MAX_LIMIT))
    seen: list[Image] = []
    offset = 0
    while True:
        page = answer_request(
            DescribeImagesRequest(
                image_ids=base.image_ids, filters=base.filters, offset=offset, limit=limit
            ),
            catalog,
        )
        assert len(page.image_set) <= limit
        seen += page.image_set
        offset += limit
        if offset >= page.total_count:
            break
    assert seen == oracle(base, catalog)
    assert len({i.image_id for i in seen}) == len(seen)


# --- The docstring examples of this side's modules ------------------------------------
