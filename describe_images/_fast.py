"""The decoder's fast path: a *plain* query placed in the schema by its layout's plan.

spec/README.md §2.2 (fast path): a plain query is split and percent-decoded with
whole-string operations (``bytes.translate``, ``binascii.a2b_qp``, ``split``), never a
per-character loop, into a flat ``[key, value, ...]`` list. Its keys, in wire order, are its
*layout*; a layout whose keys all come from the key table (:data:`._spec.IMAGE_KEYS`,
``NAME_KEYS``, ``VALUE_KEYS``) with no duplicate and every list contiguous from 0 or 1 has a
*plan*: where each part of the request sits in the flat list. Anything else returns None
here, and the general path (:func:`._pairs.parse_query`, :func:`._tree.unflatten`) finds
and names the problem. Both give the same result; the tests compare them.
"""

from __future__ import annotations

import re
from binascii import a2b_qp
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import accumulate, repeat
from operator import itemgetter, methodcaller
from typing import Any, cast

from ._errors import Violation
from ._grammar import CONTROL_BYTES, DEFAULT_LIMITS, WireLimits
from ._model import Filter
from ._spec import COMMON_PARAMETERS, IMAGE_KEYS, SCALAR_PARAMETERS, VALUE_KEYS

# --- bytes -> flat [key, value, ...] -------------------------------------------------------

# Everything but the separators, the two characters that need decoding and the controls:
# what is left of a plain query once these are deleted is "=&=&...=", with "%" and "+"
# among it when something is to be decoded (a control left over means it is not plain).
_UNMARKED = bytes(b for b in range(256) if b not in b"&=%+" and b not in CONTROL_BYTES)
# One pass over a plain query: both separators become \x01 (no control is left in a plain
# query, so \x01 is free), "+" a space, and "%" the quoted-printable escape "=", so that
# binascii.a2b_qp decodes every %XX in C (with valid escapes only, it does nothing else).
_PLAIN_TABLE = bytes(range(256)).translate(bytes.maketrans(b"&=+%", b"\x01\x01 ="))
# An escape a plain query has not: a bad one, or one of a control (%00-%1F, %7F).
_NOT_PLAIN_ESCAPE = re.compile(rb"%(?:[01]|7[Ff]|(?![0-9A-Fa-f]{2}))")


def _alternating(raw: bytes) -> tuple[int, bool]:
    """How many pairs ``raw`` has when its separators are exactly "=&=&...=" once the
    rest is deleted (a control left over means it is not plain), else 0; and whether it
    has a "%" or a "+" to decode."""
    marks = raw.translate(None, _UNMARKED)
    count = marks.count(b"=")
    separators = b"=&" * (count - 1) + b"="
    if marks == separators:
        return count, False
    return (count if marks.translate(None, b"%+") == separators else 0), True


