"""Query string -> typed DescribeImages request, or every violation it has.

pairs -> (keys classified against the schema) -> request -> rules. Keys are classified
by one dictionary lookup each in a table of every valid key with a small index; any
other key, a duplicate or a gap sends the query through the general codec
(:func:`unflatten`), which finds and names every wire problem (spec/README.md §Decoding).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._errors import RequestError, Violation, WireError
from ._model import CommonParams, DescribeImagesRequest, Filter, unknown_parameter
from ._rules import check, invalid_limit, invalid_offset, shown, violation
from ._spec import (
    COMMON_PARAMETERS,
    DIGITS_RE,
    MAX_FILTER_VALUES,
    MAX_FILTERS,
    MAX_IMAGE_IDS,
    MAX_OFFSET,
    RULE_RANK,
    SCALAR_PARAMETERS,
    VERSION,
)
from ._wire import (
    DEFAULT_LIMITS,
    INDEX_RE,
    WireLimits,
    check_pairs,
    parse_query,
    plain_query_dict,
    unflatten,
)

# A classified key: (kind, list index, value index, scalar name).
_SCALAR, _IMAGE, _FILTER_NAME, _FILTER_VALUE = range(4)
_Kind = tuple[int, int, int, str]
_EMPTY: tuple[str, ...] = ()


def _keys(count: int, template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of a list's first ``count`` elements, for base 0 and for base 1."""
    return tuple(
        tuple(template.format(i) for i in range(base, base + count)) for base in (0, 1)
    )  # type: ignore[return-value]  # exactly two bases


# Every key a valid request can use, for both bases, and one element more per list.
_IMAGE_KEYS = _keys(MAX_IMAGE_IDS + 1, "ImageIds.{}")
_NAME_KEYS = _keys(MAX_FILTERS + 1, "Filters.{}.Name")
_VALUE_KEYS = tuple(
    _keys(MAX_FILTER_VALUES + 1, f"Filters.{i}.Values.{{}}") for i in range(MAX_FILTERS + 2)
)
# Per filter index: the value keys from base 0, from base 1, and all of them.
_VALUE_ROWS = tuple((zero, one, frozenset(zero + one)) for zero, one in _VALUE_KEYS)
# The sent indexes of a list of n elements from base 0 and from base 1.
_RANGES = tuple(
    tuple(range(base, base + n) for n in range(MAX_IMAGE_IDS + 2)) for base in (0, 1)
)
_KEY_SET = frozenset(
    [
        *SCALAR_PARAMETERS,
        *_IMAGE_KEYS[0],
        *_IMAGE_KEYS[1],
        *_NAME_KEYS[0],
        *_NAME_KEYS[1],
        *(key for row in _VALUE_KEYS for keys in row for key in keys),
    ]
)
_IMAGE_KEY_SET = frozenset(_IMAGE_KEYS[0] + _IMAGE_KEYS[1])
_NAME_KEY_SET = frozenset(_NAME_KEYS[0] + _NAME_KEYS[1])
_TABLE_MAX_KEY = max(map(len, _KEY_SET))
_TABLE_MAX_DEPTH = max(k.count(".") + 1 for k in _KEY_SET)
_TABLE_MAX_INDEX = MAX_IMAGE_IDS + 1
_URL_SLACK = 8_192  # bytes of scheme, host and path allowed around a URL's query


def _classify(key: str) -> _Kind | Violation:
    """The schema's reading of a key the codec accepted, or why it has no place."""
    segs = key.split(".")
    head, depth = segs[0], len(segs)
    if head in SCALAR_PARAMETERS:
        if depth == 1:
            return (_SCALAR, 0, 0, head)
        return _wrong_shape(key, f"{head} is a single value; send {head}=...")
    if head == "ImageIds":
        if depth == 2 and INDEX_RE.match(segs[1]):
            return (_IMAGE, int(segs[1]), 0, "")
        return _wrong_shape(key, "ImageIds is a list of strings; send ImageIds.0=img-...")
    if head != "Filters":
        return unknown_parameter(key)
    if depth >= 3 and INDEX_RE.match(segs[1]):
        field = segs[2]
        if field == "Name":
            if depth == 3:
                return (_FILTER_NAME, int(segs[1]), 0, "")
        elif field == "Values":
            if depth == 4 and INDEX_RE.match(segs[3]):
                return (_FILTER_VALUE, int(segs[1]), int(segs[3]), "")
        else:
            return unknown_parameter(key)
    return _wrong_shape(
        key, "Filters is a list of objects; send Filters.0.Name=... and Filters.0.Values.0=..."
    )


