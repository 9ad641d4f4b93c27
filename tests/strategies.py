"""Shared hypothesis strategies.

Wire level (the codec, spec/README.md Part 1): names, keys, pair lists, trees, and
hostile str/bytes input built from the fragments that reach the codec's corners.
Request-level strategies go below the wire ones.
"""

from __future__ import annotations

import operator
import string
from dataclasses import replace
from typing import Any, cast

from hypothesis import strategies as st

from describe_images import CommonParams, DescribeImagesRequest, ErrorCode, Filter
from describe_images._errors import RULES
from describe_images._spec import (
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
from describe_images.wire import Node

# --- Wire level -----------------------------------------------------------------------

# C0 controls and DEL: the codec refuses them in any decoded key or value.
WIRE_CONTROL_CHARACTERS = "".join(map(chr, range(0x20))) + "\x7f"


def wire_names() -> st.SearchStrategy[str]:
    """A name segment: ``[A-Za-z][A-Za-z0-9]*``, short enough that 8 fit in a key."""
    letters = string.ascii_letters
    first = st.sampled_from(letters)
    return st.builds(operator.add, first, st.text(letters + string.digits, max_size=7))


def wire_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any Unicode text the codec accepts as a key or value: no C0 control or DEL, no lone
    surrogate (C1 controls, non-characters and private-use code points included)."""
    return st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters=WIRE_CONTROL_CHARACTERS),
        max_size=max_size,
    )


def any_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text that can be UTF-8 encoded (control characters included)."""
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)


