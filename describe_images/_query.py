"""The reference semantics of DescribeImages: which images a request selects.

One pure function, :func:`answer_request`; every decision is in spec/README.md §3.2.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import NewType

from ._errors import RequestError
from ._model import DescribeImagesRequest
from ._response import DescribeImagesResponse, Image
from ._rules import validate
from ._spec import FILTER_IMAGE_ID, FILTER_IMAGE_NAME, FILTER_IMAGE_TYPE

# Filter name -> the Image attribute it compares. Every comparison is exact string
# equality: case-sensitive, no trimming, no Unicode normalisation, no substring or
# wildcard (spec/README.md §3.2). `image-name` was the one open question; exact
# and case-sensitive is what `image-id` and `image-type` do, the only reading that needs
# no locale, and the one a client can always reproduce.
FILTER_ATTRIBUTES: dict[str, Callable[[Image], str]] = {
    FILTER_IMAGE_ID: attrgetter("image_id"),
    FILTER_IMAGE_TYPE: attrgetter("image_type"),
    FILTER_IMAGE_NAME: attrgetter("image_name"),
}


def select(request: DescribeImagesRequest, images: Iterable[Image]) -> list[Image]:
    """Every image a valid request matches, in catalog order (before paging)."""
    # One pass per filter over the images still chosen (filters are ANDed), each one
    # attribute lookup and one frozenset membership per image (a tuple's "in" would compare
    # value by value): a 10-filter request costs ~4x less than testing every filter per image.
    chosen = list(images)
    if request.image_ids:
        wanted = frozenset(request.image_ids)
        chosen = [image for image in chosen if image.image_id in wanted]
    for item in request.filters:
        read, values = FILTER_ATTRIBUTES[item.name], frozenset(item.values)
        chosen = [image for image in chosen if read(image) in values]
    return chosen


# A request known to break no rule: what decode_request and decode_pairs return (they
# raise RequestError otherwise), or what answer_request has validated. The type exists for
# mypy only: a plain DescribeImagesRequest handed to answer_valid is a type error, so no
# request is answered unvalidated by mistake; ValidRequest(request) says "checked" aloud.
ValidRequest = NewType("ValidRequest", DescribeImagesRequest)


def answer_request(
    request: DescribeImagesRequest,
    images: Iterable[Image],
    *,
    request_id: str | None = None,
) -> DescribeImagesResponse:
    """Answer ``request`` from the catalog ``images`` (spec/README.md §3.2).

    - ``ImageIds``: the images whose ImageId is listed; unknown IDs are simply absent, and
      an ID listed twice selects its image once.
    - ``Filters``: ANDed across filters (two with the same Name must both hold), ORed
      across one filter's Values; every comparison is exact and case-sensitive.
    - ``TotalCount`` counts every match; ``ImageSet`` is the page
      ``matches[Offset : Offset + Limit]`` (defaults 0 and 20), in catalog order.

    A request that breaks a rule is not answered: :class:`RequestError` carries what
    :func:`validate` finds, as a server would answer it. ``request_id`` defaults to a
    fresh UUID4.

    >>> from describe_images import Filter, default_catalog
    >>> req = DescribeImagesRequest(filters=(Filter("image-type", ("PUBLIC_IMAGE",)),), limit=2)
    >>> page = answer_request(req, default_catalog(), request_id="r-1")
    >>> len(page.image_set), page.total_count > 2, page.request_id
    (2, True, 'r-1')
    """
    violations = validate(request)
    if violations:
        raise RequestError(violations)
    return answer_valid(ValidRequest(request), images, request_id=request_id)


def answer_valid(
    request: ValidRequest,
    images: Iterable[Image],
    *,
    request_id: str | None = None,
) -> DescribeImagesResponse:
    """:func:`answer_request` for a request already validated (one the decoder returned),
    without validating it again (the server's path: spec/README.md §3.4, decoded once).

    >>> from describe_images import decode_request, default_catalog
    >>> query = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
    >>> answer_valid(ValidRequest(decode_request(query)), default_catalog()).total_count
    1
    """
    matches = select(request, images)
    start = request.effective_offset
    page = matches[start : start + request.effective_limit]
    return DescribeImagesResponse(
        image_set=tuple(page),
        total_count=len(matches),
        request_id=str(uuid.uuid4()) if request_id is None else request_id,
    )