def plain_query_flat(data: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> list[str] | None:
    """A *plain* query as one flat list ``[key, value, key, value, ...]``, or None when the
    full parser is needed.

    Plain: ASCII without controls, within ``max_query_bytes``, ``max_pairs`` and
    ``max_value_length``, separators strictly alternating ``key=value&key=value`` once
    empty segments are dropped (no segment without ``=`` or with two), every escape
    valid, valid UTF-8 and no control once decoded. Keys may repeat here, and their length
    is not checked: the plan of the layout does both.

    >>> plain_query_flat("Action=DescribeImages&&ImageIds.0=img%2Dpmqg1cw7")
    ['Action', 'DescribeImages', 'ImageIds.0', 'img-pmqg1cw7']
    """
    if isinstance(data, str):
        if not data.isascii():
            return None
        raw = data.encode("ascii")
    else:
        raw = bytes(data)
        if not raw.isascii():
            return None
    if len(raw) > limits.max_query_bytes:
        return None
    count, escaped = _alternating(raw)
    if not count:
        # Empty segments (a leading or trailing "&", "&&") are skipped (spec/README.md
        # §1.1): drop them and look again. Anything else is not plain.
        raw = b"&".join([segment for segment in raw.split(b"&") if segment])
        count, escaped = _alternating(raw)
        if not count:
            return None if raw else []
    if count > limits.max_pairs:
        return None
    if not escaped:  # nothing to decode: split at both separators
        # (The text as given, unless empty segments were dropped from it.)
        text = data if isinstance(data, str) and len(data) == len(raw) else raw.decode("ascii")
        flat = text.replace("=", "&").split("&")
    else:
        plain = raw.translate(_PLAIN_TABLE)
        if b"%" in raw:
            if _NOT_PLAIN_ESCAPE.search(raw):
                return None
            plain = a2b_qp(plain)
        try:
            flat = plain.decode("utf-8").split("\x01")
        except UnicodeDecodeError:
            return None
    # Decoded lengths are at most the raw ones; most queries are shorter than the cap.
    if len(raw) > limits.max_value_length and (max(map(len, flat[1::2])) > limits.max_value_length):
        return None
    return flat


# --- flat list -> the request's parts --------------------------------------------------------


class Placed:
    """A request's parts as placed in the schema, with every list index as sent (so that
    the rules name paths as the client wrote them, spec/README.md §2.3); None for indexes
    as the encoder writes them, from 0. Both paths produce one; ``misplaced`` holds the
    keys the general path found no place for."""

    __slots__ = (
        "filter_index",
        "filters",
        "image_ids",
        "image_index",
        "misplaced",
        "scalars",
        "value_index",
    )

    def __init__(
        self,
        scalars: dict[str, str],
        image_ids: Sequence[str] = (),
        image_index: Sequence[int] | None = None,
        filters: Sequence[Filter] = (),
        filter_index: Sequence[int] | None = None,
        value_index: Sequence[Sequence[int]] | None = None,
    ) -> None:
        self.scalars = scalars
        self.image_ids = image_ids
        self.image_index = image_index
        self.filters = filters
        self.filter_index = filter_index
        self.value_index = value_index
        self.misplaced: list[Violation] = []


# Filters are built without Filter's per-call checks (the plan guarantees a str and a tuple
# of str: slices of the decoded query), in C-level maps: object.__new__ and the slots'
# own setters (a frozen dataclass refuses setattr; its slot descriptors do not).
_new = object.__new__
_set_name = Filter.__dict__["name"].__set__
_set_values = Filter.__dict__["values"].__set__
_consume: Callable[[Iterable[object]], None] = deque[object](maxlen=0).extend


def _filters(names: Sequence[str], values: Iterable[tuple[str, ...]]) -> tuple[Filter, ...]:
    """``tuple(map(Filter, names, values))``, the same values, without the checks."""
    made: tuple[Filter, ...] = tuple(map(_new, repeat(Filter, len(names))))
    _consume(map(_set_name, made, names))
    _consume(map(_set_values, made, values))
    return made


_Getter = Callable[[Sequence[Any]], tuple[Any, ...]]


def _getter(positions: Sequence[int | slice]) -> _Getter:
    """A callable giving the items (or slices) at ``positions`` as a tuple (in C, via
    itemgetter, for more than one)."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if not positions:
        return _nothing
    (only,) = positions
    return lambda flat: (flat[only],)


def _nothing(flat: Sequence[Any]) -> tuple[()]:
    return ()


# --- the key table as sort keys ------------------------------------------------------------
# Every key of the key table has a *slot*: a byte whose order is the encoder's order
# (spec/README.md §2.7): Action, Version, ImageIds by index, each filter's Name then its
# Values by index, Offset, Limit, the other common parameters. Sorted, a layout's slots
# line up each list, so that checking a layout is whole-bytes work: a list contiguous from
# 0 or 1 is a run of consecutive slots from its first or second one, and a filter (its
# Name, then a run of Values) is one entry of a table of every filter a plan takes. A
# layout in the encoder's order is sorted already: its values are flat[1::2] as they are.
_HEAD = ("Action", "Version")
_TAIL = ("Offset", "Limit", *(name for name in COMMON_PARAMETERS if name != "Action"))
_IMAGES = len(_HEAD)  # slot of ImageIds.<i>: _IMAGES + i
_FILTERS = _IMAGES + len(IMAGE_KEYS[1]) + 1  # slot of Filters.<i>.Name: _FILTERS + 8 * i
_FIELDS = 8  # slot of Filters.<i>.Values.<j>: _FILTERS + 8 * i + 1 + j (j <= 6)
_SCALARS = _FILTERS + _FIELDS * len(VALUE_KEYS)  # slot of _TAIL[k]: _SCALARS + k
_KEY_AT = (
    *_HEAD,
    "ImageIds.0",
    *IMAGE_KEYS[1],
    *(
        key
        for i, (zero, one) in enumerate(VALUE_KEYS)
        for key in (f"Filters.{i}.Name", zero[0], *one)
    ),
    *_TAIL,
)
_SLOT = {key: slot for slot, key in enumerate(_KEY_AT)}
_RUN = bytes(range(256))  # _RUN[a : a + n]: the n consecutive slots from a
_NAMES = bytes(range(_FILTERS, _SCALARS, _FIELDS))
# One filter: its Name's slot, then its Values' slots (findall splits the filters' slots).
_FILTER_RE = re.compile(b"[%s][^%s]*" % (re.escape(_NAMES), re.escape(_NAMES)))

# Every filter a plan takes, by its slots (its Name's, then its Values'): its index, the
# indexes of its values, and how many slots it has.
_FILTER_SLOTS = {
    bytes([name, *range(name + 1 + start, name + 1 + start + count)]): (
        i,
        range(start, start + count),
        1 + count,
    )
    for i, name in enumerate(_NAMES)
    for start in (0, 1)
    for count in range(start, _FIELDS - start)
}


def _in_order_values(flat: Sequence[str]) -> tuple[str, ...]:
    return tuple(flat[1::2])


# The values of a layout whose keys are in slot order: every second item, as they are.
_IN_ORDER: _Getter = _in_order_values
# Where the value of the key at i is in the flat list (a layout has each slot once at most).
_VALUE_AT = range(1, 2 * len(_KEY_AT), 2)
# _PART_AT[p][k]: a filter of k keys whose Name is value p: its Name, then its Values.
_PART_AT = tuple(
    tuple((p, slice(p + 1, p + k)) for k in range(_FIELDS + 1)) for p in range(len(_KEY_AT))
)


def _filter_parts(start: int, sizes: Iterable[int]) -> tuple[_Getter, int]:
    """One getter for every filter's Name and Values, in turn (Name, Values, Name, ...),
    the first Name at ``start`` among the values, each filter of ``sizes`` keys; and where
    the last one ends. (A plain loop: cheaper here than maps and chains.)"""
    positions: list[int | slice] = []
    for size in sizes:
        positions += _PART_AT[start][size]
        start += size
    return itemgetter(*positions), start


# --- lists in the encoder's order, recognised whole -------------------------------------------
# In the encoder's layout (spec/README.md §2.7) the lists are a run of ImageIds, then one
# piece per filter (its Name, a run of its Values), every list from one base: pieces of the
# key table, joined. The scalars around them may come in any order (the official SDK signs
# v1 requests with its parameters first and the common ones after; a v1 signer sorts the
# keys; an API 3.0 GET query has no common parameter). Split at ".Name", the lists are the
# IDs up to the first filter's "Filters.<base>"; then, between two Names, one filter's
# Values and the next filter's "Filters.<i>", each a text of the table looked up whole
# (hashed and compared in C); then the last filter's Values. A key by key look (split, and
# each key hashed and looked up: most of the cost of a plan) is needed for the scalars only.
_ONE_BASED = ("\x01ImageIds.1", "\x01Filters.1")
# _ID_TEXT[base][: _ID_END[base][n]]: the keys of n IDs from base, each after a "\x01".
_ID_TEXT = tuple("".join(f"\x01{key}" for key in _KEY_AT[_IMAGES + b : _FILTERS]) for b in (0, 1))
_ID_END = tuple(
    tuple(accumulate((len(key) + 1 for key in _KEY_AT[_IMAGES + b : _FILTERS]), initial=0))
    for b in (0, 1)
)
_FIRST_NAME = ("\x01Filters.0", "\x01Filters.1")  # split at ".Name": the first filter's
# The keys of filter i's n Values from base, each after a "\x01": _VALUES_TEXT[base][i][n].
_VALUES_TEXT = tuple(
    tuple(
        tuple(
            "".join(f"\x01{_KEY_AT[name + 1 + b + j]}" for j in range(n))
            for n in range(_FIELDS - b)
        )
        for name in _NAMES[b:]
    )
    for b in (0, 1)
)
# _BETWEEN[base][i]: how many keys filter i has (sent as i + base, not the table's last: its
# Name and its Values), by what a layout split at ".Name" has between its Name and the next
# filter's: its Values, then "\x01Filters.<i + 1>".
_BETWEEN = tuple(
    tuple(
        {f"{text}\x01Filters.{i + b + 1}": 1 + n for n, text in enumerate(row)}
        for i, row in enumerate(rows[:-1])
    )
    for b, rows in enumerate(_VALUES_TEXT)
)
# _LAST[base][(i, n)]: the last filter, i with n Values: the text of its Values, its keys.
_LAST = tuple(
    {(i, n): (text, 1 + n) for i, row in enumerate(rows) for n, text in enumerate(row)}
    for rows in _VALUES_TEXT
)
_DOTS = methodcaller("count", ".")
_NUMBERS = re.compile(r"\d+")  # in a key of the table, only its indexes have digits


class Plan:
    """Where each part of a request sits in the flat list of one layout, and the least
    limits under which the general path would accept that layout."""

    __slots__ = (
        "_needs",
        "filter_index",
        "filter_parts",
        "image_index",
        "images",
        "layout",
        "scalar_names",
        "scalar_values",
        "size",
        "value_index",
        "values",
    )

    def __init__(
        self,
        layout: str,
        size: int,
        values: _Getter,
        scalar_names: tuple[str, ...],
        scalar_values: _Getter,
        images: slice,
        filter_parts: _Getter,
    ) -> None:
        self.layout = layout
        self.size = size  # how many keys
        # values(flat): every value in slot order; each part below is taken from it.
        self.values = values
        self.scalar_names, self.scalar_values = scalar_names, scalar_values
        self.images = images
        self.filter_parts = filter_parts  # each filter's Name, then its Values, in turn
        # The indexes as sent (None: from 0, as the encoder writes them).
        self.image_index: Sequence[int] | None = None
        self.filter_index: Sequence[int] | None = None
        self.value_index: Sequence[Sequence[int]] | None = None
        self._needs: tuple[int, int, int] | None = None

    @property
    def needs(self) -> tuple[int, int, int]:
        """(longest key, deepest key, largest index): caps below these make the layout the
        general path's to report (spec/README.md §1.6). Worked out the first time caps
        other than the defaults ask (every key of the table is within those)."""
        if self._needs is None:
            keys = self.layout.split("\x01")
            self._needs = (
                max(map(len, keys)),
                max(map(_DOTS, keys)) + 1,
                max(map(int, _NUMBERS.findall(self.layout)), default=0),
            )
        return self._needs

    def place(self, flat: Sequence[str]) -> Placed:
        values = self.values(flat)
        parts = self.filter_parts(values)
        return Placed(
            dict(zip(self.scalar_names, self.scalar_values(values), strict=True)),
            values[self.images],
            self.image_index,
            _filters(parts[0::2], parts[1::2]),
            self.filter_index,
            self.value_index,
        )


_NOTHING: _Getter = _nothing  # the parts a layout has none of


@lru_cache(maxsize=256)
def plan(layout: str) -> Plan | None:
    """The plan of a layout (its keys in wire order, joined by "\\x01": no key has a
    control character, the codec refuses them), or None when it has none (a key twice or
    not in the key table, a list not contiguous from 0 or 1, a filter without a Name).

    Kept per layout, least recently used out first: clients repeat their layouts (the SDKs
    always send the same keys in the same order), and a plan depends on the keys only,
    never on the values. A layout whose lists are in the encoder's order (every SDK's) is
    recognised whole (:func:`_in_order`); any other is looked at key by key.
    (A tuple of the keys as the cache key was tried: hashing 64 keys one by one costs
    every decode more than hashing one string.)
    """
    found = _in_order(layout)
    return _any_order(layout) if found is None else found


def _in_order(layout: str) -> Plan | None:
    """The plan of a layout whose ImageIds and Filters are in the encoder's order, lists
    from one base, from its shape, with the scalars (each at most once, in any order)
    before and after them; None for any other layout (then :func:`_any_order` looks at it
    key by key)."""
    text = "\x01" + layout  # every key after a "\x01"
    # The lists: from the first key of ImageIds or Filters to the end of the last one.
    # (IDs after the filters are then keys after the lists: not scalars, so no plan here.)
    filters_at = text.find("\x01Filters.")
    ids_at = text.find("\x01ImageIds.", 0, len(text) if filters_at < 0 else filters_at)
    start = filters_at if ids_at < 0 else ids_at
    if start < 0:  # no list at all: every key a scalar
        start = end = len(text)
    else:
        last = text.rfind("\x01ImageIds." if filters_at < 0 else "\x01Filters.")
        end = text.find("\x01", last + 1)
        end = len(text) if end < 0 else end
    lists = text[start:end]
    base = 1 if lists.startswith(_ONE_BASED) else 0
    parts = lists.split(".Name")
    first = parts[0]
    ids, ends = first.count("\x01ImageIds."), _ID_END[base]
    if ids >= len(ends):
        return None  # more IDs than the table has
    at = ends[ids]
    if ids and not first.startswith(_ID_TEXT[base][:at]):
        return None
    sizes: list[int | None] = []  # how many keys each filter has
    if len(parts) > 1:
        if len(first) != at + len(_FIRST_NAME[base]) or not first.endswith(_FIRST_NAME[base]):
            return None
        # (More filters than the table has: the last has no entry, whatever map takes.)
        sizes = list(map(dict.get, _BETWEEN[base], parts[1:-1]))
        rest = parts[-1]
        values, size = _LAST[base].get((len(parts) - 2, rest.count(".Values.")), _NO_FILTER)
        if None in sizes or size is None or rest != values:
            return None
        sizes.append(size)
    elif len(first) != at:
        return None
    # The scalars around them: keys of the table's scalars, each at most once.
    before = text[1:start].split("\x01") if start > 0 else []
    after = text[end + 1 :].split("\x01") if end < len(text) else []
    names = (*before, *after)
    if len(SCALAR_PARAMETERS.intersection(names)) != len(names):
        return None  # a key that is not a scalar, or one twice
    start = len(before) + ids  # the first Name's position among the values
    tail = start
    filter_parts = _NOTHING
    if sizes:
        filter_parts, tail = _filter_parts(start, cast(list[int], sizes))
    found = Plan(
        layout,
        tail + len(after),
        _IN_ORDER,
        names,
        _getter([*range(len(before)), *range(tail, tail + len(after))]),
        slice(len(before), start),
        filter_parts,
    )
    if base:  # lists from 1: the indexes as sent (a filter of k keys has k - 1 Values)
        found.image_index = range(1, 1 + ids)
        found.filter_index = range(1, 1 + len(sizes))
        found.value_index = [range(1, size) for size in cast(list[int], sizes)]
    return found


_NO_FILTER: tuple[str, int | None] = ("", None)


def _any_order(layout: str) -> Plan | None:
    """The plan of any layout, its keys looked up one by one in the key table; past that,
    whole-bytes operations only, never a step per key."""
    keys = layout.split("\x01") if layout else []
    try:
        sent = bytes(map(_SLOT.__getitem__, keys))
    except KeyError:  # a key the table does not have
        return None
    if len(set(sent)) != len(sent):
        # A key twice (duplicate-key, the general path's): each key has its own slot. A
        # check per part would miss some, e.g. Filters.0.Name twice before Filters.2.Name
        # reads as three filters numbered 0, 0, 2, a run of the right length.
        return None
    slots = bytes(sorted(sent))
    # The value of the key at i is at 2 * i + 1; in slot order unless sent in it.
    getter = _IN_ORDER
    if slots != sent:
        order = sorted(range(len(sent)), key=sent.__getitem__)
        getter = _getter(list(map(_VALUE_AT.__getitem__, order)))
    start, end = bisect_left(slots, _IMAGES), bisect_left(slots, _FILTERS)
    tail = bisect_left(slots, _SCALARS)
    scalars = slots[:start] + slots[tail:]
    names = tuple(map(_KEY_AT.__getitem__, scalars))
    scalar_values = _getter([*range(start), *range(tail, len(slots))])
    found = Plan(layout, len(keys), getter, names, scalar_values, slice(start, end), _NOTHING)
    if end > start:
        base, count = slots[start] - _IMAGES, end - start
        if base > 1 or slots[start:end] != _RUN[slots[start] : slots[start] + count]:
            return None
        found.image_index = range(base, base + count)
    if tail > end:
        try:
            index, values, sizes = zip(
                *map(_FILTER_SLOTS.__getitem__, _FILTER_RE.findall(slots, end, tail)),
                strict=True,
            )
        except (KeyError, ValueError):  # values not contiguous from 0 or 1; no Name at all
            return None
        # Where each filter starts: findall skips slots before the first Name (values of
        # a filter without one), so that the filters then end before the tail.
        found.filter_parts, last = _filter_parts(end, sizes)
        if last != tail or index[0] > 1 or index[-1] - index[0] != len(index) - 1:
            return None  # a filter without a Name, or filters not contiguous from 0 or 1
        found.filter_index = range(index[0], index[-1] + 1)
        found.value_index = values
    return found


def place(flat: list[str], limits: WireLimits) -> Placed | None:
    """The request's parts from a flat ``[key, value, ...]`` list by its layout's plan, or
    None when the layout has none or ``limits`` are too tight for it."""
    # No key has a control character (the codec refuses them): joined by "\x01", the
    # keys split back into the same keys, but for one: a lone empty key joins to "", the
    # layout of no key at all. The size tells them apart (the empty key is the general
    # path's to refuse).
    found = plan("\x01".join(flat[0::2]))
    if found is None or 2 * found.size != len(flat):
        return None
    if limits is not DEFAULT_LIMITS:  # every key of the table is within the defaults
        length, depth, index = found.needs
        if length > limits.max_key_length or depth > limits.max_depth or index > limits.max_index:
            return None
    return found.place(flat)
