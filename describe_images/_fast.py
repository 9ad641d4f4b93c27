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
from itertools import accumulate, pairwise, repeat
from operator import getitem, itemgetter
from typing import Any

from ._errors import Violation
from ._grammar import CONTROL_BYTES, DEFAULT_LIMITS, WireLimits
from ._model import Filter
from ._spec import COMMON_PARAMETERS, IMAGE_KEYS, VALUE_KEYS

# --- bytes -> flat [key, value, ...] -------------------------------------------------------

# Everything but the separators and the controls: what is left of a plain query once
# these are deleted is exactly "=&=&...=" (a control left over means it is not plain).
_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b"&=" and b not in CONTROL_BYTES)
# One pass over a plain query: both separators become \x01 (no control is left in a plain
# query, so \x01 is free), "+" a space, and "%" the quoted-printable escape "=", so that
# binascii.a2b_qp decodes every %XX in C (with valid escapes only, it does nothing else).
_PLAIN_TABLE = bytes(range(256)).translate(bytes.maketrans(b"&=+%", b"\x01\x01 ="))
# An escape a plain query has not: a bad one, or one of a control (%00-%1F, %7F).
_NOT_PLAIN_ESCAPE = re.compile(rb"%(?:[01]|7[Ff]|(?![0-9A-Fa-f]{2}))")


