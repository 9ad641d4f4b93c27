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
from ._grammar import CONTROL_BYTES, DEFAULT_LIMITS, WireLimits
from ._model import (
    DEFAULT_COMMON,
    CommonParams,
    DescribeImagesRequest,
    Filter,
    int_text,
    value_problems,
)
from ._pairs import MAX_PASSES, UNRESERVED, escape_query, write_joined, write_pairs
from ._spec import COMMON_PARAMETERS, IMAGE_KEYS, NAME_KEYS, VALUE_KEYS, VERSION


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
    given: object = base  # callers without type checking may pass anything
    if type(given) is int and given in (0, 1):
        query = _written(request, base, limits)
        if query is not None:
            return query
    # encode_request refused every value the wire cannot carry: write_pairs may run.
    return write_pairs(encode_request(request, base, limits=limits))


# --- the common case, written at once -------------------------------------------------------
# A request of the plain types whose lists fit the key table is written at once: its keys
# (pre-built, each with its separators) and its texts interleaved by slice assignment and
# joined, then escaped as write_pairs escapes; no pair is built. The text checks
# value_problems makes are made on all the text at once; anything else, or any doubt,
# takes encode_request, which names every problem.


# Each key with its separators: "&" before it, "=" after it.
_HEAD_KEYS = ("Action=", "&Version=")
# _IDS[base][:n]: the keys of n IDs from base; _FILTERS[base][i][n]: those of filter i
# with n values.
_IDS = tuple(tuple(f"&{key}=" for key in keys) for keys in IMAGE_KEYS)
_FILTERS = tuple(
    tuple(
        tuple(tuple(f"&{key}=" for key in (name, *keys[:n])) for n in range(len(keys) + 1))
        for name, keys in zip(NAME_KEYS[b], (row[b] for row in VALUE_KEYS[b:]), strict=False)
    )
    for b in (0, 1)
)
_SCALARS = {wire: f"&{wire}=" for wire in ("Offset", "Limit", *COMMON_PARAMETERS)}
_CONTROLS = frozenset(CONTROL_BYTES)
_SEPARATORS = frozenset(b"=&")
# The keys as write_pairs joins them: "\x00" after the key, "\x01" before the next.
_JOINED = str.maketrans("=&", "\x00\x01")


def _written(request: object, base: int, limits: WireLimits) -> str | None:
    """``encode_query`` of a request of the plain types whose lists fit the key table and
    whose text passes value_problems' checks; None for any other."""
    if type(request) is not DescribeImagesRequest:
        return None
    ids: object = request.image_ids
    filters: object = request.filters
    common: object = request.common
    if type(ids) is not tuple or type(filters) is not tuple or type(common) is not CommonParams:
        return None
    rows = _FILTERS[base]
    if len(filters) > len(rows) or len(ids) > len(_IDS[base]):
        return None  # more filters or IDs than the key table has
    texts = [common.action, VERSION, *ids]
    keys = [*_HEAD_KEYS, *_IDS[base][: len(ids)]]
    # (A loop: for ten filters, cheaper than a map per part.)
    for item, row in zip(filters, rows, strict=False):
        if type(item) is not Filter or type(item.values) is not tuple:
            return None
        values = item.values
        if len(values) >= len(row):
            return None  # more values than the key table has
        texts.append(item.name)
        texts += values
        keys += row[len(values)]
    for wire, number in (("Offset", request.offset), ("Limit", request.limit)):
        if number is not None:
            # (The caller's cap is applied to every text below.)
            text = int_text(number) if type(number) is int else None
            if text is None:
                return None
            keys.append(_SCALARS[wire])
            texts.append(text)
    if common is not DEFAULT_COMMON:
        # Action is texts[0]; without one, texts[0] is None and the join below refuses
        # it, whatever items()[1:] then holds.
        for wire, value in common.items()[1:]:
            keys.append(_SCALARS[wire])
            texts.append(value)
    # value_problems' text checks, on all the text at once: str only (join refuses any
    # other type), within the cap, UTF-8 (a lone surrogate fails to encode), no control
    # (those are among the bytes to escape).
    try:
        data = "".join(texts).encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return None
    cap = limits.max_value_length
    if len(data) > cap and max(map(len, texts)) > cap:
        return None
    escaped = set(data.translate(None, UNRESERVED))
    if not escaped.isdisjoint(_CONTROLS):
        return None
    # The keys are unreserved: the text's bytes to escape are the query's. Joined with
    # "=" and "&" unless the text has one to escape (then with "\x00" and "\x01", which
    # no text has, as write_pairs joins them).
    parts = keys + texts
    parts[1::2] = texts
    if not escaped:
        parts[0::2] = keys
        return "".join(parts)
    if len(escaped) <= MAX_PASSES and escaped.isdisjoint(_SEPARATORS):
        parts[0::2] = keys
        return escape_query("".join(parts), escaped)
    parts[0::2] = [key.translate(_JOINED) for key in keys]
    return write_joined("".join(parts).encode("utf-8"), escaped)
