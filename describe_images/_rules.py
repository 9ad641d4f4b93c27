"""The DescribeImages rules: a typed request -> every violation, each with its code.

The rules and their order are spec/README.md §2.3. Paths use the indexes a client
sent: :func:`check` takes the sent index of every list element (``None`` means the
encoder's 0-based indexes, for a request built in code).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import RULE_RANK, Violation, violation
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._model import DEFAULT_COMMON, DescribeImagesRequest, Filter, int_text, shown, value_problems
from ._spec import (
    ACTION,
    DIGITS_RE,
    FILTER_IMAGE_ID,
    FILTER_IMAGE_NAME,
    FILTER_IMAGE_TYPE,
    FILTER_NAMES,
    IMAGE_ID_RE,
    IMAGE_TYPES,
    MAX_FILTER_VALUES,
    MAX_FILTERS,
    MAX_IMAGE_IDS,
    MAX_LIMIT,
    MAX_OFFSET,
    MIN_LIMIT,
    SIGNATURE_METHODS,
)

_IMAGE_ID_HELP = "an image ID is img- followed by 8 lower-case letters or digits (img-pmqg1cw7)"


def _indexes(sent: Sequence[int] | None, count: int) -> Sequence[int]:
    return range(count) if sent is None else sent


_NAME_SET = frozenset(FILTER_NAMES)
_TYPE_SET = frozenset(IMAGE_TYPES)
_is_image_id = IMAGE_ID_RE.match
# Each character of image IDs joined by "," mapped to its class: [0-9a-z] -> "x", "-" and
# "," kept, anything else "?". n valid IDs (and a "," after the last) map to n times _ID.
_ID_CLASS = bytes(
    120 if chr(b) in "0123456789abcdefghijklmnopqrstuvwxyz" else b if chr(b) in "-," else 63
    for b in range(256)
)
_ID = b"xxx-xxxxxxxx,"


def _all_image_ids(values: tuple[str, ...]) -> bool:
    """Whether every value matches IMAGE_ID_RE, with whole-string operations only: joined
    by ",", the values map to the classes of n IDs ("," only between them, so every value
    is 12 characters, "-" only fourth), and every one starts with "img"."""
    n = len(values)
    if n < 8:  # few: one regex call each is cheaper than the whole-string checks
        return all(map(_is_image_id, values))
    joined = ",".join(values)
    if not joined.isascii():
        return False
    raw = joined.encode("ascii") + b","
    return (
        raw.translate(_ID_CLASS) == _ID * n
        and raw[0::13] == b"i" * n
        and raw[1::13] == b"m" * n
        and raw[2::13] == b"g" * n
    )


def _filter_ok(name: str, values: tuple[str, ...]) -> bool:
    """The common case, checked with set and map operations only."""
    if not values or len(values) > MAX_FILTER_VALUES:
        return False
    if name == FILTER_IMAGE_TYPE:
        return _TYPE_SET.issuperset(values)
    if name == FILTER_IMAGE_ID:
        return _all_image_ids(values)
    return name in _NAME_SET and "" not in values


def check(
    request: DescribeImagesRequest,
    image_index: Sequence[int] | None = None,
    filter_index: Sequence[int] | None = None,
    value_index: Sequence[Sequence[int]] | None = None,
) -> list[Violation]:
    """Every rule violation of ``request``, in table order then element order."""
    found: list[Violation] = []
    if request.common is not DEFAULT_COMMON:  # the default holds only a valid Action
        _check_common(request, found)
    image_ids, filters = request.image_ids, request.filters
    if image_ids and filters:
        found.append(
            violation(
                "coexist-imageids-filters",
                "",
                "ImageIds and Filters cannot be specified at the same time",
            )
        )
    if not _filters_ok(filters):
        _check_filters(filters, filter_index, value_index, found)
    if image_ids:
        _check_image_ids(image_ids, image_index, found)
    # Offset and Limit are ints here: decoded from digits, or checked by value_problems.
    offset, limit = request.offset, request.limit
    if offset is not None and not 0 <= offset <= MAX_OFFSET:
        found.append(invalid_offset(offset))
    if limit is not None and not MIN_LIMIT <= limit <= MAX_LIMIT:
        found.append(invalid_limit(limit))
    if len(found) > 1:
        found.sort(key=lambda v: RULE_RANK[v.reason])  # stable: element order is kept
    return found


def _as_sent(value: object) -> object:
    """An integer as its wire text, so a message reads the same however it was built
    (``validate`` refuses an integer too long to convert before any rule sees it)."""
    return int_text(value) if isinstance(value, int) else value


def invalid_offset(value: object) -> Violation:
    return violation(
        "invalid-offset",
        "Offset",
        f"Offset is {shown(_as_sent(value))}; it must be an integer from 0 to {MAX_OFFSET}",
    )


def invalid_limit(value: object) -> Violation:
    return violation(
        "invalid-limit",
        "Limit",
        f"Limit is {shown(_as_sent(value))}; it must be an integer "
        f"from {MIN_LIMIT} to {MAX_LIMIT}",
    )


def _check_common(request: DescribeImagesRequest, found: list[Violation]) -> None:
    common = request.common
    if common.action is not None and common.action != ACTION:
        found.append(
            violation(
                "unsupported-action",
                "Action",
                f"Action {shown(common.action)} is not supported; this endpoint serves {ACTION}",
            )
        )
    for path, value in (("Timestamp", common.timestamp), ("Nonce", common.nonce)):
        if value is not None and not DIGITS_RE.match(value):
            found.append(
                violation(
                    "not-an-integer",
                    path,
                    f"{path} is {shown(value)}; it must be an unsigned decimal integer",
                )
            )
    method = common.signature_method
    if method is not None and method not in SIGNATURE_METHODS:
        found.append(
            violation(
                "unsupported-signature-method",
                "SignatureMethod",
                f"SignatureMethod is {shown(method)}; use HmacSHA1 or HmacSHA256",
            )
        )


def _filters_ok(filters: tuple[Filter, ...]) -> bool:
    """The common case: no filter breaks a rule (then no detail needs computing). The
    image-id values of every filter are checked at once, as one batch."""
    if len(filters) > MAX_FILTERS:
        return False
    ids: list[str] = []
    for item in filters:
        name, values = item.name, item.values
        if not values or len(values) > MAX_FILTER_VALUES:
            return False
        if name == FILTER_IMAGE_TYPE:
            if not _TYPE_SET.issuperset(values):
                return False
        elif name == FILTER_IMAGE_ID:
            ids += values
        elif name != FILTER_IMAGE_NAME or "" in values:
            return False
    return _all_image_ids(tuple(ids))


def _check_filters(
    filters: tuple[Filter, ...],
    filter_index: Sequence[int] | None,
    value_index: Sequence[Sequence[int]] | None,
    found: list[Violation],
) -> None:
    if len(filters) > MAX_FILTERS:
        found.append(
            violation(
                "too-many-filters",
                "Filters",
                f"Filters has {len(filters)} filters; at most {MAX_FILTERS} are allowed",
            )
        )
    sent = _indexes(filter_index, len(filters))
    for n, item in enumerate(filters):
        name, values = item.name, item.values
        here = f"Filters.{sent[n]}"
        if not name:
            found.append(
                violation(
                    "missing-filter-name",
                    here,
                    f"{here} has no Name; a filter's Name is one of {', '.join(FILTER_NAMES)}",
                )
            )
        elif name not in FILTER_NAMES:
            found.append(
                violation(
                    "unknown-filter-name",
                    f"{here}.Name",
                    f"{here}.Name is {shown(name)}; allowed names are {', '.join(FILTER_NAMES)}",
                )
            )
        if not values:
            found.append(
                violation(
                    "missing-filter-values",
                    here,
                    f"{here} has no Values; a filter needs 1 to {MAX_FILTER_VALUES} values",
                )
            )
            continue
        if len(values) > MAX_FILTER_VALUES:
            found.append(
                violation(
                    "too-many-filter-values",
                    f"{here}.Values",
                    f"{here}.Values has {len(values)} values; "
                    f"at most {MAX_FILTER_VALUES} are allowed",
                )
            )
        if name == FILTER_IMAGE_TYPE:
            bad = [i for i, v in enumerate(values) if v not in IMAGE_TYPES]
        elif name == FILTER_IMAGE_ID:
            bad = [i for i, v in enumerate(values) if not _is_image_id(v)]
        else:
            bad = [i for i, v in enumerate(values) if not v]
        if bad:
            _report_values(here, name, values, bad, value_index, n, found)


def _report_values(
    here: str,
    name: str,
    values: tuple[str, ...],
    bad: list[int],
    value_index: Sequence[Sequence[int]] | None,
    n: int,
    found: list[Violation],
) -> None:
    sent = _indexes(None if value_index is None else value_index[n], len(values))
    for i in bad:
        value = values[i]
        path = f"{here}.Values.{sent[i]}"
        if not value:
            found.append(
                violation(
                    "empty-filter-value", path, f"{path} is empty; a filter value must not be empty"
                )
            )
        elif name == FILTER_IMAGE_TYPE:
            found.append(
                violation(
                    "invalid-filter-value",
                    path,
                    f"{path} is {shown(value)}; image-type takes {', '.join(IMAGE_TYPES)}",
                )
            )
        else:
            found.append(
                violation(
                    "invalid-filter-value",
                    path,
                    f"{path} is {shown(value)}; {_IMAGE_ID_HELP}",
                )
            )


def _check_image_ids(
    image_ids: tuple[str, ...], image_index: Sequence[int] | None, found: list[Violation]
) -> None:
    if not _all_image_ids(image_ids):
        bad = [i for i, v in enumerate(image_ids) if not _is_image_id(v)]
        sent = _indexes(image_index, len(image_ids))
        for i in bad:
            path = f"ImageIds.{sent[i]}"
            found.append(
                violation(
                    "malformed-image-id",
                    path,
                    f"{path} is {shown(image_ids[i])}; {_IMAGE_ID_HELP}",
                )
            )
    if len(image_ids) > MAX_IMAGE_IDS:
        found.append(
            violation(
                "too-many-image-ids",
                "ImageIds",
                f"ImageIds has {len(image_ids)} IDs; at most {MAX_IMAGE_IDS} are allowed",
            )
        )


def validate(
    request: DescribeImagesRequest, *, limits: WireLimits = DEFAULT_LIMITS
) -> tuple[Violation, ...]:
    """Every violation of a request built in code (empty when it is valid).

    First every value that could not travel on the wire (a wrong type, a lone surrogate, a
    control character, a value over the cap: :func:`value_problems`); when there are
    any, they alone are the answer, as a query the codec refuses is never checked against
    the rules. Otherwise every rule violation (spec/README.md §2.3, §2.6).

    >>> from describe_images import DescribeImagesRequest, Filter
    >>> [v.reason for v in validate(DescribeImagesRequest(limit=101))]
    ['invalid-limit']
    >>> [(v.reason, v.path) for v in validate(DescribeImagesRequest(image_ids=(5,)))]
    [('wrong-type', 'ImageIds.0')]
    """
    problems = value_problems(request, limits)
    if problems:
        return tuple(problems)
    return tuple(check(request))
