"""Stage two of the codec (describe_images._tree): unflatten and its writer flatten
(spec/README.md §1.4, §1.5, §1.8, §1.9)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import UsageError, _tree
from describe_images._grammar import NAME_RE, check_key
from describe_images.wire import (
    DEFAULT_LIMITS,
    Node,
    WireLimits,
    flatten,
    format_query,
    parse_query,
    unflatten,
)
from tests import reference_tree
from tests.strategies import (
    WIRE_CONTROL_CHARACTERS,
    any_text,
    hostile_pair_items,
    wire_names,
    wire_text,
    wire_trees,
    wireish_keys,
)
from tests.wirecheck import (
    Described,
    assert_well_formed,
    attempt,
    described,
    query_errors,
    reported,
    tree_errors,
    wire_error,
)

# --- unflatten: properties ------------------------------------------------------------------

# Segments that reach every corner of the builder: names, indexes canonical or not, at the
# edges of small max_index values, and segments the grammar refuses.
SEGMENTS = st.sampled_from(["A", "B", "0", "1", "2", "3", "5", "01", "10", "x", ""])
KEYS = st.one_of(wireish_keys(), st.lists(SEGMENTS, min_size=1, max_size=9).map(".".join))
VALUES = st.sampled_from(["x", "y", "", "\x00"])


def outcome(call: Any, pairs: object, limits: WireLimits) -> tuple[str, object]:
    """The tree (with its member order), or every violation with its message."""
    tree, error = attempt(call, pairs, limits=limits)
    if error is not None:
        return ("error", described(error))
    return ("tree", repr(tree))


@given(
    st.lists(st.tuples(KEYS, VALUES), max_size=16),
    st.integers(1, 9),
    st.sampled_from([1, 2, 5, 9, 10, 11, 99, 9999]),
)
def test_unflatten_agrees_with_the_reference_builder(
    pairs: list[tuple[str, str]], depth: int, max_index: int
) -> None:
    """The optimised builder (chains, one regex per key) gives exactly what the
    straightforward one (tests/reference_tree.py) gives: the same tree in the same
    order, or the same violations, messages and order."""
    limits = WireLimits(max_depth=depth, max_index=max_index)
    assert outcome(unflatten, pairs, limits) == outcome(reference_tree.unflatten, pairs, limits)


# Chains are made, walked, cut and built: every way a later key can meet an earlier one.
CHAIN_CASES = [
    ["A.0.0.0=x"],  # a chain of one pair
    ["A.0.B.1=x", "A.0.B.2=y"],  # cut at its last node
    ["A.0.B.1=x", "A.1=y"],  # cut at its first node
    ["A.0.B.1=x", "A.0.C=y"],  # cut in the middle (a mixed node: shape-conflict)
    ["A.0.0.0=x", "A.0.0.1=y", "A.0.1=z"],  # cut above an earlier cut
    ["A.0.0.0=x", "A.0.1=y", "A.0.0.1=z"],  # through a chain into a branch
    ["A.B.C=x", "A.B.C=y"],  # a duplicate at its end
    ["A.B.C=x", "A.B.D=y", "A.B.C=z"],  # a duplicate below a cut
    ["A.B.C=x", "A.B=y"],  # a key ending inside it
    ["A.B.C=x", "A.B.C.D=y"],  # a key going past its leaf
    ["A.B.C=x", "A.B.D=y", "A.B=z"],  # a key ending at the branch below it
    ["A.B.C.D=x", "A.B.E=y", "A.B.C=z"],  # a key ending at a chain under a branch
    ["A.5.5=x"],  # lists of one element at index 5, twice in one chain
    ["A.5.5.0=x", "A.5.5.1=y", "A.5.6=z"],  # ... and above a cut
    ["A.1.B.1=x", "A.1.B.2=y", "A.1.C=z"],
    ["A.0=x", "A.2=y", "B.1.1=z", "B.1.3=w"],
    ["A.B.C.D=x", "A.X=y", "A.B.C=z"],  # a key ending inside the chain below a cut
    ["A.B.5=x", "C.2=q", "A.X=y"],  # a list problem in the chain below a cut: its position
    ["A.B.C.5=x", "A.X=y", "A.B.Y=z", "C.2=q"],  # ... and below a second cut
    ["K.a=1", "K.0=2"],
    ["K.0=1", "K.a=2", "K.b=3", "K.1=4"],
]


@pytest.mark.parametrize("query", ["&".join(c) for c in CHAIN_CASES])
def test_chain_cases_agree_with_the_reference_builder(query: str) -> None:
    pairs = parse_query(query)
    for limits in (DEFAULT_LIMITS, WireLimits(max_index=5), WireLimits(max_depth=3)):
        want = outcome(reference_tree.unflatten, pairs, limits)
        assert outcome(unflatten, pairs, limits) == want
        assert outcome(unflatten, pairs[::-1], limits) == outcome(
            reference_tree.unflatten, pairs[::-1], limits
        )


def test_chain_outcomes() -> None:
    assert unflatten(parse_query("A.0.B.1=x&A.0.B.2=y")) == {"A": [{"B": ["x", "y"]}]}
    assert unflatten(parse_query("A.0.0.0=x&A.0.1=y&A.0.0.1=z")) == {"A": [[["x", "z"], "y"]]}
    assert query_errors("A.B.C=x&A.B=y&A.B.C.D=z&A.B.C=w") == [
        ("shape-conflict", "A.B"),
        ("shape-conflict", "A.B.C.D"),
        ("duplicate-key", "A.B.C"),
    ]
    assert query_errors("A.5.5=x") == [("bad-index-start", "A.5"), ("bad-index-start", "A.5.5")]
    # A chain cut where its node's one child is "A": a name, so the node is an object.
    assert unflatten(parse_query("K.A=1&K.B=2")) == {"K": {"A": "1", "B": "2"}}
    # Names and indexes told apart by their first character ("A" is a name).
    assert unflatten(parse_query("Z.A.z=1&Y.0.A=2&X.1.0=3")) == {
        "Z": {"A": {"z": "1"}},
        "Y": [{"A": "2"}],
        "X": [["3"]],
    }
    error = wire_error(unflatten, [("A.B.C", "x"), ("A.B", "y")])
    assert error.violations[0].message == (
        "'A.B' and 'A.B.C' use the same path both as a value and as a container"
    )


@pytest.mark.parametrize(
    ("max_index", "plain", "not_plain"),
    [
        (9999, ["A", "A.B0", "A.0", "A.999", "A.1.b.20"], ["A.9999", "A.10000", "A.01", "0", "A."]),
        (10, ["A.0", "A.9"], ["A.10", "A.11", "A.00"]),
        (5, ["A.0", "Ab.Cd"], ["A.1", "A.5"]),
        (1, ["A.0"], ["A.1"]),
    ],
)
def test_plain_keys_have_every_index_below_max_index(
    max_index: int, plain: list[str], not_plain: list[str]
) -> None:
    # One match decides the common case; every other key is looked at segment by segment.
    pattern = _tree._plain_key_re(max_index)
    assert [key for key in plain if pattern.match(key)] == plain
    assert [key for key in not_plain if pattern.match(key)] == []


@given(hostile_pair_items())
def test_unflatten_is_total_on_arbitrary_items(items: list[Any]) -> None:
    tree, error = attempt(unflatten, items)
    if error is not None:
        assert_well_formed(error)
    else:
        assert all(isinstance(item, tuple) for item in items)
        assert unflatten(flatten(tree)) == tree


@given(st.one_of(st.text(max_size=20), st.binary(max_size=20)))
def test_unflatten_refuses_str_and_bytes_whole(data: str | bytes) -> None:
    # Iterating a str or bytes gives characters or ints, never pairs: one violation.
    error = wire_error(unflatten, data)
    assert reported(error) == [("bad-pair", "")]


@given(st.lists(st.tuples(wireish_keys(), st.sampled_from(["x", "", "\x00"])), max_size=12))
def test_unflatten_error_order_is_wire_order(pairs: list[tuple[str, str]]) -> None:
    """Violations come in the order of the pairs they concern, whatever pass found them:
    each names a key (or a prefix of one) at or after the previous violation's pair."""
    _, error = attempt(unflatten, pairs)
    position = 0
    for violation in error.violations if error is not None else ():
        later = [p for p in range(position, len(pairs)) if pairs[p][0].startswith(violation.key)]
        assert later, (violation, pairs)
        position = later[0]