def _wrong_shape(key: str, hint: str) -> Violation:
    return violation("wrong-shape", key, f"{key} does not fit the parameter's shape: {hint}")


class _Collected:
    """The classified pairs, in list order, with the indexes as sent."""

    __slots__ = (
        "filter_index",
        "filters",
        "image_ids",
        "image_index",
        "scalars",
        "shape",
        "value_index",
    )

    def __init__(self, scalars: dict[str, str]) -> None:
        self.scalars = scalars
        self.image_ids: list[str] = []
        self.image_index: Sequence[int] = ()
        self.filters: list[Filter] = []
        self.filter_index: Sequence[int] = ()
        self.value_index: list[Sequence[int]] = []
        self.shape: list[Violation] = []


def _collect_fast(got: dict[str, str]) -> _Collected | None:
    """Collect a query whose keys all come from the key table, with no duplicate and
    every list contiguous from 0 or 1; None for anything else (then the general path
    finds and names the problem). Set and dict operations only, no per-key parsing."""
    keys = got.keys()
    if not keys <= _KEY_SET:
        return None
    out = _Collected({k: got[k] for k in keys & SCALAR_PARAMETERS})
    used = len(out.scalars)
    try:
        count = len(keys & _IMAGE_KEY_SET)
        if count:
            base = 0 if "ImageIds.0" in got else 1
            if count > len(_IMAGE_KEYS[base]):  # keys of both bases: not contiguous
                return None
            out.image_ids = list(map(got.__getitem__, _IMAGE_KEYS[base][:count]))
            out.image_index = range(base, base + count)
            used += count
        count = len(keys & _NAME_KEY_SET)
        if count:
            base = 0 if "Filters.0.Name" in got else 1
            if count > len(_NAME_KEYS[base]):  # keys of both bases: not contiguous
                return None
            names = map(got.__getitem__, _NAME_KEYS[base][:count])
            out.filter_index = range(base, base + count)
            used += count
            getitem = got.__getitem__
            filters, value_index = out.filters, out.value_index
            for i, name in zip(out.filter_index, names, strict=True):
                zero, one, either = _VALUE_ROWS[i]
                count = len(keys & either)
                row = zero if zero[0] in got else one
                if count > len(row):  # keys of both bases: not contiguous
                    return None
                filters.append(Filter(name, tuple(map(getitem, row[:count]))))
                value_index.append(_RANGES[row is one][count])
                used += count
    except KeyError:  # a gap, or lists that mix bases
        return None
    return out if used == len(got) else None


def _collect_general(pairs: list[tuple[str, str]]) -> _Collected:
    """Classify every pair of a query the codec accepted; misplaced keys are violations."""
    scalars: dict[str, str] = {}
    images: dict[int, str] = {}
    names: dict[int, str] = {}
    values: dict[int, dict[int, str]] = {}
    shape: list[Violation] = []
    for key, value in pairs:
        found = _classify(key)
        if isinstance(found, Violation):
            shape.append(found)
            continue
        what, first, second, name = found
        if what == _FILTER_VALUE:
            values.setdefault(first, {})[second] = value
        elif what == _FILTER_NAME:
            names[first] = value
        elif what == _IMAGE:
            images[first] = value
        else:
            scalars[name] = value
    out = _Collected(scalars)
    out.shape = shape
    out.image_index = sorted(images)
    out.image_ids = [images[i] for i in out.image_index]
    out.filter_index = sorted(names.keys() | values.keys())
    for i in out.filter_index:
        row = values.get(i, {})
        order = sorted(row)
        out.value_index.append(order)
        out.filters.append(Filter(names.get(i, ""), tuple([row[j] for j in order])))
    return out


def decode_request(
    query: str | bytes | Iterable[tuple[str, str]], *, limits: WireLimits = DEFAULT_LIMITS
) -> DescribeImagesRequest:
    """Decode a query string, form body, URL or pairs into a request.

    Raises :class:`RequestError` carrying every violation, in rule order then wire order.

    >>> decode_request("Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7").image_ids
    ('img-pmqg1cw7',)
    """
    if isinstance(query, (str, bytes, bytearray, memoryview)):
        text = _query_part(query, limits)
        got = plain_query_dict(text, limits) if _table_fits(limits) else None
        if got is not None:
            collected = _collect_fast(got)
            if collected is not None:
                return _build(collected, got)
        pairs = parse_query(text, limits=limits)
    else:
        errors: list[Violation] = []
        pairs = check_pairs(query, limits, errors)
        if errors:
            raise WireError(errors)
    return decode_pairs(pairs, limits=limits)


