"""Query string -> typed DescribeImages request, or every violation it has.

query -> pairs -> (keys placed in the schema) -> request -> rules. A plain query whose
keys all come from the table of keys a valid request can use is placed by a *plan* kept
per key layout; anything else (another key, a duplicate, a gap, an escape problem) goes
through the general codec (:func:`unflatten`), which finds and names every wire problem,
then key-by-key placement (spec/README.md §2.2). Both give the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import itemgetter

from ._errors import RULE_RANK, RequestError, Violation, WireError, violation
from ._fast import plain_query_flat
from ._grammar import DEFAULT_LIMITS, INDEX_RE, WireLimits
from ._model import (
    DEFAULT_COMMON,
    CommonParams,
    DescribeImagesRequest,
    Filter,
    shown,
    trusted_filter,
    unknown_parameter,
)
from ._pairs import check_pairs, parse_query
from ._rules import check, invalid_limit, invalid_offset
from ._spec import (
    ACTION,
    COMMON_PARAMETERS,
    IMAGE_KEYS,
    MAX_IMAGE_IDS,
    MAX_OFFSET,
    NAME_KEYS,
    SCALAR_PARAMETERS,
    VALUE_KEYS,
    VERSION,
)
from ._tree import unflatten

# A classified key: (kind, list index, value index, scalar name).
_SCALAR, _IMAGE, _FILTER_NAME, _FILTER_VALUE = range(4)
_Kind = tuple[int, int, int, str]


# Per filter index: the value keys from base 0, from base 1, and all of them.
_VALUE_ROWS = tuple((zero, one, frozenset(zero + one)) for zero, one in VALUE_KEYS)
# The sent indexes of a list of n elements from base 0 and from base 1.
_RANGES = tuple(tuple(range(base, base + n) for n in range(MAX_IMAGE_IDS + 2)) for base in (0, 1))
_KEY_SET = frozenset(
    [
        *SCALAR_PARAMETERS,
        *IMAGE_KEYS[0],
        *IMAGE_KEYS[1],
        *NAME_KEYS[0],
        *NAME_KEYS[1],
        *(key for row in VALUE_KEYS for keys in row for key in keys),
    ]
)
_IMAGE_KEY_SET = frozenset(IMAGE_KEYS[0] + IMAGE_KEYS[1])
_NAME_KEY_SET = frozenset(NAME_KEYS[0] + NAME_KEYS[1])
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
        self.image_ids: Sequence[str] = ()
        self.image_index: Sequence[int] = ()
        self.filters: list[Filter] = []
        self.filter_index: Sequence[int] = ()
        self.value_index: Sequence[Sequence[int]] = []
        self.shape: list[Violation] = []


_Getter = Callable[[Sequence[str]], tuple[str, ...]]


def _getter(positions: Sequence[int]) -> _Getter:
    """A callable giving the items at ``positions`` as a tuple (in C, via itemgetter)."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if positions:
        (only,) = positions
        return lambda flat: (flat[only],)
    return lambda flat: ()


class _Plan:
    """Where each part of a request sits in a plain query's flat [key, value, ...] list.

    A plan depends only on the keys, in wire order (the *layout*); clients send the same
    layout again and again, so plans are kept (spec/README.md §2.2, fast path)."""

    __slots__ = (
        "filter_index",
        "filters",
        "image_index",
        "images",
        "scalar_names",
        "scalars",
        "value_index",
    )

    def __init__(self) -> None:
        self.scalar_names: tuple[str, ...] = ()
        self.scalars: _Getter = _getter(())
        self.images: _Getter = _getter(())
        self.image_index: Sequence[int] = ()
        self.filters: tuple[tuple[int, _Getter], ...] = ()
        self.filter_index: Sequence[int] = ()
        self.value_index: tuple[Sequence[int], ...] = ()

    def collect(self, flat: Sequence[str]) -> _Collected:
        out = _Collected(dict(zip(self.scalar_names, self.scalars(flat), strict=True)))
        out.image_ids = self.images(flat)
        out.image_index = self.image_index
        out.filters = [trusted_filter(flat[name], values(flat)) for name, values in self.filters]
        out.filter_index = self.filter_index
        out.value_index = self.value_index
        return out