# --- unflatten: the key grammar --------------------------------------------------------------


# Segments int() accepts (or reads as a number) that are not indexes.
INT_LOOKALIKES = [" 1", "1 ", "+1", "-1", "1_0", "\u0661", "\uff11", "\u00b2", "\u0967", "0x1"]


@pytest.mark.parametrize("segment", INT_LOOKALIKES)
def test_int_lookalikes_are_not_indexes(segment: str) -> None:
    key = f"A.{segment}"
    assert tree_errors([(key, "x")]) == [("bad-key", key)]
    # The same key sent on the wire, percent-encoded.
    assert query_errors(format_query([(key, "x")])) == [("bad-key", key)]


def test_int_accepts_what_the_grammar_refuses() -> None:
    # Why the codec never calls a bare int() on a segment (FACTS: int() is too lenient).
    assert [int(s) for s in [" 1", "1 ", "+1", "1_0", "\u0661", "\uff11"]] == [1, 1, 1, 10, 1, 1]


def test_bad_key_messages() -> None:
    error = wire_error(unflatten, [("0", "x"), ("A.b_c", "x")])
    assert [v.message for v in error.violations] == [
        "the key '0' must start with a name ([A-Za-z][A-Za-z0-9]*), not '0'",
        "segment 'b_c' of 'A.b_c' is neither a name ([A-Za-z][A-Za-z0-9]*) "
        "nor an index (0 or [1-9][0-9]*)",
    ]