def wire_pairs(
    text: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Ordered (key, value) pairs of arbitrary text, well within every default cap
    (at most 20 pairs, keys of at most 40 and values of at most 80 characters)."""
    keys = text if text is not None else wire_text(40)
    values = text if text is not None else wire_text(80)
    return st.lists(st.tuples(keys, values), max_size=20)


def wire_leaves() -> st.SearchStrategy[str]:
    return wire_text(20)


def _tree_depth(node: Node) -> int:
    if isinstance(node, str):
        return 0
    children = node.values() if isinstance(node, dict) else node
    return 1 + max(map(_tree_depth, children))


def wire_trees(max_depth: int = 8) -> st.SearchStrategy[dict[str, Node]]:
    """Trees ``unflatten`` can produce: dicts keyed by names, non-empty lists and dicts,
    str leaves; no leaf deeper than ``max_depth`` segments; at most 4 * 30 leaves."""

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        lists = st.lists(children, min_size=1, max_size=4)
        dicts = st.dictionaries(wire_names(), children, min_size=1, max_size=4)
        return cast(st.SearchStrategy[Node], st.one_of(lists, dicts))

    nodes: st.SearchStrategy[Node] = st.recursive(wire_leaves(), extend, max_leaves=30)
    trees = st.dictionaries(wire_names(), nodes, max_size=4)
    # The root's members are depth 1, so a tree of depth d has leaves d segments deep.
    return trees.filter(lambda tree: not tree or _tree_depth(tree) <= max_depth)


# Fragments that reach every branch of the codec: separators, escapes good and bad,
# names, indexes canonical and not, controls and non-ASCII digits.
WIRE_FRAGMENTS = (
    "A", "B", "Filters", "Values", "x", "é", ".", "..", "=", "&", "&&", ";", "+", " ",
    "0", "1", "2", "01", "00", "10", "9999", "10000", "_", "-", "\u0661", "\uff11", "\u00b2",
    "%", "%4", "%41", "%2E", "%2e", "%25", "%FF", "%C3%A9", "%C3%28", "%C0%AF", "%ED%A0%80",
    "%00", "%1F", "%7F", "%GG", "\x00", "\x7f", "\u0080",
)  # fmt: skip


def wireish_queries() -> st.SearchStrategy[str]:
    """Query-like text: mostly codec fragments, some arbitrary characters."""
    piece = st.one_of(st.sampled_from(WIRE_FRAGMENTS), st.characters())
    return st.lists(piece, max_size=40).map("".join)


def wireish_bytes() -> st.SearchStrategy[bytes]:
    """Query-like bytes: UTF-8 fragments mixed with arbitrary (often invalid) bytes."""
    fragment = st.sampled_from(WIRE_FRAGMENTS).map(lambda s: s.encode("utf-8"))
    return st.lists(st.one_of(fragment, st.binary(max_size=3)), max_size=40).map(b"".join)


def wireish_keys() -> st.SearchStrategy[str]:
    """Dotted keys, valid or nearly so: names, indexes and bad segments joined by dots."""
    segment = st.one_of(
        wire_names(),
        st.sampled_from(["0", "1", "2", "3", "01", "10000", "", "_", "\u0661", " 1", "+1"]),
        st.integers(0, 12).map(str),
    )
    return st.lists(segment, min_size=1, max_size=10).map(".".join)


def hostile_pair_items() -> st.SearchStrategy[list[object]]:
    """What a caller without type checking might hand to ``unflatten``: mostly pairs,
    some of the wrong shape or type."""
    pair = st.tuples(st.one_of(wireish_keys(), any_text(10)), any_text(10))
    junk = st.one_of(
        st.tuples(st.text(max_size=3), st.integers()),
        st.tuples(st.text(max_size=3)),
        st.tuples(st.text(max_size=3), st.text(max_size=3), st.text(max_size=3)),
        st.lists(st.text(max_size=3), min_size=2, max_size=2),
        st.integers(),
        st.none(),
        st.binary(max_size=3),
    )
    items = st.one_of(pair, pair, pair, junk)
    return st.lists(cast(st.SearchStrategy[object], items), max_size=20)


# --- requests (DescribeImages) --------------------------------------------------------------

_ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def image_ids() -> st.SearchStrategy[str]:
    """Valid image IDs: img- and 8 lower-case letters or digits."""
    return st.text(alphabet=_ID_CHARS, min_size=8, max_size=8).map(lambda s: f"img-{s}")


def _printable_text(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
        min_size=min_size,
        max_size=max_size,
    )


def valid_filters() -> st.SearchStrategy[Filter]:
    """A filter that breaks no rule: a known Name and 1 to 5 values it accepts."""
    types = st.sampled_from(IMAGE_TYPES)
    return st.one_of(
        st.lists(types, min_size=1, max_size=MAX_FILTER_VALUES).map(
            lambda v: Filter(FILTER_IMAGE_TYPE, tuple(v))
        ),
        st.lists(image_ids(), min_size=1, max_size=MAX_FILTER_VALUES).map(
            lambda v: Filter(FILTER_IMAGE_ID, tuple(v))
        ),
        st.lists(_printable_text(min_size=1), min_size=1, max_size=MAX_FILTER_VALUES).map(
            lambda v: Filter(FILTER_IMAGE_NAME, tuple(v))
        ),
    )


def common_params() -> st.SearchStrategy[CommonParams]:
    """Valid common parameters of every shape: each field absent or set (Action given
    explicitly or left to its default), any text the wire carries where text is free."""
    digits = st.integers(min_value=0, max_value=2**64).map(str) | st.from_regex(
        r"[0-9]{1,30}", fullmatch=True
    )
    text = st.none() | _printable_text(max_size=20)
    fields = st.fixed_dictionaries(
        {},
        optional={
            "action": st.just(ACTION),
            "region": text,
            "timestamp": st.none() | digits,
            "nonce": st.none() | digits,
            "secret_id": text,
            "signature": text,
            "signature_method": st.none() | st.sampled_from(SIGNATURE_METHODS),
            "token": text,
            "request_client": text,
            "language": text,
        },
    )
    return fields.map(lambda kwargs: CommonParams(**cast("dict[str, Any]", kwargs)))


def any_common_params() -> st.SearchStrategy[CommonParams]:
    """Well-typed common parameters that may break rules (any Action, non-digit Timestamp,
    unknown SignatureMethod): what the model can hold and the wire can carry."""
    text = _printable_text(max_size=20)
    optional = st.none() | text
    return st.builds(
        CommonParams,
        action=text,
        region=optional,
        timestamp=optional,
        nonce=optional,
        secret_id=optional,
        signature=optional,
        signature_method=optional | st.sampled_from(SIGNATURE_METHODS),
        token=optional,
        request_client=optional,
        language=optional,
    )


def any_filters() -> st.SearchStrategy[Filter]:
    """Well-typed filters that may break rules: any name, 0 to 7 values of any text."""
    names = st.sampled_from([*FILTER_NAMES, "", "Image-Type", "x"]) | _printable_text()
    values = st.lists(_printable_text() | st.sampled_from(IMAGE_TYPES) | image_ids(), max_size=7)
    return st.builds(Filter, names, values.map(tuple))


def any_requests() -> st.SearchStrategy[DescribeImagesRequest]:
    """Well-typed requests that may break any rule (small enough for the wire's caps)."""
    ints = st.none() | st.integers(min_value=-(10**30), max_value=10**30)
    return st.builds(
        DescribeImagesRequest,
        image_ids=st.lists(image_ids() | _printable_text(), max_size=110).map(tuple),
        filters=st.lists(any_filters(), max_size=12).map(tuple),
        offset=ints,
        limit=ints,
        common=st.just(CommonParams()) | any_common_params(),
    )


# Values of the wrong type or text the wire cannot carry, for values built in code.
HOSTILE_VALUES: st.SearchStrategy[object] = st.one_of(
    st.integers(min_value=-(10**6000), max_value=10**6000),
    st.just(10**5000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.binary(max_size=5),
    st.text(max_size=10),  # lone surrogates and controls included
    st.text(min_size=4097, max_size=4100),
    st.lists(st.text(max_size=3), max_size=3),
    st.tuples(st.integers()),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)


def hostile_requests() -> st.SearchStrategy[DescribeImagesRequest]:
    """Requests built in code by a caller without type checking: any field may hold a
    value of any type, any element of a tuple too."""
    elements = st.one_of(HOSTILE_VALUES, image_ids(), st.just(Filter("image-type", ("x",))))
    tuples = st.lists(elements, max_size=4).map(tuple) | HOSTILE_VALUES
    filters = st.builds(Filter, HOSTILE_VALUES, tuples) | HOSTILE_VALUES
    commons = st.builds(
        CommonParams,
        action=HOSTILE_VALUES | st.just(ACTION),
        region=HOSTILE_VALUES,
        timestamp=HOSTILE_VALUES,
        nonce=HOSTILE_VALUES,
        token=HOSTILE_VALUES,
    )
    return st.builds(
        DescribeImagesRequest,
        image_ids=tuples,
        filters=st.lists(filters, max_size=3).map(tuple) | HOSTILE_VALUES,
        offset=HOSTILE_VALUES,
        limit=HOSTILE_VALUES,
        common=commons | HOSTILE_VALUES,
    )


@st.composite
def valid_requests(draw: st.DrawFn) -> DescribeImagesRequest:
    """A request that breaks no rule (ImageIds or Filters, never both)."""
    ids: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    which = draw(st.sampled_from(["none", "ids", "filters"]))
    if which == "ids":
        ids = tuple(draw(st.lists(image_ids(), min_size=1, max_size=MAX_IMAGE_IDS)))
    elif which == "filters":
        filters = tuple(draw(st.lists(valid_filters(), min_size=1, max_size=MAX_FILTERS)))
    return DescribeImagesRequest(
        image_ids=ids,
        filters=filters,
        offset=draw(st.none() | st.integers(min_value=0, max_value=MAX_OFFSET)),
        limit=draw(st.none() | st.integers(min_value=MIN_LIMIT, max_value=MAX_LIMIT)),
        common=draw(common_params()),
    )


@st.composite
def invalid_requests(draw: st.DrawFn) -> tuple[DescribeImagesRequest, ErrorCode, str]:
    """A valid request with exactly one rule broken on purpose, its code and reason."""
    base = draw(valid_requests())
    plain = replace(base, image_ids=(), filters=())
    ok_filter = Filter(FILTER_IMAGE_TYPE, ("PRIVATE_IMAGE",))
    broken = draw(st.sampled_from(sorted(_BREAKERS)))
    code = RULES[broken]
    if broken == "too-many-filters":
        n = draw(st.integers(min_value=MAX_FILTERS + 1, max_value=MAX_FILTERS + 3))
        return replace(plain, filters=(ok_filter,) * n), code, broken
    if broken == "too-many-filter-values":
        n = draw(st.integers(min_value=MAX_FILTER_VALUES + 1, max_value=MAX_FILTER_VALUES + 3))
        too_many = Filter(FILTER_IMAGE_TYPE, IMAGE_TYPES[:1] * n)
        return replace(plain, filters=(too_many,)), code, broken
    if broken == "too-many-image-ids":
        ids = draw(st.lists(image_ids(), min_size=MAX_IMAGE_IDS + 1, max_size=MAX_IMAGE_IDS + 3))
        return replace(plain, image_ids=tuple(ids)), code, broken
    if broken == "coexist-imageids-filters":
        return replace(plain, image_ids=("img-pmqg1cw7",), filters=(ok_filter,)), code, broken
    if broken == "malformed-image-id":
        bad = draw(_printable_text().filter(lambda s: not IMAGE_ID_RE.match(s)))
        return replace(plain, image_ids=(bad,)), code, broken
    if broken == "unknown-filter-name":
        name = draw(_printable_text(min_size=1).filter(lambda s: s not in FILTER_NAMES))
        return replace(plain, filters=(Filter(name, ("x",)),)), code, broken
    if broken == "missing-filter-values":
        return replace(plain, filters=(Filter(FILTER_IMAGE_TYPE, ()),)), code, broken
    if broken == "missing-filter-name":
        return replace(plain, filters=(Filter("", ("PRIVATE_IMAGE",)),)), code, broken
    if broken == "empty-filter-value":
        name = draw(st.sampled_from(FILTER_NAMES))
        return replace(plain, filters=(Filter(name, ("",)),)), code, broken
    if broken == "invalid-filter-value":
        name = draw(st.sampled_from([FILTER_IMAGE_TYPE, FILTER_IMAGE_ID]))
        value = draw(
            _printable_text(min_size=1).filter(
                lambda s: s not in IMAGE_TYPES and not IMAGE_ID_RE.match(s)
            )
        )
        return replace(plain, filters=(Filter(name, (value,)),)), code, broken
    if broken == "invalid-offset":
        offset = draw(st.integers(max_value=-1) | st.integers(min_value=MAX_OFFSET + 1))
        return replace(base, offset=offset), code, broken
    if broken == "invalid-limit":
        limit = draw(st.integers(max_value=MIN_LIMIT - 1) | st.integers(min_value=MAX_LIMIT + 1))
        return replace(base, limit=limit), code, broken
    if broken == "not-an-integer":
        stamp = draw(_printable_text(min_size=1).filter(lambda s: not DIGITS_RE.match(s)))
        return replace(base, common=replace(base.common, timestamp=stamp)), code, broken
    if broken == "unsupported-signature-method":
        method = draw(_printable_text(min_size=1).filter(lambda s: s not in SIGNATURE_METHODS))
        return replace(base, common=replace(base.common, signature_method=method)), code, broken
    assert broken == "unsupported-action"
    action = draw(_printable_text(min_size=1).filter(lambda s: s != ACTION))
    return replace(base, common=replace(base.common, action=action)), code, broken


_BREAKERS = frozenset(
    {
        "too-many-filters",
        "too-many-filter-values",
        "too-many-image-ids",
        "coexist-imageids-filters",
        "malformed-image-id",
        "unknown-filter-name",
        "missing-filter-values",
        "missing-filter-name",
        "empty-filter-value",
        "invalid-filter-value",
        "invalid-offset",
        "invalid-limit",
        "not-an-integer",
        "unsupported-signature-method",
        "unsupported-action",
    }
)

_TABLE_KEYS = st.one_of(
    st.sampled_from(["Action", "Version", "Offset", "Limit", "Region", "Nonce", "ImageIds"]),
    st.integers(0, 12).map(lambda i: f"ImageIds.{i}"),
    st.integers(0, 12).map(lambda i: f"Filters.{i}.Name"),
    st.tuples(st.integers(0, 12), st.integers(0, 7)).map(lambda t: f"Filters.{t[0]}.Values.{t[1]}"),
    st.sampled_from(["Filters.0", "Filters.1.Values", "ImageIds.0.x", "Filter.1.Name", "limit"]),
)


@st.composite
def edge_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Contiguous lists sized around the decoder's key table edges (one past each
    maximum, in either base, and a name-only or values-only last filter)."""
    pairs = [("Action", ACTION), ("Version", "2017-03-12")]
    base = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()):
        count = draw(st.integers(MAX_IMAGE_IDS - 2, MAX_IMAGE_IDS + 4))
        pairs += [(f"ImageIds.{i}", f"img-{i:08d}") for i in range(base, base + count)]
        return pairs
    for i in range(base, base + draw(st.integers(MAX_FILTERS - 1, MAX_FILTERS + 3))):
        if draw(st.integers(0, 9)):
            pairs.append((f"Filters.{i}.Name", FILTER_IMAGE_TYPE))
        vbase = draw(st.sampled_from([0, 1]))
        count = draw(st.integers(0, MAX_FILTER_VALUES + 3))
        pairs += [(f"Filters.{i}.Values.{j}", "PUBLIC_IMAGE") for j in range(vbase, vbase + count)]
    return pairs


def schema_pairs() -> st.SearchStrategy[list[tuple[str, str]]]:
    """Pairs whose keys are mostly DescribeImages keys: duplicates, gaps, mixed bases."""
    values = st.sampled_from(
        ["PRIVATE_IMAGE", "image-type", "image-id", "img-pmqg1cw7", "", "5", "x", "DescribeImages"]
    )
    return st.lists(st.tuples(_TABLE_KEYS, values), max_size=14)