def _alternating(raw: bytes) -> int:
    """How many pairs ``raw`` has when its separators are exactly "=&=&...=" once the
    rest is deleted (a control left over means it is not plain), else 0."""
    separators = raw.translate(None, _NOT_SEPARATORS)
    count = separators.count(b"=")
    return count if separators == b"=&" * (count - 1) + b"=" else 0


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
    count = _alternating(raw)
    if not count:
        # Empty segments (a leading or trailing "&", "&&") are skipped (spec/README.md
        # §1.1): drop them and look again. Anything else is not plain.
        raw = b"&".join([segment for segment in raw.split(b"&") if segment])
        count = _alternating(raw)
        if not count:
            return None if raw else []
    if count > limits.max_pairs:
        return None
    if b"%" not in raw and b"+" not in raw:  # nothing to decode: split at both separators
        flat = raw.decode("ascii").replace("=", "&").split("&")
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
    the rules name paths as the client wrote them, spec/README.md §2.3). Both paths
    produce one; ``misplaced`` holds the keys the general path found no place for."""

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
        image_index: Sequence[int] = (),
        filters: Sequence[Filter] = (),
        filter_index: Sequence[int] = (),
        value_index: Sequence[Sequence[int]] = (),
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
    """A callable giving the items (or slices) at one or more ``positions`` as a tuple (in
    C, via itemgetter)."""
    if len(positions) > 1:
        return itemgetter(*positions)
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
_LENGTHS = bytes(map(len, _KEY_AT)).ljust(256, b"\0")  # slot -> length of its key
_RUN = bytes(range(256))  # _RUN[a : a + n]: the n consecutive slots from a
_NAMES = bytes(range(_FILTERS, _SCALARS, _FIELDS))
# One filter: its Name's slot, then its Values' slots (findall splits the filters' slots).
_FILTER_RE = re.compile(b"[%s][^%s]*" % (re.escape(_NAMES), re.escape(_NAMES)))

# Every filter a plan takes, by its slots (its Name's, then its Values'): its index, the
# indexes of its values, how many slots it has, and for Plan.needs its largest index and
# its longest key (its last: a value's key is longer than the Name's).
_FILTER_SLOTS = {
    bytes([name, *range(name + 1 + start, name + 1 + start + count)]): (
        i,
        range(start, start + count),
        1 + count,
        max(i, start + count - 1),
        len(_KEY_AT[name + start + count]),
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

# --- layouts in the encoder's order, recognised whole ----------------------------------------
# The encoder's layout (spec/README.md §2.7) is the head, a run of ImageIds, one piece per
# filter (its Name, a run of its Values), then tail keys, every list from one base: pieces
# of the key table, joined. Its shape is counted with whole-string operations, the layout
# of that shape joined from the pieces, and one comparison decides: a key by key look
# (split, and each key hashed and looked up: most of the cost of a plan) is not needed.
_HEAD_TEXT = "\x01".join(_HEAD)
_ONE_BASED = ("\x01ImageIds.1", "\x01Filters.1")
# _ID_TEXT[base][: _ID_END[base][n]]: the keys of n IDs from base, each after a "\x01".
_ID_TEXT = tuple("".join(f"\x01{key}" for key in _KEY_AT[_IMAGES + b : _FILTERS]) for b in (0, 1))
_ID_END = tuple(
    tuple(accumulate((len(key) + 1 for key in _KEY_AT[_IMAGES + b : _FILTERS]), initial=0))
    for b in (0, 1)
)
# A filter's piece: filter i (sent as i + base) with its Name and n Values from base, each
# key after a "\x01": its text, how many keys it has, the length of its longest (its last),
# its largest index, the indexes of its Values.
_Piece = tuple[str, int, int, int, range]


# The slots of filter i's Name and of n Values from base: _SLOTS_OF[base][i][n].
_SLOTS_OF = tuple(
    tuple(
        tuple((name, *range(name + 1 + b, name + 1 + b + n)) for n in range(_FIELDS - b))
        for name in _NAMES[b:]
    )
    for b in (0, 1)
)
# Its piece.
_PIECE_OF = tuple(
    tuple(
        tuple(
            (
                "".join(f"\x01{_KEY_AT[slot]}" for slot in slots),
                len(slots),
                _LENGTHS[slots[-1]],
                max(i, n - 1) + b,
                range(b, b + n),
            )
            for n, slots in enumerate(row)
        )
        for i, row in enumerate(rows)
    )
    for b, rows in enumerate(_SLOTS_OF)
)
# _PIECES[base]: the pieces of every filter by (i, n); and for each i but the last, by the
# length of what a layout split at ".Name" has between filter i's Name and the next one's:
# its Values, then "\x01Filters.<i + 1>".
_PIECES = tuple(
    (
        {(i, n): piece for i, row in enumerate(pieces) for n, piece in enumerate(row)},
        tuple(
            {
                len(piece[0]) - len(f"\x01{_KEY_AT[name]}") + len(f"\x01Filters.{i + b + 1}"): piece
                for piece in row
            }
            for i, (name, row) in enumerate(zip(_NAMES[b:-1], pieces, strict=False))
        ),
    )
    for b, pieces in enumerate(_PIECE_OF)
)
_NO_FILTERS: tuple[tuple[Any, ...], ...] = ((), (), (), (), ())
_HEAD_LONGEST = max(map(len, _HEAD))
# _AFTER[p][k]: the values after position p of a filter of k keys (its Values after its Name).
_AFTER = tuple(tuple(slice(p + 1, p + k) for k in range(_FIELDS + 1)) for p in range(len(_KEY_AT)))
# The tail keys after a layout's filters: each at most once, in their order.
_TAIL_RE = re.compile("".join(f"(?:\x01{name})?" for name in _TAIL))


class Plan:
    """Where each part of a request sits in the flat list of one layout, and the least
    limits under which the general path would accept that layout."""

    __slots__ = (
        "filter_index",
        "image_index",
        "images",
        "names",
        "needs",
        "scalar_names",
        "scalars",
        "size",
        "tail",
        "value_index",
        "value_lists",
        "values",
    )

    # (longest key, deepest key, largest index): caps below these make it the general
    # path's to report (spec/README.md §1.6).
    needs: tuple[int, int, int]

    def __init__(
        self, size: int, values: _Getter, scalar_names: tuple[str, ...], head: int, tail: int
    ) -> None:
        self.size = size  # how many keys
        # values(flat): every value in slot order; each part below is taken from it.
        self.values = values
        # The scalars: values[scalars] + values[tail:] (Action and Version, the rest).
        self.scalar_names = scalar_names
        self.scalars, self.tail = slice(head), tail
        self.images = slice(0)
        self.image_index: Sequence[int] = ()
        self.names = _NOTHING  # the filters' Names
        self.value_lists = _NOTHING  # each filter's Values
        self.filter_index: Sequence[int] = ()
        self.value_index: tuple[Sequence[int], ...] = ()

    def place(self, flat: Sequence[str]) -> Placed:
        values = self.values(flat)
        return Placed(
            dict(zip(self.scalar_names, values[self.scalars] + values[self.tail :], strict=True)),
            values[self.images],
            self.image_index,
            _filters(self.names(values), self.value_lists(values)),
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
    never on the values. A layout in the encoder's order (every SDK's) is recognised
    whole, as one string (:func:`_in_order`); any other is looked at key by key.
    (A tuple of the keys as the cache key was tried: hashing 64 keys one by one costs
    every decode more than hashing one string.)
    """
    found = _in_order(layout)
    return _any_order(layout) if found is None else found