def test_index_messages() -> None:
    error = wire_error(unflatten, [("A.01", "x"), ("B.10000", "x"), ("C.0", "x"), ("C.2", "x")])
    assert [v.message for v in error.violations] == [
        "index '01' in 'A.01' has a leading zero; write it as 1",
        "index 10000 in 'B.10000' is above the maximum 9999 (max_index)",
        "list 'C' has no index 1 before 2; indexes must be consecutive",
    ]
    error = wire_error(unflatten, [("A.3", "x")])
    assert error.violations[0].message == "list 'A' starts at index 3; a list starts at 0 or 1"


@pytest.mark.parametrize(("digits", "shown"), [(20, "9" * 20), (21, "9" * 20 + "... (21 digits)")])
def test_long_indexes_are_shown_whole_up_to_20_digits(digits: int, shown: str) -> None:
    key = "A." + "9" * digits
    error = wire_error(unflatten, [(key, "x")])
    assert error.violations[0].message == (
        f"index {shown} in {key!r} is above the maximum 9999 (max_index)"
    )


def test_a_5000_digit_index_is_refused_by_its_length() -> None:
    limits = WireLimits(max_key_length=10_000)
    key = "A." + "1" * 5000
    error = wire_error(unflatten, [(key, "x")], limits=limits)
    assert reported(error) == [("index-out-of-range", key)]
    assert error.violations[0].message == (
        f"index {'1' * 20}... (5000 digits) in {key[:60]!r}... is above the maximum 9999 "
        "(max_index)"
    )
    assert query_errors(f"{key}=x", limits) == [("index-out-of-range", key)]


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("A.00", "0"),
        ("A.007", "7"),
        ("A.0" + "1" * 20, "1" * 20),
        ("A.0" + "1" * 21, "its digits without the leading zeros"),
    ],
)
def test_leading_zero_messages(key: str, canonical: str) -> None:
    error = wire_error(unflatten, [(key, "x")])
    seg = key[2:]
    assert error.violations[0].message == (
        f"index {seg!r} in {key!r} has a leading zero; write it as {canonical}"
    )


def test_a_5000_digit_index_with_a_leading_zero_is_bad_index() -> None:
    # int() would raise ValueError past 4,300 digits; the codec never converts it.
    limits = WireLimits(max_key_length=10_000)
    key = "A.0" + "1" * 5000
    error = wire_error(unflatten, [(key, "x")], limits=limits)
    assert reported(error) == [("bad-index", key)]
    assert error.violations[0].message.endswith(
        "has a leading zero; write it as its digits without the leading zeros"
    )
    assert tree_errors([("A.00", "x")]) == [("bad-index", "A.00")]


def test_duplicate_and_shape_messages() -> None:
    error = wire_error(
        unflatten, [("A", "1"), ("A", "2"), ("B", "1"), ("B.0", "2"), ("C.0", "1"), ("C.D", "2")]
    )
    assert [v.message for v in error.violations] == [
        "'A' is sent more than once",
        "'B.0' and 'B' use the same path both as a value and as a container",
        "'C' has both index and name children ('C.D'); it must be a list or an object",
    ]


def test_too_deep_message() -> None:
    error = wire_error(unflatten, [("A.B.C.D.E.F.G.H.I", "x")])
    assert error.violations[0].message == (
        "'A.B.C.D.E.F.G.H.I' has 9 segments; at most 8 are allowed (max_depth)"
    )


def test_deep_trees_do_not_exhaust_the_stack() -> None:
    depth = 3000
    limits = WireLimits(max_depth=depth, max_key_length=2 * depth)
    node: object = unflatten([("A" + ".0" * (depth - 1), "x")], limits=limits)
    levels = 0
    while isinstance(node, (dict, list)):
        node = node["A"] if isinstance(node, dict) else node[0]
        levels += 1
    assert (levels, node) == (depth, "x")


