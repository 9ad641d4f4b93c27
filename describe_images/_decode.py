"""Query string -> typed DescribeImages request, or every violation it has.

query -> pairs -> tree -> (the tree placed in the schema) -> request -> rules
(spec/README.md §2.2). A plain query whose layout has a plan skips the pairs and the tree
(:mod:`._fast`); anything else (another key, a duplicate, a gap, an escape problem) goes
through the general codec (:func:`unflatten`), which finds and names every wire problem,
and the tree it builds is placed here. Both give the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from itertools import chain

from ._errors import RULE_RANK, RequestError, UsageError, Violation, WireError, violation
from ._fast import Placed, place, plain_query_flat
from ._grammar import DEFAULT_LIMITS, Node, WireLimits
from ._json import _unknown_member
from ._model import (
    DEFAULT_COMMON,
    CommonParams,
    DescribeImagesRequest,
    Filter,
    shown,
    unknown_parameter,
    value_problems,
)
from ._pairs import check_pairs, parse_query
from ._rules import check, invalid_limit, invalid_offset
from ._spec import (
    ACTION,
    COMMON_PARAMETERS,
    MAX_OFFSET,
    SCALAR_PARAMETERS,
    VERSION,
)
from ._tree import unflatten_checked

_URL_SLACK = 8_192  # bytes of scheme, host and path allowed around a URL's query


def decode_request(
    query: str | bytes | bytearray | memoryview | Iterable[tuple[str, str]],
    *,
    limits: WireLimits = DEFAULT_LIMITS,
    common: CommonParams | None = None,
) -> DescribeImagesRequest:
    """Decode a query string, form body, URL or pairs into a request.

    Raises :class:`RequestError` carrying every violation, in rule order then wire order.

    ``common`` is for an API 3.0 GET (spec/README.md §3.4): the common parameters the
    caller read from the ``X-TC-*`` headers. The query then carries only the action's own
    parameters: a common one in it (``Action``, ``Version``, ``Region``..., or the v1
    signature's) is ``unknown-parameter``, as in a JSON body (§2.10), and ``Version`` is
    the caller's to check.

    >>> decode_request("Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7").image_ids
    ('img-pmqg1cw7',)
    >>> api3 = CommonParams(region="ap-guangzhou")  # from X-TC-Region
    >>> decode_request("ImageIds.0=img-pmqg1cw7", common=api3).common.region
    'ap-guangzhou'
    """
    _check_common(common, limits)
    if isinstance(query, (str, bytes, bytearray, memoryview)):
        text = query_part(query, limits)
        flat = plain_query_flat(text, limits)
        if flat is not None:
            placed = place(flat, limits)
            if placed is not None:
                return _build(placed, lambda: flat[0::2], common)
        pairs = parse_query(text, limits=limits)
        if flat is not None:  # plain, but its layout has no plan: placing the pairs fails too
            return decode_general(pairs, limits=limits, common=common)
    else:
        errors: list[Violation] = []
        pairs = check_pairs(query, limits, errors)
        if errors:
            raise WireError(errors)
    return decode_pairs(pairs, limits=limits, common=common)


def decode_pairs(
    pairs: list[tuple[str, str]],
    *,
    limits: WireLimits = DEFAULT_LIMITS,
    common: CommonParams | None = None,
) -> DescribeImagesRequest:
    """Decode pairs that already passed :func:`parse_query`'s checks (text, caps);
    ``common`` as for :func:`decode_request`.

    >>> decode_pairs([("Action", "DescribeImages"), ("Version", "2017-03-12")]).image_ids
    ()
    """
    _check_common(common, limits)
    placed = place(list(chain.from_iterable(pairs)), limits)
    if placed is None:
        return decode_general(pairs, limits=limits, common=common)
    return _build(placed, lambda: [key for key, _ in pairs], common)


def decode_general(
    pairs: list[tuple[str, str]],
    *,
    limits: WireLimits = DEFAULT_LIMITS,
    common: CommonParams | None = None,
) -> DescribeImagesRequest:
    """:func:`decode_pairs` without the fast path: the tree placed in the schema
    (``common`` already checked, by :func:`decode_request` or :func:`decode_pairs`)."""
    # The pairs passed the text checks already (parse_query or check_pairs): only the
    # tree is built here. It raises WireError naming every wire problem.
    tree = unflatten_checked(pairs, limits)
    keys = [key for key, _ in pairs]
    return _build(_place(tree, keys), lambda: keys, common)


def _check_common(common: CommonParams | None, limits: WireLimits) -> None:
    """Header-derived common parameters must be ones the wire can carry; their problems
    come alone, before the query is read (they were sent first, in the headers)."""
    if common is None:
        return
    if not isinstance(common, CommonParams):
        raise UsageError(f"common must be a CommonParams, not {type(common).__name__}")
    problems = value_problems(DescribeImagesRequest(common=common), limits)
    if problems:
        raise RequestError(problems)


def _place(tree: dict[str, Node], keys: list[str]) -> Placed:
    """The parts of the request in the tree, with the indexes as sent; every key that has
    no place in the schema becomes a violation (spec/README.md §2.2, step 3)."""
    scalars = {k: v for k, v in tree.items() if isinstance(v, str) and k in SCALAR_PARAMETERS}
    placed = Placed(scalars)
    taken = list(scalars)  # the keys placed, as sent
    sent = frozenset(keys)
    ids = tree.get("ImageIds")
    if isinstance(ids, list):
        index = [i for i, item in enumerate(ids) if isinstance(item, str)]
        if index:
            # The first ID's key tells the base: "ImageIds.<i>" is sent only from base 0
            # (from base 1 it would be the key of a container element, a shape conflict).
            base = 0 if f"ImageIds.{index[0]}" in sent else 1
            placed.image_ids = [item for item in ids if isinstance(item, str)]
            placed.image_index = [i + base for i in index]
            taken += [f"ImageIds.{i}" for i in placed.image_index]
    items = tree.get("Filters")
    if isinstance(items, list):
        taken += _place_filters(items, sent, placed)
    if len(taken) < len(keys):
        placed_keys = frozenset(taken)
        placed.misplaced = [_misplaced(key) for key in keys if key not in placed_keys]
    return placed


def _place_filters(items: list[Node], sent: frozenset[str], placed: Placed) -> list[str]:
    """Place every filter with a Name or a value; returns the keys placed."""
    found: list[tuple[int, str | None, list[str], list[int]]] = []
    for p, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name, values = item.get("Name"), item.get("Values")
        index: list[int] = []
        strings: list[str] = []
        if isinstance(values, list) and values:  # (no comprehension for a filter without)
            index = [q for q, value in enumerate(values) if isinstance(value, str)]
            strings = [value for value in values if isinstance(value, str)]
        if isinstance(name, str) or index:
            found.append((p, name if isinstance(name, str) else None, strings, index))
    if not found:
        return []
    # As for ImageIds, the first placed key tells each list's base.
    p, name, _, index = found[0]
    if name is not None:
        base = 0 if f"Filters.{p}.Name" in sent else 1
    else:
        zero = f"Filters.{p}.Values."
        base = 0 if f"{zero}{index[0]}" in sent or f"{zero}{index[0] + 1}" in sent else 1
    filters, filter_index, value_index, taken = [], [], [], []
    for p, name, strings, index in found:
        here = f"Filters.{p + base}"
        if name is not None:
            taken.append(f"{here}.Name")
        sent_index: list[int] = []
        if index:
            start = 0 if f"{here}.Values.{index[0]}" in sent else 1
            sent_index = [q + start for q in index]
            taken += [f"{here}.Values.{q}" for q in sent_index]
        filters.append(Filter(name or "", tuple(strings)))
        filter_index.append(p + base)
        value_index.append(sent_index)
    placed.filters, placed.filter_index, placed.value_index = filters, filter_index, value_index
    return taken


_FILTER_FIELDS = frozenset({"Name", "Values"})


def _misplaced(key: str) -> Violation:
    """Why a key the tree has but the schema does not place is refused."""
    segs = key.split(".")
    head = segs[0]
    if head in SCALAR_PARAMETERS:
        return _wrong_shape(key, f"{head} is a single value; send {head}=...")
    if head == "ImageIds":
        return _wrong_shape(key, "ImageIds is a list of strings; send ImageIds.0=img-...")
    # A filter field other than Name and Values is unknown (an index there too: the
    # codec accepted the key, so a segment that starts with a digit is an index).
    if head != "Filters" or (
        len(segs) > 2 and segs[1][0].isdigit() and segs[2] not in _FILTER_FIELDS
    ):
        return unknown_parameter(key)
    return _wrong_shape(
        key, "Filters is a list of objects; send Filters.0.Name=... and Filters.0.Values.0=..."
    )


def _wrong_shape(key: str, hint: str) -> Violation:
    return violation("wrong-shape", key, f"{key} does not fit the parameter's shape: {hint}")


def _build(
    got: Placed, wire_keys: Callable[[], Sequence[str]], given: CommonParams | None = None
) -> DescribeImagesRequest:
    found = got.misplaced
    scalars = got.scalars
    if given is not None:
        # An API 3.0 query: the common parameters are the headers' (spec/README.md §3.4).
        found += [_unknown_member(key) for key in scalars if key not in _BUSINESS_SCALARS]
        scalars = {key: value for key, value in scalars.items() if key in _BUSINESS_SCALARS}
    elif "Action" not in scalars or "Version" not in scalars:
        found += [
            violation("missing-parameter", name, f"{name} is required")
            for name in ("Action", "Version")
            if name not in scalars
        ]
    version = scalars.get("Version", VERSION)
    if given is None and version != VERSION:
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
    if given is not None:
        common = given
    elif scalars.keys() <= _NOT_COMMON:
        # The same immutable value every plain request has: shared, not rebuilt.
        common = (
            DEFAULT_COMMON
            if scalars.get("Action") == ACTION
            else CommonParams(action=scalars.get("Action", ACTION))
        )
    else:
        common = CommonParams(
            **{attr: scalars[wire] for wire, attr in COMMON_PARAMETERS.items() if wire in scalars}
        )
    request = _request(tuple(got.image_ids), tuple(got.filters), offset, limit, common)
    found += check(request, got.image_index, got.filter_index, got.value_index)
    if found:
        raise RequestError(_in_order(found, wire_keys()))
    return request


_NOT_COMMON = frozenset({"Action", "Version", "Offset", "Limit"})
_BUSINESS_SCALARS = frozenset({"Offset", "Limit"})

# The request is made without its generated __init__ (keyword arguments, then
# __post_init__'s conversions: about two thirds of its cost): every field here already has
# its type (tuples of str and of Filter, ints or None, a CommonParams), so its slots are set
# directly (the frozen class refuses setattr; its slot descriptors do not), as _fast makes
# its Filters. The result is equal to DescribeImagesRequest(...) of the same fields.
_new = object.__new__
# In field order (a field added to the class breaks the unpacking in _request at once).
_set_fields = tuple(
    DescribeImagesRequest.__dict__[field.name].__set__ for field in fields(DescribeImagesRequest)
)


def _request(
    image_ids: tuple[str, ...],
    filters: tuple[Filter, ...],
    offset: int | None,
    limit: int | None,
    common: CommonParams,
) -> DescribeImagesRequest:
    made: DescribeImagesRequest = _new(DescribeImagesRequest)
    set_ids, set_filters, set_offset, set_limit, set_common = _set_fields
    set_ids(made, image_ids)
    set_filters(made, filters)
    set_offset(made, offset)
    set_limit(made, limit)
    set_common(made, common)
    return made


def _integer(text: str) -> int | None:
    """An integer value: ASCII digits only, leading zeros allowed; None otherwise.

    The digit count is bounded before converting (spec/README.md §2.1): ``int()`` alone would
    take signs, spaces, ``_`` and non-ASCII digits.
    """
    # [0-9]+ (isdigit() alone would take other scripts' digits too).
    if not (text.isdigit() and text.isascii()):
        return None
    if len(text) > _MAX_DIGITS:
        text = text.lstrip("0") or "0"
        if len(text) > _MAX_DIGITS:
            return None
    return int(text)


_MAX_DIGITS = len(str(MAX_OFFSET))


def _in_order(found: list[Violation], keys: Sequence[str]) -> list[Violation]:
    """Rule order first, then wire order: the position of the first key under a path."""
    if len(found) < 2:
        return found
    # A violation's path is a key (no key here is a prefix of another: the codec refuses
    # such shape conflicts), a container of keys (Filters.3: the first key under it), or
    # neither (a missing Action, the request "": first of all). Only the containers need
    # a walk, and only over the keys that start with a container's first segment: 512
    # distinct deep keys then cost one partition each, not 4,000 prefixes.
    first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    missing = {v.path for v in found} - first.keys()
    heads = {path.partition(".")[0] for path in missing}
    if heads - {""}:
        for position, key in enumerate(keys):
            if key.partition(".")[0] not in heads:
                continue
            cut = key.rfind(".")
            while cut > 0:
                path = key[:cut]
                if path in missing:
                    missing.discard(path)
                    first[path] = position
                cut = key.rfind(".", 0, cut)
    return sorted(found, key=lambda v: (RULE_RANK[v.reason], first.get(v.path, -1)))


def query_part(query: str | bytes | bytearray | memoryview, limits: WireLimits) -> str | bytes:
    """The query of a URL (after ``?``, before ``#``); a bare query or body as it is."""
    if isinstance(query, (bytearray, memoryview)):
        query = bytes(query)
    if isinstance(query, str):
        if not (
            query.startswith(_URL_STARTS)
            and (query.startswith("/") or query[:8].lower().startswith(("http://", "https://")))
        ):
            return query
    elif not (
        query.startswith(_URL_STARTS_B)
        and (query.startswith(b"/") or query[:8].lower().startswith((b"http://", b"https://")))
    ):
        return query
    bound = limits.max_query_bytes + _URL_SLACK
    if _url_size(query, bound) > bound:
        return query  # parse_query refuses it by its size, before any work
    if isinstance(query, str):
        return query.partition("?")[2].partition("#")[0]
    return query.partition(b"?")[2].partition(b"#")[0]


def _url_size(query: str | bytes, bound: int) -> int:
    """The size the URL slack counts: UTF-8 bytes, as ``max_query_bytes`` does
    (spec/README.md §2.2), so a URL as text and as bytes is searched alike."""
    size = len(query)
    # len() is a lower bound of the UTF-8 size and 4 * len() an upper one: only between
    # the two is the text encoded (a lone surrogate counts 3 bytes, as in parse_query).
    if isinstance(query, str) and size <= bound < 4 * size and not query.isascii():
        size = len(query.encode("utf-8", "surrogatepass"))
    return size


_URL_STARTS = ("/", "h", "H")  # a URL starts with "/" or with its scheme, in any case
_URL_STARTS_B = (b"/", b"h", b"H")