def decode_pairs(
    pairs: list[tuple[str, str]], *, limits: WireLimits = DEFAULT_LIMITS, fast: bool = True
) -> DescribeImagesRequest:
    """Decode pairs that already passed :func:`parse_query`'s checks (text, caps).

    ``fast=False`` skips the key-table path (the tests compare the two paths).
    """
    got = None
    if fast and _table_fits(limits):
        table = dict(pairs)
        if len(table) == len(pairs):
            got = _collect_fast(table)
    if got is None:
        unflatten(pairs, limits=limits)  # raises WireError naming every wire problem
        got = _collect_general(pairs)
    return _build(got, pairs)


def _table_fits(limits: WireLimits) -> bool:
    """Whether every key of the key table is within ``limits`` (the default ones are)."""
    return (
        limits.max_index >= _TABLE_MAX_INDEX
        and limits.max_depth >= _TABLE_MAX_DEPTH
        and limits.max_key_length >= _TABLE_MAX_KEY
    )


def _build(
    got: _Collected, pairs: list[tuple[str, str]] | dict[str, str]
) -> DescribeImagesRequest:
    found = got.shape
    scalars = got.scalars
    if "Action" not in scalars or "Version" not in scalars:
        found += [
            violation("missing-parameter", name, f"{name} is required")
            for name in ("Action", "Version")
            if name not in scalars
        ]
    version = scalars.get("Version", VERSION)
    if version != VERSION:
        found.append(
            violation(
                "unsupported-version",
                "Version",
                f"Version {shown(version)} is not supported; use {VERSION!r}",
            )
        )
    offset = limit = None
    if "Offset" in scalars:
        offset = _integer(scalars["Offset"])
        if offset is None:
            found.append(invalid_offset(scalars["Offset"]))
    if "Limit" in scalars:
        limit = _integer(scalars["Limit"])
        if limit is None:
            found.append(invalid_limit(scalars["Limit"]))
    common = (
        CommonParams(action=scalars.get("Action"))
        if scalars.keys() <= _NOT_COMMON
        else CommonParams(**{attr: scalars.get(wire) for wire, attr in COMMON_PARAMETERS.items()})
    )
    request = DescribeImagesRequest(
        image_ids=tuple(got.image_ids),
        filters=tuple(got.filters),
        offset=offset,
        limit=limit,
        common=common,
    )
    found += check(request, got.image_index, got.filter_index, got.value_index)
    if found:
        raise RequestError(_in_order(found, pairs))
    return request


_NOT_COMMON = frozenset({"Action", "Version", "Offset", "Limit"})


def _integer(text: str) -> int | None:
    """An integer value: ASCII digits only, leading zeros allowed; None otherwise.

    The digit count is bounded before converting (spec §Integers): ``int()`` alone would
    take signs, spaces, ``_`` and non-ASCII digits.
    """
    if not DIGITS_RE.match(text):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_OFFSET)):
        return None
    return int(digits)


def _in_order(
    found: list[Violation], pairs: list[tuple[str, str]] | dict[str, str]
) -> list[Violation]:
    """Rule order first, then wire order: the position of the first key under a path."""
    if len(found) < 2:
        return found
    first: dict[str, int] = {}
    keys = pairs if isinstance(pairs, dict) else (key for key, _ in pairs)
    for position, key in enumerate(keys):
        path = key
        while path not in first:
            first[path] = position
            cut = path.rfind(".")
            if cut < 0:
                break
            path = path[:cut]
    return sorted(found, key=lambda v: (RULE_RANK[v.reason], first.get(v.path, -1)))


def _query_part(query: str | bytes | bytearray | memoryview, limits: WireLimits) -> str | bytes:
    """The query of a URL (after ``?``, before ``#``); a bare query or body as it is."""
    if isinstance(query, (bytearray, memoryview)):
        query = bytes(query)
    if len(query) > limits.max_query_bytes + _URL_SLACK:
        return query  # parse_query refuses it by its size, before any work
    if isinstance(query, str):
        head = query[:8].lower()
        if head.startswith(("http://", "https://")) or query.startswith("/"):
            return query.partition("?")[2].partition("#")[0]
        return query
    head_b = query[:8].lower()
    if head_b.startswith((b"http://", b"https://")) or query.startswith(b"/"):
        return query.partition(b"?")[2].partition(b"#")[0]
    return query