def _in_order(layout: str) -> Plan | None:
    """The plan of a layout in the encoder's order, lists from one base, from its shape;
    None for any other layout (then :func:`_any_order` looks at it key by key)."""
    if not layout.startswith(_HEAD_TEXT):
        return None
    base = 1 if layout.startswith(_ONE_BASED, len(_HEAD_TEXT)) else 0
    # The shape, guessed with whole-string operations, then checked by joining the
    # layout it gives: each filter's piece from what lies between its Name and the next
    # one's (its length tells how many Values; for the last filter, the tail follows:
    # they are counted), the IDs before the first Name.
    by_count, by_length = _PIECES[base]
    parts = layout.split(".Name")
    # (More filters than the table has: the last has no piece, whatever map takes.)
    filters = list(map(dict.get, by_length, map(len, parts[1:-1])))
    if len(parts) > 1:
        filters.append(by_count.get((len(parts) - 2, parts[-1].count(".Values."))))
    ids = parts[0].count("\x01ImageIds.")
    ends = _ID_END[base]
    if None in filters or ids >= len(ends):
        return None  # not that shape, or more IDs, filters or values than the table has
    texts, sizes, lengths, tops, value_index = (
        zip(*filters, strict=True) if filters else _NO_FILTERS
    )
    prefix = "".join((_HEAD_TEXT, _ID_TEXT[base][: ends[ids]], *texts))
    if not layout.startswith(prefix) or not _TAIL_RE.fullmatch(layout, len(prefix)):
        return None
    names = layout[len(prefix) :].split("\x01")[1:]
    start = len(_HEAD) + ids  # the first Name's position among the values
    tail = start + sum(sizes)
    found = Plan(tail + len(names), _IN_ORDER, (*_HEAD, *names), len(_HEAD), tail)
    longest = max((_HEAD_LONGEST, *lengths, *map(len, names)))
    depth, top = 1, 0
    if ids:
        found.images = slice(len(_HEAD), start)
        found.image_index = range(base, base + ids)
        longest = max(longest, _LENGTHS[_IMAGES + base + ids - 1])
        depth, top = 2, base + ids - 1
    if sizes:
        # Each filter's Name, then its Values: the Names where the filters start.
        names_at = list(accumulate(sizes, initial=start))[:-1]
        found.names = _getter(names_at)
        found.value_lists = _getter(list(map(getitem, _getter(names_at)(_AFTER), sizes)))
        found.filter_index = range(base, base + len(sizes))
        found.value_index = value_index
        depth = 4 if tail - start > len(sizes) else 3
        top = max((top, *tops))
    found.needs = (longest, depth, top)
    return found


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
    found = Plan(len(keys), getter, names, start, tail)
    longest, depth, top = max(scalars.translate(_LENGTHS), default=0), 1, 0
    if end > start:
        base, count = slots[start] - _IMAGES, end - start
        if base > 1 or slots[start:end] != _RUN[slots[start] : slots[start] + count]:
            return None
        found.images = slice(start, end)
        found.image_index = range(base, base + count)
        longest = max(longest, _LENGTHS[slots[end - 1]])
        depth, top = 2, base + count - 1
    if tail > end:
        try:
            index, values, sizes, tops, lengths = zip(
                *map(_FILTER_SLOTS.__getitem__, _FILTER_RE.findall(slots, end, tail)),
                strict=True,
            )
        except (KeyError, ValueError):  # values not contiguous from 0 or 1; no Name at all
            return None
        # Where each filter starts: findall skips slots before the first Name (values of
        # a filter without one), so that the filters then end before the tail.
        bounds = list(accumulate(sizes, initial=end))
        if bounds[-1] != tail or index[0] > 1 or index[-1] - index[0] != len(index) - 1:
            return None  # a filter without a Name, or filters not contiguous from 0 or 1
        found.names = _getter(bounds[:-1])
        found.value_lists = _getter([slice(b + 1, e) for b, e in pairwise(bounds)])
        found.filter_index = range(index[0], index[-1] + 1)
        found.value_index = values
        longest, top = max(longest, *lengths), max(top, *tops)
        depth = 4 if len(index) < tail - end else 3
    found.needs = (longest, depth, top)
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
    length, depth, index = found.needs
    if length > limits.max_key_length or depth > limits.max_depth or index > limits.max_index:
        return None
    return found.place(flat)
