"""The reference semantics of DescribeImages: which images a request selects.

One pure function, :func:`answer_request`; every decision is in spec/README.md §3.2.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from ._errors import RequestError
from ._model import DescribeImagesRequest, Filter
from ._response import DescribeImagesResponse, Image
from ._rules import validate
from ._spec import FILTER_IMAGE_ID, FILTER_IMAGE_NAME, FILTER_IMAGE_TYPE

# Filter name -> the Image attribute it compares. Every comparison is exact string
# equality: case-sensitive, no trimming, no Unicode normalisation, no substring or
# wildcard (spec/README.md §3.2). `image-name` was the one open question; exact
# and case-sensitive is what `image-id` and `image-type` do, the only reading that needs
# no locale, and the one a client can always reproduce.
FILTER_ATTRIBUTES: dict[str, Callable[[Image], str]] = {
    FILTER_IMAGE_ID: lambda image: image.image_id,
    FILTER_IMAGE_TYPE: lambda image: image.image_type,
    FILTER_IMAGE_NAME: lambda image: image.image_name,
}


def _matches(image: Image, wanted_ids: frozenset[str] | None, filters: tuple[Filter, ...]) -> bool:
    if wanted_ids is not None and image.image_id not in wanted_ids:
        return False
    return all(FILTER_ATTRIBUTES[f.name](image) in f.values for f in filters)


def select(request: DescribeImagesRequest, images: Iterable[Image]) -> list[Image]:
    """Every image a valid request matches, in catalog order (before paging)."""
    wanted = frozenset(request.image_ids) if request.image_ids else None
    return [image for image in images if _matches(image, wanted, request.filters)]


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

    >>> from describe_images._catalog import default_catalog
    >>> req = DescribeImagesRequest(filters=(Filter("image-type", ("PUBLIC_IMAGE",)),), limit=2)
    >>> page = answer_request(req, default_catalog(), request_id="r-1")
    >>> len(page.image_set), page.total_count > 2, page.request_id
    (2, True, 'r-1')
    """
    violations = validate(request)
    if violations:
        raise RequestError(violations)
    matches = select(request, images)
    start = request.effective_offset
    page = matches[start : start + request.effective_limit]
    return DescribeImagesResponse(
        image_set=tuple(page),
        total_count=len(matches),
        request_id=str(uuid.uuid4()) if request_id is None else request_id,
    )