def test_unflatten_orders_all_violations_by_pair_position() -> None:
    pairs = [("A.01", "x"), ("B", "\x00"), ("C.2", "x"), ("D", "y" * 4097), ("0", "x")]
    assert tree_errors(pairs) == [
        ("bad-index", "A.01"),
        ("control-character", "B"),
        ("bad-index-start", "C.2"),
        ("too-large", "D"),
        ("bad-key", "0"),
    ]


# --- flatten: the writer refuses what unflatten would refuse (spec/README.md §1.9) ----------


def normal(node: object) -> Node:
    """The tree unflatten gives back for what flatten wrote: text for integers, lists for
    tuples, dicts for mappings, plain str for str subclasses (spec/README.md §1.9)."""
    if isinstance(node, str):
        return str.__str__(node)
    if isinstance(node, int):
        return str(node)
    if isinstance(node, Mapping):
        return {str.__str__(k): normal(v) for k, v in node.items()}
    return [normal(v) for v in cast(Sequence[object], node)]


def naive_pairs(tree: Mapping[str, object], base: int) -> list[tuple[str, str]] | None:
    """The pairs a writer without checks would send, or None if the tree has a node or a
    name no pair can carry (None, an empty container, a bool, a float, a name outside the
    grammar...)."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, object]] = [("", tree)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, str) or (isinstance(node, int) and not isinstance(node, bool)):
            out.append((key, cast(str, normal(node))))  # text or an integer: text
            continue
        if isinstance(node, Mapping) and (node or not key):
            names = list(node)
            if not all(isinstance(n, str) and NAME_RE.match(n) for n in names):
                return None
            children = [(f"{key}.{n}" if key else n, node[n]) for n in names]
        elif isinstance(node, (list, tuple)) and node:
            children = [(f"{key}.{i}", v) for i, v in enumerate(node, base)]
        else:
            return None
        stack.extend(reversed(children))
    return out


def containers_fit(pairs: list[tuple[str, str]], limits: WireLimits) -> bool:
    """Whether every key that is a proper prefix of a pair's key (a container) would pass
    unflatten's checks: then flatten, which checks a container once, and unflatten, which
    checks each pair under it, report alike."""
    for key, _ in pairs:
        segs = key.split(".")
        for depth in range(1, len(segs)):
            prefix = ".".join(segs[:depth])
            out: list[Any] = []
            if not check_key(prefix, limits, out) or depth > limits.max_depth:
                return False
            last = segs[depth - 1]
            if last.isdigit() and int(last) > limits.max_index:
                return False
    return True


# Leaves: text (non-ASCII, and now and then a control, a lone surrogate or a long one) and
# integers; nodes a pair cannot carry; names, now and then outside the grammar.
LEAF_TEXT = st.one_of(
    wire_text(6), wire_text(6), any_text(4), st.sampled_from(["\ud800", "v" * 31])
)
LEAVES = st.one_of(LEAF_TEXT, st.integers(-(10**6), 10**12))
UNWRITABLE = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=False), st.binary(max_size=2),
    st.just([]), st.just({}), st.just(()),
)  # fmt: skip
BAD_NAMES = st.sampled_from(["0", "b_c", "a.b", "é", "A\x00", "\ud800"])


@st.composite
def chains(
    draw: st.DrawFn, children: st.SearchStrategy[object], names: st.SearchStrategy[str]
) -> object:
    """A node under a run of single-child containers: the deep trees."""
    node = draw(children)
    for _ in range(draw(st.integers(0, 9))):
        kind = draw(st.sampled_from(["list", "tuple", "dict"]))
        node = (node,) if kind == "tuple" else [node] if kind == "list" else {draw(names): node}
    return node


def trees(
    leaves: st.SearchStrategy[object], names: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, object]]:
    def extend(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
        return st.one_of(
            st.lists(children, min_size=1, max_size=7),  # up to max_index and beyond
            st.lists(children, min_size=1, max_size=3).map(tuple),
            st.dictionaries(names, children, min_size=1, max_size=3),
            chains(children, names),
        )

    nodes = st.recursive(leaves, extend, max_leaves=12)
    return st.dictionaries(names, nodes, min_size=1, max_size=4)


LIMITS = st.one_of(
    st.just(DEFAULT_LIMITS),
    st.just(WireLimits(max_index=5, max_depth=6)),
    st.builds(
        WireLimits,
        max_pairs=st.integers(1, 60),
        max_key_length=st.integers(12, 80),
        max_value_length=st.integers(1, 30),
        max_depth=st.integers(2, 10),
        max_index=st.integers(1, 6),
    ),
)


@given(trees(LEAVES, wire_names()), st.sampled_from([0, 1]), LIMITS)
def test_flatten_writes_exactly_what_unflatten_gives_back(
    tree: dict[str, object], base: int, limits: WireLimits
) -> None:
    """flatten(t, limits=L) accepts t iff its pairs would pass unflatten(limits=L), and
    then unflatten gives back t in its normal form: deep trees, indexes up to max_index,
    non-ASCII text, integers, tuples. What it refuses, it refuses as unflatten would."""
    pairs, error = attempt(flatten, tree, base=1 if base else 0, limits=limits)
    naive = naive_pairs(tree, base)
    assert naive is not None
    refused = attempt(unflatten, naive, limits=limits)[1]
    if error is None:
        assert refused is None
        assert pairs == naive
        assert unflatten(pairs, limits=limits) == normal(tree)
        query, unsent = attempt(format_query, pairs, limits=limits)
        if unsent is None:
            assert unflatten(parse_query(query, limits=limits), limits=limits) == normal(tree)
        else:
            assert reported(unsent) == [("too-large", "")]  # only max_query_bytes is left
        return
    assert_well_formed(error)
    assert refused is not None
    if not containers_fit(naive, limits):
        return  # flatten refuses a container once, unflatten each pair under it
    if reported(refused) == [("too-large", "")]:
        assert reported(error) == [("too-large", "")]  # max_pairs: each says it its own way
    else:
        # One pair, one verdict: the same violations, messages and order. (unflatten goes
        # on to build the tree without the pairs it refused, so a list may then show a gap
        # where a refused element was: the writer reports only the element.)
        artefacts = ("index-gap", "bad-index-start")
        want = [d for d in described(refused) if d[0] not in artefacts]
        assert reported(error) == [d[:2] for d in want]
        # A huge integer is measured from its bits ("at least N characters"), not written.
        assert [d for d in described(error) if "at least" not in d[2]] == [
            d for d, got in zip(want, described(error), strict=True) if "at least" not in got[2]
        ]


@given(
    st.integers(1, 10),
    st.integers(1, 6),
    st.sampled_from([0, 1]),
    st.lists(st.sampled_from(["list", "dict"]), min_size=10, max_size=10),
    st.text(st.characters(min_codepoint=0x80, exclude_categories=["Cs"]), min_size=1),
)
def test_flatten_accepts_trees_at_the_caps_and_refuses_one_past(
    max_depth: int, max_index: int, base: int, kinds: list[str], leaf: str
) -> None:
    """Leaves exactly max_depth deep, lists up to index max_index, non-ASCII text: written
    and given back; one level deeper, or one element more, is refused as unflatten would."""
    limits = WireLimits(max_depth=max_depth, max_index=max_index)
    full = max_index + 1 - base  # the longest list: indexes base .. max_index

    def tree(depth: int, length: int) -> dict[str, object]:
        """A chain ``depth`` segments deep; its outermost list has ``length`` elements."""
        node: object = leaf
        levels = kinds[: depth - 1]
        outer = levels.index("list") if "list" in levels else -1
        for level in reversed(range(len(levels))):
            if levels[level] == "dict":
                node = {"K": node}
            else:
                node = [node] * (length if level == outer else 1)
        return {"A": node}

    at_caps = tree(max_depth, full)
    pairs = flatten(at_caps, base=1 if base else 0, limits=limits)
    assert max(key.count(".") + 1 for key, _ in pairs) == max_depth
    assert unflatten(pairs, limits=limits) == normal(at_caps)
    deeper = wire_error(flatten, tree(max_depth + 1, full), base=1 if base else 0, limits=limits)
    assert {v.reason for v in deeper.violations} == {"too-deep"}
    if "list" in kinds[: max_depth - 1]:
        longer = tree(max_depth, full + 1)
        error = wire_error(flatten, longer, base=1 if base else 0, limits=limits)
        assert {v.reason for v in error.violations} <= {"index-out-of-range", "too-large"}


@given(trees(st.one_of(LEAVES, UNWRITABLE), st.one_of(wire_names(), BAD_NAMES)), LIMITS)
def test_flatten_refuses_every_tree_no_pairs_can_carry(
    tree: dict[str, object], limits: WireLimits
) -> None:
    pairs, error = attempt(flatten, tree, limits=limits)
    if error is None:
        assert naive_pairs(tree, 0) == pairs
        assert unflatten(pairs, limits=limits) == normal(tree)
    else:
        assert_well_formed(error)


@given(wire_trees(), st.sampled_from([0, 1]))
def test_unflatten_inverts_flatten(tree: dict[str, Node], base: int) -> None:
    pairs = flatten(tree, base=1 if base else 0)
    assert unflatten(pairs) == tree
    # ...and the pairs survive the trip back: order kept, lists indexed from base.
    assert flatten(unflatten(pairs), base=1 if base else 0) == pairs
    assert unflatten(parse_query(format_query(pairs))) == tree


def test_flatten_indexes_lists_from_base() -> None:
    tree = {"Filters": [{"Name": "image-type", "Values": ["A", "B"]}], "Limit": 20}
    assert flatten(tree) == [
        ("Filters.0.Name", "image-type"),
        ("Filters.0.Values.0", "A"),
        ("Filters.0.Values.1", "B"),
        ("Limit", "20"),
    ]
    assert flatten(tree, base=1) == [
        ("Filters.1.Name", "image-type"),
        ("Filters.1.Values.1", "A"),
        ("Filters.1.Values.2", "B"),
        ("Limit", "20"),
    ]
    assert flatten({}) == []


class Colour(enum.IntEnum):
    RED = 7


class Text(str):
    def __str__(self) -> str:
        return "not this"


def test_flatten_leaves_are_plain_decimal_and_text() -> None:
    tree = {"A": Colour.RED, "B": Text("b"), "C": -3, "D": ("x",), Text("E"): {Text("F"): "f"}}
    pairs = flatten(tree)
    assert pairs == [("A", "7"), ("B", "b"), ("C", "-3"), ("D.0", "x"), ("E.F", "f")]
    assert all(type(k) is str and type(v) is str for k, v in pairs)


def flatten_described(tree: object, **kwargs: Any) -> Described:
    return described(wire_error(flatten, tree, **kwargs))


WRITABLE = "a value is a str, an int, or a non-empty list, tuple or mapping"


@pytest.mark.parametrize(
    ("tree", "want"),
    [
        # None and empty containers: once silently dropped (an empty list, or a None list
        # element, shifted or lost indexes); no pair can carry them (spec/README.md §1.9).
        ({"A": None}, ("bad-pair", "A", f"the value of 'A' is None; {WRITABLE}")),
        ({"A": ["x", None]}, ("bad-pair", "A.1", f"the value of 'A.1' is None; {WRITABLE}")),
        ({"A": []}, ("bad-pair", "A", f"the value of 'A' is an empty list; {WRITABLE}")),
        ({"A": {}}, ("bad-pair", "A", f"the value of 'A' is an empty dict; {WRITABLE}")),
        ({"A": [()]}, ("bad-pair", "A.0", f"the value of 'A.0' is an empty tuple; {WRITABLE}")),
        ({"A": True}, ("bad-pair", "A", f"the value of 'A' is bool; {WRITABLE}")),
        ({"A": [1.5]}, ("bad-pair", "A.0", f"the value of 'A.0' is float; {WRITABLE}")),
        ({"A": {"B": b"x"}}, ("bad-pair", "A.B", f"the value of 'A.B' is bytes; {WRITABLE}")),
        ({"A": {"B": object()}}, ("bad-pair", "A.B", f"the value of 'A.B' is object; {WRITABLE}")),
        ({"A": range(2)}, ("bad-pair", "A", f"the value of 'A' is range; {WRITABLE}")),
        ({"A": [{1: "x"}]}, ("bad-pair", "A.0", "a member name of 'A.0' is int, not str")),
        ({None: "x"}, ("bad-pair", "", "a member name of the tree is NoneType, not str")),
        # Names: the grammar's, checked as unflatten checks a key.
        ({"A": {"b_c": "x"}}, ("bad-key", "A.b_c",
            "the member name 'b_c' in 'A' is not a name ([A-Za-z][A-Za-z0-9]*)")),
        ({"0": "x"}, ("bad-key", "0", "the member name '0' is not a name ([A-Za-z][A-Za-z0-9]*)")),
        ({"A": {"0": "x"}}, ("bad-key", "A.0",
            "the member name '0' in 'A' is not a name ([A-Za-z][A-Za-z0-9]*)")),
        ({"A": {"b.c": "x"}}, ("bad-key", "A.b.c",
            "the member name 'b.c' in 'A' is not a name ([A-Za-z][A-Za-z0-9]*)")),
        ({"": "x"}, ("bad-key", "", "the member name '' is not a name ([A-Za-z][A-Za-z0-9]*)")),
        ({"A\x00": "x"}, ("control-character", "A\x00",
            "the key 'A\\x00' contains a control character (U+0000-U+001F or U+007F)")),
        ({"A\ud800": "x"}, ("bad-utf8", "A\\ud800", "the key 'A\\ud800' is not valid UTF-8")),
        # Leaves: the text checks of unflatten.
        ({"A": "x\ud800"}, ("bad-utf8", "A", "the value of 'A' is not valid UTF-8")),
        ({"A": ["a\tb"]}, ("control-character", "A.0",
            "the value of 'A.0' contains a control character (U+0000-U+001F or U+007F)")),
        ({"A": "v" * 4097}, ("too-large", "A", "the value of 'A' is 4097 characters long; "
            "at most 4096 are allowed (max_value_length)")),
        ({"A": {"B" * 127: "x"}}, ("too-large", "A." + "B" * 126, f"the key 'A.{'B' * 58}'... "
            "is 129 characters long; at most 128 are allowed (max_key_length)")),
        ({"A": [10**5000]}, ("too-large", "A.0", "the value of 'A.0' is at least 5000 "
            "characters long; at most 4096 are allowed (max_value_length)")),
        ({"A": -(10**5000)}, ("too-large", "A", "the value of 'A' is at least 5001 "
            "characters long; at most 4096 are allowed (max_value_length)")),
        # Near the cap, measured exactly.
        ({"A": -(10**4096)}, ("too-large", "A", "the value of 'A' is 4098 "
            "characters long; at most 4096 are allowed (max_value_length)")),
    ],
)  # fmt: skip
def test_flatten_refuses_what_no_pair_can_carry(tree: dict[str, object], want: Any) -> None:
    assert flatten_described(tree) == [want]


def test_flatten_refuses_too_deep_trees_and_cycles() -> None:
    deep: dict[str, object] = {"I": "x"}
    for name in "HGFEDCBA":
        deep = {name: deep}
    message = "'A.B.C.D.E.F.G.H.I' has 9 segments; at most 8 are allowed (max_depth)"
    assert flatten_described(deep) == [("too-deep", "A.B.C.D.E.F.G.H.I", message)]
    # Once flattened fine and then refused by unflatten; now the same verdict from both.
    assert described(wire_error(unflatten, [("A.B.C.D.E.F.G.H.I", "x")])) == [
        ("too-deep", "A.B.C.D.E.F.G.H.I", message)
    ]
    assert flatten(deep, limits=WireLimits(max_depth=9)) == [("A.B.C.D.E.F.G.H.I", "x")]
    cyclic: dict[str, object] = {}
    cyclic["A"] = cyclic
    assert reported(wire_error(flatten, cyclic)) == [("too-deep", "A.A.A.A.A.A.A.A.A")]
    looped: list[object] = []
    looped.append(looped)
    assert reported(wire_error(flatten, {"A": looped}, limits=WireLimits(max_depth=3))) == [
        ("too-deep", "A.0.0.0")
    ]


def test_flatten_refuses_indexes_above_max_index() -> None:
    limits = WireLimits(max_index=2)
    assert flatten({"A": ["a", "b", "c"]}, limits=limits) == [
        ("A.0", "a"), ("A.1", "b"), ("A.2", "c")
    ]  # fmt: skip
    assert flatten_described({"A": ["a", "b", "c"]}, base=1, limits=limits) == [
        ("index-out-of-range", "A.3", "index 3 in 'A.3' is above the maximum 2 (max_index)")
    ]
    assert reported(wire_error(flatten, {"A": [["x"]] * 5}, limits=limits)) == [
        ("index-out-of-range", "A.3"),
        ("index-out-of-range", "A.4"),
    ]


def test_flatten_refuses_more_pairs_than_max_pairs_before_walking_on() -> None:
    assert len(flatten({"A": ["x"] * 512})) == 512
    message = "the tree flattens to more than 512 pairs; at most 512 are allowed (max_pairs)"
    assert flatten_described({"A": ["x"] * 513}) == [("too-large", "", message)]
    # Refused pairs count too, so that a huge tree of bad nodes costs no more.
    assert reported(wire_error(flatten, {"A": [None] * 10**6})) == [("too-large", "")]
    limits = WireLimits(max_pairs=2)
    assert reported(
        wire_error(flatten, {"A": "1", "B": ["2"], "C": {"D": "3"}}, limits=limits)
    ) == [("too-large", "")]
    assert flatten({"A": "1", "B": ["2"]}, limits=limits) == [("A", "1"), ("B.0", "2")]


def test_flatten_applies_the_text_caps_of_its_limits() -> None:
    limits = WireLimits(max_key_length=3, max_value_length=3)
    assert flatten({"A": {"B": "xyz"}, "C": 999, "D": -99}, limits=limits) == [
        ("A.B", "xyz"), ("C", "999"), ("D", "-99")
    ]  # fmt: skip
    tree = {"A": {"BC": "x"}, "C": "wxyz", "D": 1000, "E": -100, "F": 10**10}
    assert flatten_described(tree, limits=limits) == [
        ("too-large", "A.B", "the key 'A.BC' is 4 characters long; "
            "at most 3 are allowed (max_key_length)"),
        ("too-large", "C", "the value of 'C' is 4 characters long; "
            "at most 3 are allowed (max_value_length)"),
        ("too-large", "D", "the value of 'D' is 4 characters long; "
            "at most 3 are allowed (max_value_length)"),
        ("too-large", "E", "the value of 'E' is 4 characters long; "
            "at most 3 are allowed (max_value_length)"),
        ("too-large", "F", "the value of 'F' is at least 10 characters long; "
            "at most 3 are allowed (max_value_length)"),
    ]  # fmt: skip


def test_flatten_measures_integers_far_past_the_cap_from_their_bits() -> None:
    # 1024 has 11 bits, so at least 4 digits: past max_value_length + 1, not converted.
    limits = WireLimits(max_value_length=2)
    assert flatten_described({"A": 1024}, limits=limits) == [
        ("too-large", "A", "the value of 'A' is at least 4 characters long; "
            "at most 2 are allowed (max_value_length)")
    ]  # fmt: skip
    assert flatten_described({"A": 1023}, limits=limits) == [
        ("too-large", "A", "the value of 'A' is 4 characters long; "
            "at most 2 are allowed (max_value_length)")
    ]  # fmt: skip
    assert flatten({"A": 0, "B": 99, "C": -9}, limits=limits) == [
        ("A", "0"),
        ("B", "99"),
        ("C", "-9"),
    ]


def test_flatten_writes_integers_longer_than_python_converts_at_once() -> None:
    # Python's int-to-str conversion refuses past 4,300 digits; a cap above that is honoured.
    limits = WireLimits(max_value_length=6000, max_query_bytes=10_000)
    assert flatten({"A": 10**5000}, limits=limits) == [("A", "1" + "0" * 5000)]
    assert flatten({"A": -(10**5000)}, limits=limits) == [("A", "-1" + "0" * 5000)]


def test_flatten_reports_every_problem_in_tree_order() -> None:
    tree = {"A": None, "B": ["ok", "\x00"], "C": {"d_e": "x", 1: "y"}, "D": "ok", "E": []}
    assert reported(wire_error(flatten, tree)) == [
        ("bad-pair", "A"), ("control-character", "B.1"), ("bad-key", "C.d_e"), ("bad-pair", "C"),
        ("bad-pair", "E"),
    ]  # fmt: skip


@pytest.mark.parametrize("base", [2, -1, True, False, 0.0, "0", None])
def test_flatten_refuses_a_base_other_than_0_or_1(base: object) -> None:
    with pytest.raises(UsageError) as info:
        flatten({"A": "1"}, base=base)  # type: ignore[arg-type]  # hostile on purpose
    assert str(info.value) == f"base must be 0 or 1, not {base!r}"


@pytest.mark.parametrize("tree", [[("A", "1")], "A=1", None, 5])
def test_flatten_refuses_what_is_not_a_mapping(tree: object) -> None:
    assert flatten_described(tree) == [
        ("bad-pair", "", f"a tree is a mapping, not {type(tree).__name__}")
    ]


@pytest.mark.parametrize("control", WIRE_CONTROL_CHARACTERS)
def test_flatten_refuses_every_control_character(control: str) -> None:
    assert reported(wire_error(flatten, {"A": f"a{control}"})) == [("control-character", "A")]


@pytest.mark.parametrize(
    ("pairs", "caps"),
    [
        ([("Filters.0.Name", "image-id"), ("Filters.0.Values.0", "img-1"), ("Limit", "5")], {}),
        ([("A.0", "x"), ("A.2", "y")], {}),
        ([("A.B.C", "x")], {"max_depth": 2}),
        ([("A", "x"), ("A", "y")], {}),
        ([("A.10", "x")], {"max_index": 9}),
    ],
)
def test_unflatten_checked_builds_the_tree_unflatten_builds(
    pairs: list[tuple[str, str]], caps: dict[str, int]
) -> None:
    # The decoder's entry (pairs that passed the text checks already): the same tree, or
    # the same wire problems, under the same caps.
    limits = WireLimits(**caps)
    checked = outcome(lambda given, limits: _tree.unflatten_checked(given, limits), pairs, limits)
    assert checked == outcome(unflatten, pairs, limits)