def _plan(keys: Sequence[str]) -> _Plan | None:
    """The plan of a layout whose keys all come from the key table, with no duplicate and
    every list contiguous from 0 or 1; None for anything else (then the general path
    finds and names the problem). Set and dict operations only, no per-key parsing."""
    # The value of the key at position i is at 2 * i + 1 in the flat list.
    at = {key: 2 * i + 1 for i, key in enumerate(keys)}
    present = at.keys()
    if len(at) != len(keys) or not present <= _KEY_SET:
        return None
    plan = _Plan()
    names = tuple(present & SCALAR_PARAMETERS)
    plan.scalar_names = names
    plan.scalars = _getter([at[name] for name in names])
    used = len(names)
    try:
        count = len(present & _IMAGE_KEY_SET)
        if count:
            base = 0 if "ImageIds.0" in at else 1
            if count > len(IMAGE_KEYS[base]):  # keys of both bases: not contiguous
                return None
            plan.images = _getter([at[key] for key in IMAGE_KEYS[base][:count]])
            plan.image_index = _RANGES[base][count]
            used += count
        count = len(present & _NAME_KEY_SET)
        if count:
            base = 0 if "Filters.0.Name" in at else 1
            if count > len(NAME_KEYS[base]):  # keys of both bases: not contiguous
                return None
            plan.filter_index = _RANGES[base][count]
            filters, value_index = [], []
            for i, name in zip(plan.filter_index, NAME_KEYS[base][:count], strict=True):
                zero, one, either = _VALUE_ROWS[i]
                values = len(present & either)
                row = zero if zero[0] in at else one
                if values > len(row):  # keys of both bases: not contiguous
                    return None
                filters.append((at[name], _getter([at[key] for key in row[:values]])))
                value_index.append(_RANGES[row is one][values])
                used += 1 + values
            plan.filters = tuple(filters)
            plan.value_index = tuple(value_index)
    except KeyError:  # a gap
        return None
    return plan if used == len(keys) else None


# Plans by layout. Only plans are kept (a layout without one is not), so the cache holds
# at most _MAX_PLANS layouts of table keys; when full it starts again.
_PLANS: dict[tuple[str, ...], _Plan] = {}
_MAX_PLANS = 256


def _collect_fast(flat: list[str]) -> _Collected | None:
    """Collect a plain query's flat [key, value, ...] list by its layout's plan."""
    keys = tuple(flat[0::2])
    plan = _PLANS.get(keys)
    if plan is None:
        plan = _plan(keys)
        if plan is None:
            return None
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[keys] = plan
    return plan.collect(flat)


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
    orders = [sorted(values.get(i, ())) for i in out.filter_index]
    out.value_index = orders
    out.filters = [
        Filter(names.get(i, ""), tuple([values[i][j] for j in order]))
        for i, order in zip(out.filter_index, orders, strict=True)
    ]
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
        text = query_part(query, limits)
        flat = plain_query_flat(text, limits) if _table_fits(limits) else None
        if flat is not None:
            collected = _collect_fast(flat)
            if collected is not None:
                return _build(collected, lambda: flat[0::2])
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
        got = _collect_fast(list(chain.from_iterable(pairs)))
    if got is None:
        unflatten(pairs, limits=limits)  # raises WireError naming every wire problem
        got = _collect_general(pairs)
    return _build(got, lambda: [key for key, _ in pairs])


def _table_fits(limits: WireLimits) -> bool:
    """Whether every key of the key table is within ``limits`` (the default ones are)."""
    return (
        limits.max_index >= _TABLE_MAX_INDEX
        and limits.max_depth >= _TABLE_MAX_DEPTH
        and limits.max_key_length >= _TABLE_MAX_KEY
    )


def _build(got: _Collected, wire_keys: Callable[[], Sequence[str]]) -> DescribeImagesRequest:
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
        # The same immutable value every plain request has: shared, not rebuilt.
        (
            DEFAULT_COMMON
            if scalars.get("Action") == ACTION
            else CommonParams(action=scalars.get("Action", ACTION))
        )
        if scalars.keys() <= _NOT_COMMON
        else CommonParams(
            **{attr: scalars[wire] for wire, attr in COMMON_PARAMETERS.items() if wire in scalars}
        )
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
        raise RequestError(_in_order(found, wire_keys()))
    return request


_NOT_COMMON = frozenset({"Action", "Version", "Offset", "Limit"})


def _integer(text: str) -> int | None:
    """An integer value: ASCII digits only, leading zeros allowed; None otherwise.

    The digit count is bounded before converting (spec/README.md §2.1): ``int()`` alone would
    take signs, spaces, ``_`` and non-ASCII digits.
    """
    # [0-9]+ (isdigit() alone would take other scripts' digits too).
    if not (text.isdigit() and text.isascii()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_OFFSET)):
        return None
    return int(digits)


def _in_order(found: list[Violation], keys: Sequence[str]) -> list[Violation]:
    """Rule order first, then wire order: the position of the first key under a path."""
    if len(found) < 2:
        return found
    first: dict[str, int] = {}
    for position, key in enumerate(keys):
        path = key
        while path not in first:
            first[path] = position
            cut = path.rfind(".")
            if cut < 0:
                break
            path = path[:cut]
    return sorted(found, key=lambda v: (RULE_RANK[v.reason], first.get(v.path, -1)))


def query_part(query: str | bytes | bytearray | memoryview, limits: WireLimits) -> str | bytes:
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
