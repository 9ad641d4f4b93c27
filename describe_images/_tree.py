"""Stage two of the codec: pairs <-> the tree the dotted keys describe.

:func:`unflatten` builds it and reports every problem at once (spec/README.md §1.4,
§1.5, §1.8); :func:`flatten` is its writer, and refuses what it would refuse (§1.9).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Literal, cast

from ._errors import UsageError, Violation, WireError, violation
from ._grammar import (
    DEFAULT_LIMITS,
    INDEX_RE,
    LEADING_ZERO_RE,
    NAME_RE,
    Node,
    Pairs,
    WireLimits,
    check_key,
    check_value,
    quoted,
    too_large,
)
from ._pairs import Ranked, checked_pairs

# --- The key grammar (spec/README.md §1.4) -------------------------------------------------


def _too_deep(key: str, limits: WireLimits) -> Violation:
    return violation(
        "too-deep",
        key,
        f"{quoted(key)} has {key.count('.') + 1} segments; at most {limits.max_depth} are "
        "allowed (max_depth)",
    )


def _out_of_range(seg: str, key: str, limits: WireLimits) -> Violation:
    shown = seg if len(seg) <= 20 else f"{seg[:20]}... ({len(seg)} digits)"
    return violation(
        "index-out-of-range",
        key,
        f"index {shown} in {quoted(key)} is above the maximum {limits.max_index} (max_index)",
    )


def _segment_problem(seg: str, position: int, key: str, limits: WireLimits) -> Violation | None:
    if NAME_RE.match(seg):
        return None
    if position == 0:
        return violation(
            "bad-key",
            key,
            f"the key {quoted(key)} must start with a name ([A-Za-z][A-Za-z0-9]*), "
            f"not {quoted(seg)}",
        )
    if INDEX_RE.match(seg):
        # Count digits before converting: int() of a huge string is slow and may raise.
        if len(seg) > len(str(limits.max_index)) or int(seg) > limits.max_index:
            return _out_of_range(seg, key, limits)
        return None
    if LEADING_ZERO_RE.match(seg):
        canonical = seg.lstrip("0") or "0"
        if len(canonical) > 20:
            canonical = "its digits without the leading zeros"
        return violation(
            "bad-index",
            key,
            f"index {quoted(seg)} in {quoted(key)} has a leading zero; write it as {canonical}",
        )
    return violation(
        "bad-key",
        key,
        f"segment {quoted(seg)} of {quoted(key)} is neither a name ([A-Za-z][A-Za-z0-9]*) "
        "nor an index (0 or [1-9][0-9]*)",
    )


def _plain_key_re(max_index: int) -> re.Pattern[str]:
    """Keys whose every segment is valid and every index has fewer digits than
    ``max_index`` (so is below it): one match decides the common case, and only other keys
    are looked at segment by segment. (``re`` keeps the compiled pattern.)"""
    digits = len(str(max_index))
    index = "0" if digits == 1 else f"0|[1-9][0-9]{{0,{digits - 2}}}"
    name = "[A-Za-z][A-Za-z0-9]*"
    return re.compile(rf"{name}(?:\.(?:{name}|{index}))*\Z")


def _key_problem(key: str, limits: WireLimits, plain: re.Pattern[str]) -> Violation | None:
    if key.count(".") >= limits.max_depth:
        return _too_deep(key, limits)
    if plain.match(key):
        return None
    for i, seg in enumerate(key.split(".")):
        problem = _segment_problem(seg, i, key, limits)
        if problem is not None:
            return problem
    return None


# --- pairs -> tree ---------------------------------------------------------------------------


class _Branch:
    """A node with children while building: its children by segment, and where each
    began. Only a node that two keys part at is a branch; the runs of nodes between
    branches are :class:`_Chain`."""

    __slots__ = ("built", "children", "depth", "first", "index", "odd")
    built: Node  # set when the branch is built, before anything reads it

    def __init__(self, depth: int, index: bool) -> None:
        self.children: dict[str, _Branch | _Chain | Node] = {}  # built children replace their nodes
        # For each child: (position of the first pair under it, that pair's key).
        self.first: dict[str, tuple[int, str]] = {}
        self.depth = depth  # segments in this node's path
        # Whether the first child's segment is an index (segments are valid here, and an
        # index starts with a digit, which sorts before every letter); the first child of
        # the other kind, if any.
        self.index = index
        self.odd: str | None = None

    def add(self, seg: str, child: _Branch | _Chain | str, position: int, key: str) -> None:
        self.children[seg] = child
        self.first[seg] = (position, key)
        if (seg < "A") is not self.index and self.odd is None:
            self.odd = seg

    def path(self) -> str:
        key = self.first[next(iter(self.first))][1]
        return ".".join(key.split(".")[: self.depth])


class _Chain:
    """A run of nodes with one child each: the nodes ``segs[:start]`` to
    ``segs[:end - 1]``, the child of each being the next, and ``below`` (a leaf, or the
    branch ``segs[:end]``) the child of the last.

    Hostile keys are mostly distinct, or share long runs: a run is built at once, far
    cheaper than one branch per node, and is cut where a later key parts from it. The
    first pair under each of its nodes is the pair that made it (``position``, ``key``).
    """

    __slots__ = ("below", "end", "key", "position", "segs", "start")

    def __init__(
        self, segs: list[str], start: int, end: int, below: _Branch | str, position: int, key: str
    ) -> None:
        self.segs = segs
        self.start = start
        self.end = end
        self.below = below
        self.position = position
        self.key = key

    def enter(
        self, parent: _Branch, seg: str, segs: list[str], key: str, branches: list[_Branch]
    ) -> _Branch | Violation:
        """Walk ``key`` (split into ``segs``) down this chain, the child ``seg`` of
        ``parent``: the branch it goes on from, or the conflict it meets."""
        mine = self.segs
        for depth in range(self.start, self.end):
            if depth == len(segs):  # the key's leaf would be one of these nodes
                return _shape_conflict(key, self.key)
            if segs[depth] != mine[depth]:
                return self._cut(parent, seg, depth, branches)
        below = self.below
        if len(segs) == self.end:
            if isinstance(below, str):
                return violation("duplicate-key", key, f"{quoted(key)} is sent more than once")
            return _shape_conflict(key, self.key)
        if isinstance(below, str):
            return _shape_conflict(key, self.key)
        return below

    def _cut(self, parent: _Branch, seg: str, depth: int, branches: list[_Branch]) -> _Branch:
        """Make the node at ``depth`` a branch, for a key that parts from the chain there."""
        child = self.segs[depth]
        branch = _Branch(depth, child < "A")
        lower: _Branch | _Chain | str = self.below
        if depth + 1 < self.end:
            lower = _Chain(self.segs, depth + 1, self.end, self.below, self.position, self.key)
        branch.add(child, lower, self.position, self.key)
        if depth == self.start:
            parent.children[seg] = branch
        else:
            self.end, self.below = depth, branch
        branches.append(branch)
        return branch

    def build(self, ranked: list[Ranked]) -> Node:
        """The nodes of this chain, from the innermost out (spec/README.md §1.5)."""
        segs = self.segs
        below = self.below
        node = below if isinstance(below, str) else below.built
        for depth in range(self.end - 1, self.start - 1, -1):
            seg = segs[depth]
            if seg >= "A":
                node = {seg: node}
            elif seg in ("0", "1"):
                node = [node]
            else:  # a list of one element, at index 2 or above (no tree is returned)
                problem = _bad_index_start(".".join(segs[:depth]), seg)
                ranked.append((self.position, depth, problem))
        return node


def unflatten(
    pairs: Iterable[tuple[str, str]], *, limits: WireLimits = DEFAULT_LIMITS
) -> dict[str, Node]:
    """Build the tree the dotted keys describe; every problem is reported at once.

    >>> unflatten([("Filters.1.Name", "image-type"), ("Filters.1.Values.1", "PRIVATE_IMAGE")])
    {'Filters': [{'Name': 'image-type', 'Values': ['PRIVATE_IMAGE']}]}
    """
    # Each violation is ranked by the position of the pair it concerns (then by the depth
    # of its path), so the report reads in wire order whichever pass found it
    # (spec/README.md §1.8).
    ranked: list[Ranked] = []
    return _unflatten(checked_pairs(pairs, limits, ranked), limits, ranked)


def unflatten_checked(pairs: Pairs, limits: WireLimits) -> dict[str, Node]:
    """:func:`unflatten` of pairs that already passed the text checks (what
    :func:`._pairs.parse_query` and :func:`._pairs.check_pairs` return): not checked again.

    >>> unflatten_checked([("ImageIds.0", "img-pmqg1cw7")], DEFAULT_LIMITS)
    {'ImageIds': ['img-pmqg1cw7']}
    """
    return _unflatten([(i, k, v) for i, (k, v) in enumerate(pairs)], limits, [])


def _unflatten(
    checked: list[tuple[int, str, str]], limits: WireLimits, ranked: list[Ranked]
) -> dict[str, Node]:
    root = _Branch(0, False)
    branches = [root]
    plain = _plain_key_re(limits.max_index)
    for position, key, value in checked:
        problem = _key_problem(key, limits, plain)
        if problem is None:
            problem = _insert(root, branches, key, value, position)
        if problem is not None:
            ranked.append((position, 0, problem))
    # Deepest first, so that every branch is built after the branches below it, without
    # recursion (no depth a caller allows can exhaust the stack).
    branches.sort(key=_depth, reverse=True)
    for branch in branches:
        branch.built = _shape(branch, ranked)
    if ranked:
        ranked.sort(key=lambda item: item[:2])
        raise WireError(v for _, _, v in ranked)
    return cast(dict[str, Node], root.built)


def _depth(branch: _Branch) -> int:
    return branch.depth


def _insert(
    root: _Branch, branches: list[_Branch], key: str, value: str, position: int
) -> Violation | None:
    # Nothing is created before a conflict is found: a conflict is met while walking
    # existing nodes, and once the key parts from them everything below is new.
    segs = key.split(".")
    last = len(segs) - 1
    node, depth = root, 0
    while True:
        seg = segs[depth]
        child = node.children.get(seg)
        if child is None:  # new from here on: the leaf, or a chain down to it
            below = (
                value if depth == last else _Chain(segs, depth + 1, len(segs), value, position, key)
            )
            node.add(seg, below, position, key)
            return None
        if depth == last:
            if isinstance(child, str):
                return violation("duplicate-key", key, f"{quoted(key)} is sent more than once")
            return _shape_conflict(key, node.first[seg][1])
        if isinstance(child, _Chain):
            found = child.enter(node, seg, segs, key, branches)
            if isinstance(found, Violation):
                return found
            child = found
        if not isinstance(child, _Branch):  # a leaf where the key needs a node
            return _shape_conflict(key, node.first[seg][1])
        node, depth = child, child.depth


def _shape_conflict(key: str, other: str) -> Violation:
    return violation(
        "shape-conflict",
        key,
        f"{quoted(key)} and {quoted(other)} use the same path both as a value and as a container",
    )


def _shape(branch: _Branch, ranked: list[Ranked]) -> Node:
    """A branch, its children built, as a list (all indexes) or an object (all names)."""
    children = branch.children
    for seg, child in children.items():
        if isinstance(child, _Chain):
            children[seg] = child.build(ranked)
        elif isinstance(child, _Branch):
            children[seg] = child.built
    if branch.odd is not None:
        _mixed(branch, branch.odd, ranked)
        return []
    if branch.index:
        return _as_list(branch, ranked)
    return cast(dict[str, Node], children)


def _mixed(branch: _Branch, odd: str, ranked: list[Ranked]) -> None:
    position, key = branch.first[odd]
    ranked.append(
        (
            position,
            branch.depth,
            violation(
                "shape-conflict",
                key,
                f"{quoted(branch.path())} has both index and name children ({quoted(key)}); "
                "it must be a list or an object",
            ),
        )
    )


def _as_list(branch: _Branch, ranked: list[Ranked]) -> Node:
    """A branch all of whose children are indexes, as a list (spec/README.md §1.5)."""
    # A branch has two children at least: where a single pair goes on, it is a chain.
    children = cast(dict[str, Node], branch.children)
    segs = sorted(children, key=int)
    start = int(segs[0])
    # Distinct indexes from start to the highest one are consecutive iff there are exactly
    # as many as the span; the base is 0 or 1.
    if start <= 1 and int(segs[-1]) - start == len(segs) - 1:
        return [children[seg] for seg in segs]
    path = branch.path()
    if start > 1:
        index, problem = start, _bad_index_start(path, segs[0])
    else:
        index, expected = next((int(seg), i) for i, seg in enumerate(segs, start) if int(seg) != i)
        problem = violation(
            "index-gap",
            f"{path}.{index}",
            f"list {quoted(path)} has no index {expected} before {index}; "
            "indexes must be consecutive",
        )
    ranked.append((branch.first[str(index)][0], branch.depth, problem))
    return []


def _bad_index_start(path: str, seg: str) -> Violation:
    return violation(
        "bad-index-start",
        f"{path}.{seg}",
        f"list {quoted(path)} starts at index {seg}; a list starts at 0 or 1",
    )


# --- tree -> pairs ---------------------------------------------------------------------------

_NAME = "([A-Za-z][A-Za-z0-9]*)"

# An open container while flattening: its key, the depth of its children, whether it is a
# mapping (else a list), and its children as (name or index, node).
_Frame = tuple[str, int, bool, Iterator[tuple[object, object]]]


def flatten(
    tree: Mapping[str, object],
    *,
    base: Literal[0, 1] = 0,
    limits: WireLimits = DEFAULT_LIMITS,
) -> Pairs:
    """The inverse of :func:`unflatten`: lists are indexed from ``base``.

    Refuses, with :class:`WireError`, every tree whose pairs ``unflatten`` (with the same
    ``limits``) would refuse or could not give back (spec/README.md §1.9).

    >>> flatten({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]})
    [('Filters.0.Name', 'image-type'), ('Filters.0.Values.0', 'PRIVATE_IMAGE')]
    """
    given_base: object = base  # callers without type checking may pass anything
    if type(given_base) is not int or given_base not in (0, 1):  # not a bool, nor a float
        raise UsageError(f"base must be 0 or 1, not {given_base!r}")
    given: object = tree
    if not isinstance(given, Mapping):
        raise WireError(
            [violation("bad-pair", "", f"a tree is a mapping, not {type(given).__name__}")]
        )
    out: Pairs = []
    problems: list[Violation] = []
    # Depth-first, in member and element order, without recursion.
    stack: list[_Frame] = [("", 1, True, iter(given.items()))]
    while stack:
        path, depth, named, children = stack[-1]
        item = next(children, None)
        if item is None:
            stack.pop()
            continue
        if len(out) + len(problems) == limits.max_pairs:
            # Every node left gives at least one pair: refused before walking further.
            what = f"the tree flattens to more than {limits.max_pairs} pairs"
            raise WireError([too_large("", what, limits.max_pairs, "max_pairs")])
        seg, node = item
        if not named:
            key = f"{path}.{seg}"
        elif isinstance(seg, str):
            seg = str.__str__(seg)  # a plain str, even from a str subclass
            key = f"{path}.{seg}" if path else seg
        else:
            where = quoted(path) if path else "the tree"
            message = f"a member name of {where} is {type(seg).__name__}, not str"
            problems.append(violation("bad-pair", path, message))
            continue
        # The checks in unflatten's order for a pair (spec/README.md §1.8): the key's
        # text, the value, the depth, then the segment.
        if not check_key(key, limits, problems):
            continue
        found = _node(key, node, base, limits, problems)
        if found is None:
            continue
        # Here a list's segment is an int, an object's a str.
        if depth > limits.max_depth:
            problems.append(_too_deep(key, limits))
        elif isinstance(seg, int) and seg > limits.max_index:
            problems.append(_out_of_range(str(seg), key, limits))
        elif isinstance(seg, str) and not NAME_RE.match(seg):
            where = f" in {quoted(path)}" if path else ""
            message = f"the member name {quoted(seg)}{where} is not a name {_NAME}"
            problems.append(violation("bad-key", key, message))
        elif isinstance(found, str):
            out.append((key, found))
        else:
            stack.append((key, depth + 1, *found))
    if problems:
        raise WireError(problems)
    return out


def _node(
    key: str, node: object, base: int, limits: WireLimits, problems: list[Violation]
) -> str | tuple[bool, Iterator[tuple[object, object]]] | None:
    """A leaf's text, or a container's kind (mapping or not) and children; None, with a
    violation in ``problems``, for a node that cannot be written."""
    if isinstance(node, str):
        text: str | None = str.__str__(node)  # a plain str, even from a str subclass
    elif isinstance(node, int) and not isinstance(node, bool):
        text = _decimal(key, node, limits, problems)
    elif isinstance(node, Mapping) and node:
        return True, iter(node.items())
    elif isinstance(node, (list, tuple)) and node:
        return False, enumerate(node, base)
    else:
        problems.append(_unwritable(key, node))
        return None
    if text is None or not check_value(key, text, limits, problems):
        return None
    return text


def _unwritable(key: str, node: object) -> Violation:
    what = type(node).__name__
    if node is None:
        what = "None"
    elif isinstance(node, (Mapping, list, tuple)):
        what = f"an empty {what}"  # the wire cannot say "empty": nothing would be sent
    return violation(
        "bad-pair",
        key,
        f"the value of {quoted(key)} is {what}; a value is a str, an int, "
        "or a non-empty list, tuple or mapping",
    )


# A lower bound of log10(2) as a fraction, so that digits are never overestimated.
_LOG10_2_LOWER = 30_102_999_566
_LOG10_2_SCALE = 100_000_000_000


def _decimal(key: str, number: int, limits: WireLimits, problems: list[Violation]) -> str | None:
    """``number`` in decimal (even for an IntEnum), unless it is too long to send."""
    # Its length is bounded below from its bit length, within one digit, before any
    # conversion: converting a huge integer is slow, and Python refuses past 4,300 digits
    # (spec/README.md §1.9). Only near the cap is the length worth measuring exactly.
    bits = abs(number).bit_length()
    at_least = (bits - 1) * _LOG10_2_LOWER // _LOG10_2_SCALE + 1 + (number < 0)
    cap = limits.max_value_length
    if at_least > cap + 1:
        what = f"the value of {quoted(key)} is at least {at_least} characters long"
        problems.append(too_large(key, what, cap, "max_value_length"))
        return None
    try:
        return int.__repr__(number)
    except ValueError:  # more digits than int-to-str conversion allows (a cap above 4,300)
        return str(Decimal(number))
