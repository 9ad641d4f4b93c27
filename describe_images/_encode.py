"""Typed request -> the pairs and query string the official SDK sends.

Order (spec/README.md §2.7): Action, Version, ImageIds, Filters (Name before
Values), Offset, Limit, then the set common parameters, Signature last. Encoding checks
no rule (11 filters encode), but a value the wire cannot carry (a wrong type, a lone
surrogate, a control character, a value over the cap) is refused with the violations
:func:`._model.value_problems` names, so ``decode_request(encode_query(r)) == r`` for
every valid request.
"""

from __future__ import annotations

from typing import Literal

from ._errors import RequestError, UsageError
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._model import DEFAULT_COMMON, DescribeImagesRequest, value_problems
from ._pairs import write_pairs
from ._spec import IMAGE_KEYS, NAME_KEYS, VALUE_KEYS, VERSION


def encode_request(
    request: DescribeImagesRequest,
    base: Literal[0, 1] = 0,
    *,
    limits: WireLimits = DEFAULT_LIMITS,
) -> list[tuple[str, str]]:
    """The request as ordered (key, value) pairs, lists indexed from ``base``.

    >>> from describe_images import Filter
    >>> encode_request(DescribeImagesRequest(filters=(Filter("image-type", ("PRIVATE_IMAGE",)),)))
    ... # doctest: +NORMALIZE_WHITESPACE
    [('Action', 'DescribeImages'), ('Version', '2017-03-12'),
     ('Filters.0.Name', 'image-type'), ('Filters.0.Values.0', 'PRIVATE_IMAGE')]
    """
    given: object = base  # callers without type checking may pass anything
    if type(given) is not int or given not in (0, 1):
        raise UsageError(f"base must be 0 or 1, not {base!r:.40}")
    problems = value_problems(request, limits)
    if problems:
        raise RequestError(problems)
    image_keys, name_keys = IMAGE_KEYS[base], NAME_KEYS[base]
    common = request.common
    pairs = [("Action", common.action), ("Version", VERSION)]
    # The keys are pre-built for every list a valid request has (zip pairs them in C);
    # longer lists, which only an invalid request has, get theirs written here.
    ids = request.image_ids
    if ids:
        pairs += zip(image_keys, ids, strict=False)
        pairs += [(f"ImageIds.{i + base}", ids[i]) for i in range(len(image_keys), len(ids))]
    for i, item in enumerate(request.filters):
        if i < len(name_keys):
            name_key, keys = name_keys[i], VALUE_KEYS[i + base][base]
        else:
            name_key, keys = f"Filters.{i + base}.Name", ()
        pairs.append((name_key, item.name))
        values = item.values
        pairs += zip(keys, values, strict=False)
        if len(values) > len(keys):
            pairs += [
                (f"Filters.{i + base}.Values.{j + base}", values[j])
                for j in range(len(keys), len(values))
            ]
    # value_problems checked that Offset and Limit have few enough digits to convert.
    if request.offset is not None:
        pairs.append(("Offset", int.__repr__(request.offset)))
    if request.limit is not None:
        pairs.append(("Limit", int.__repr__(request.limit)))
    if common != DEFAULT_COMMON:
        pairs += [(wire, value) for wire, value in common.items() if wire != "Action"]
    return pairs


def encode_query(
    request: DescribeImagesRequest,
    base: Literal[0, 1] = 0,
    *,
    limits: WireLimits = DEFAULT_LIMITS,
) -> str:
    """The request as a percent-encoded query string (what ``urlencode`` gives).

    >>> encode_query(DescribeImagesRequest(image_ids=("img-pmqg1cw7",)))
    'Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7'
    """
    # encode_request refused every value the wire cannot carry: write_pairs may run.
    return write_pairs(encode_request(request, base, limits=limits))
