"""The straightforward unflatten (one branch per node, built by a second walk), as it was
before the codec was optimised for hostile input: an oracle for tests/test_tree.py, which
checks that the optimised ``describe_images._tree.unflatten`` gives the same tree, or the
same violations (reasons, paths, messages, order), for every input.

The text checks (``checked_pairs``) and the violation builders are shared with the
codec; only the building of the tree is kept here as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from describe_images._errors import Violation, WireError, violation
from describe_images._grammar import (
    DEFAULT_LIMITS,
    INDEX_RE,
    LEADING_ZERO_RE,
    NAME_RE,
    Node,
    WireLimits,
    quoted,
)
from describe_images._pairs import Ranked, checked_pairs


class _Branch:
    """A container node while building: children by segment, and where each began."""

    __slots__ = ("built", "children", "first")

    def __init__(self) -> None:
        self.children: dict[str, _Branch | str] = {}
        # For each child: (position of the first pair under it, that pair's key).
        self.first: dict[str, tuple[int, str]] = {}
        self.built: Node = ""


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
            shown = seg if len(seg) <= 20 else f"{seg[:20]}... ({len(seg)} digits)"
            return violation(
                "index-out-of-range",
                key,
                f"index {shown} in {quoted(key)} is above the maximum {limits.max_index} "
                "(max_index)",
            )
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
    root = _Branch()
    for position, key, value in checked_pairs(pairs, limits, ranked):
        problem = _key_problem(key, limits)
        if problem is None:
            problem = _insert(root, key.split("."), key, value, position)
        if problem is not None:
            ranked.append((position, 0, problem))
    tree = _build(root, ranked)
    if ranked:
        ranked.sort(key=lambda item: item[:2])
        raise WireError(v for _, _, v in ranked)
    return tree


def _key_problem(key: str, limits: WireLimits) -> Violation | None:
    depth = key.count(".") + 1
    if depth > limits.max_depth:
        return violation(
            "too-deep",
            key,
            f"{quoted(key)} has {depth} segments; at most {limits.max_depth} are allowed "
            "(max_depth)",
        )
    for i, seg in enumerate(key.split(".")):
        problem = _segment_problem(seg, i, key, limits)
        if problem is not None:
            return problem
    return None


def _insert(
    root: _Branch, segs: list[str], key: str, value: str, position: int
) -> Violation | None:
    # Nothing is created before a conflict is found: a conflict is met while walking
    # existing nodes, and once a node is created every later one is new too.
    node = root
    last = len(segs) - 1
    for i, seg in enumerate(segs):
        child = node.children.get(seg)
        if i == last:
            if child is None:
                node.children[seg] = value
                node.first[seg] = (position, key)
                return None
            if isinstance(child, str):
                return violation("duplicate-key", key, f"{quoted(key)} is sent more than once")
            return _shape_conflict(key, node.first[seg][1])
        if child is None:
            child = node.children[seg] = _Branch()
            node.first[seg] = (position, key)
        elif isinstance(child, str):
            return _shape_conflict(key, node.first[seg][1])
        node = child
    raise AssertionError("unreachable: a key has at least one segment")


def _shape_conflict(key: str, other: str) -> Violation:
    return violation(
        "shape-conflict",
        key,
        f"{quoted(key)} and {quoted(other)} use the same path both as a value and as a container",
    )


def _build(root: _Branch, ranked: list[Ranked]) -> dict[str, Node]:
    # Iterative, so that no depth a caller allows can exhaust the stack: branches in
    # pre-order, built in reverse, so every child is built before its parent.
    order: list[tuple[_Branch, str]] = []
    stack = [(root, "")]
    while stack:
        branch, path = stack.pop()
        order.append((branch, path))
        dot = f"{path}." if path else ""
        stack.extend(
            (child, dot + seg)
            for seg, child in branch.children.items()
            if isinstance(child, _Branch)
        )
    for branch, path in reversed(order[1:]):
        branch.built = _shape(branch, path, ranked)
    return {
        seg: child if isinstance(child, str) else child.built
        for seg, child in root.children.items()
    }


def _shape(branch: _Branch, path: str, ranked: list[Ranked]) -> Node:
    """A branch as a list (all children indexes) or a dict (all names)."""
    children = branch.children
    built = {
        seg: child if isinstance(child, str) else child.built for seg, child in children.items()
    }
    depth = path.count(".") + 1
    kinds = [seg[0].isdigit() for seg in children]
    if all(kinds):
        return _as_list(branch, path, depth, built, ranked)
    if any(kinds):
        odd = next(seg for seg in children if seg[0].isdigit() != kinds[0])
        position, key = branch.first[odd]
        ranked.append(
            (
                position,
                depth,
                violation(
                    "shape-conflict",
                    key,
                    f"{quoted(path)} has both index and name children ({quoted(key)}); "
                    "it must be a list or an object",
                ),
            )
        )
    return built


def _as_list(
    branch: _Branch, path: str, depth: int, built: dict[str, Node], ranked: list[Ranked]
) -> Node:
    indexes = sorted(int(seg) for seg in built)
    start = indexes[0]
    if start > 1:
        ranked.append(
            (
                branch.first[str(start)][0],
                depth,
                violation(
                    "bad-index-start",
                    f"{path}.{start}",
                    f"list {quoted(path)} starts at index {start}; a list starts at 0 or 1",
                ),
            )
        )
        return []
    for expected, index in enumerate(indexes, start):
        if index != expected:
            ranked.append(
                (
                    branch.first[str(index)][0],
                    depth,
                    violation(
                        "index-gap",
                        f"{path}.{index}",
                        f"list {quoted(path)} has no index {expected} before {index}; "
                        "indexes must be consecutive",
                    ),
                )
            )
            return []
    return [built[str(i)] for i in indexes]
