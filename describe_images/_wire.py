"""The dotted-array query-string codec: bytes <-> pairs <-> tree.

Schema-agnostic and pure. The grammar, the limits and every reason name are in
spec/README.md §Wire; the names below follow it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Literal, Union
from urllib.parse import unquote_to_bytes

from ._errors import Violation, WireError, wire_violation

Node = Union[str, "list[Node]", "dict[str, Node]"]
Pairs = list[tuple[str, str]]

# --- Grammar (spec/README.md §Keys) -------------------------------------------------
# key     = name *( "." segment )
# segment = name / index
# name    = ALPHA *( ALPHA / DIGIT )          ; ASCII only
# index   = "0" / ( %x31-39 *DIGIT )          ; canonical decimal, ASCII only
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
INDEX_RE = re.compile(r"(?:0|[1-9][0-9]*)\Z")
# Digits with a leading zero ("01", "00"): an index, but not a canonical one.
LEADING_ZERO_RE = re.compile(r"0[0-9]+\Z")
# %XX must be followed by two hex digits; anything else is not a literal "%".
BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# C0 controls and DEL have no business in this API and poison logs.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Characters urlencode()/quote_plus() leave alone.
SAFE_RE = re.compile(r"[A-Za-z0-9_.~-]*\Z")


@dataclass(frozen=True)
class WireLimits:
    """Caps on what the codec will look at; each is checked before the work it bounds."""

    max_query_bytes: int = 65_536
    max_pairs: int = 512
    max_key_length: int = 128
    max_value_length: int = 4_096
    max_depth: int = 8
    max_index: int = 9_999

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"WireLimits.{name} must be a positive int, not {value!r}")


DEFAULT_LIMITS = WireLimits()


def _too_large(what: str, key: str, size: int, cap: int, unit: str) -> Violation:
    return wire_violation("too-large", key, f"{what} is {size} {unit}; at most {cap} are allowed")


# --- bytes/str -> pairs ----------------------------------------------------------------


def _show(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _decode_component(raw: str, key: str, out: list[Violation]) -> str | None:
    """Percent-decode one key or value; None (with a violation) when it cannot be."""
    if "%" not in raw:
        return raw.replace("+", " ")
    if BAD_PERCENT_RE.search(raw):
        out.append(
            wire_violation(
                "bad-percent-escape",
                key,
                f"{key!r} has a '%' not followed by two hex digits; write a literal '%' as %25",
            )
        )
        return None
    try:
        return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeError:
        out.append(
            wire_violation("bad-utf8", key, f"{key!r} does not percent-decode to valid UTF-8")
        )
        return None


def _check_text(text: str, what: str, key: str, cap: int, out: list[Violation]) -> bool:
    if len(text) > cap:
        out.append(_too_large(f"the {what} {key[:40]!r}", key[:cap], len(text), cap, "chars"))
        return False
    if CONTROL_RE.search(text):
        out.append(
            wire_violation(
                "control-character",
                key,
                f"the {what} of {key!r} contains a control character (U+0000-U+001F, U+007F)",
            )
        )
        return False
    return True


def parse_query(data: str | bytes, *, limits: WireLimits = DEFAULT_LIMITS) -> Pairs:
    """Split and percent-decode a query string (or form body) into ordered pairs.

    >>> parse_query("Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE%5FIMAGE")
    [('Filters.1.Name', 'image-type'), ('Filters.1.Values.1', 'PRIVATE_IMAGE')]
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > limits.max_query_bytes:
            raise WireError(
                [_too_large("the query", "", len(raw), limits.max_query_bytes, "bytes")]
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError(
                wire_violation("bad-utf8", _show(seg), f"{_show(seg)!r} is not valid UTF-8")
                for seg in raw.split(b"&")
                if not _is_utf8(seg)
            ) from None
    elif isinstance(data, str):
        text = data
        if len(text) > limits.max_query_bytes or (
            not text.isascii()
            and len(text.encode("utf-8", "surrogatepass")) > limits.max_query_bytes
        ):
            size = len(text.encode("utf-8", "surrogatepass"))
            raise WireError([_too_large("the query", "", size, limits.max_query_bytes, "bytes")])
    else:
        raise WireError(
            [wire_violation("bad-pair", "", f"a query is str or bytes, not {type(data).__name__}")]
        )
    return _split(text, limits)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _split(text: str, limits: WireLimits) -> Pairs:
    segments = [s for s in text.split("&") if s]
    if len(segments) > limits.max_pairs:
        raise WireError(
            [_too_large("the query", "", len(segments), limits.max_pairs, "pairs")]
        )
    # A surrogate can only come from a str caller; it is not UTF-8 on any wire.
    if not text.isascii() and not _is_encodable(text):
        raise WireError(
            wire_violation("bad-utf8", seg, f"{seg!r} is not valid UTF-8 (lone surrogate)")
            for seg in segments
            if not _is_encodable(seg)
        )
    errors: list[Violation] = []
    pairs: Pairs = []
    max_key, max_value = limits.max_key_length, limits.max_value_length
    for seg in segments:
        raw_key, _, raw_value = seg.partition("=")
        key = _decode_component(raw_key, raw_key, errors)
        if key is None:
            continue
        value = _decode_component(raw_value, key, errors)
        if value is None:
            continue
        if _check_text(key, "key", key, max_key, errors) and _check_text(
            value, "value", key, max_value, errors
        ):
            pairs.append((key, value))
    if errors:
        raise WireError(errors)
    return pairs


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- pairs -> tree ----------------------------------------------------------------------


class _Branch:
    """A container node while building: children by segment, and where each began."""

    __slots__ = ("children", "first")

    def __init__(self) -> None:
        self.children: dict[str, _Branch | str] = {}
        # For each child: (position of the first pair under it, that pair's key).
        self.first: dict[str, tuple[int, str]] = {}


def _segment_problem(seg: str, position: int, key: str, limits: WireLimits) -> Violation | None:
    if NAME_RE.match(seg):
        return None
    if position == 0:
        return wire_violation(
            "bad-key", key, f"{key!r}: a key starts with a name ([A-Za-z][A-Za-z0-9]*)"
        )
    if INDEX_RE.match(seg):
        # Count digits before converting: int() of a huge string is slow and may raise.
        if len(seg) > len(str(limits.max_index)) or int(seg) > limits.max_index:
            shown = seg if len(seg) <= 20 else f"{seg[:20]}... ({len(seg)} digits)"
            return wire_violation(
                "index-out-of-range",
                key[:200],
                f"index {shown} in {key[:200]!r} is above the maximum {limits.max_index}",
            )
        return None
    if LEADING_ZERO_RE.match(seg):
        return wire_violation(
            "bad-index", key, f"index {seg!r} in {key!r} has a leading zero; write it as {int(seg)}"
        )
    return wire_violation(
        "bad-key",
        key,
        f"segment {seg!r} of {key!r} is neither a name ([A-Za-z][A-Za-z0-9]*) "
        "nor an index (0 or [1-9][0-9]*)",
    )


def _iter_pairs(
    pairs: Iterable[tuple[str, str]], limits: WireLimits, errors: list[Violation]
) -> list[tuple[str, str]]:
    taken = list(islice(pairs, limits.max_pairs + 1))
    if len(taken) > limits.max_pairs:
        raise WireError(
            [_too_large("the query", "", len(taken), limits.max_pairs, "pairs (or more)")]
        )
    good: list[tuple[str, str]] = []
    for item in taken:
        if (
            not isinstance(item, tuple)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], str)
        ):
            errors.append(
                wire_violation("bad-pair", "", f"a pair is a (str, str) tuple, not {item!r:.60}")
            )
            continue
        key, value = item
        if _check_text(key, "key", key, limits.max_key_length, errors) and _check_text(
            value, "value", key, limits.max_value_length, errors
        ):
            good.append(item)
    return good


def unflatten(
    pairs: Iterable[tuple[str, str]], *, limits: WireLimits = DEFAULT_LIMITS
) -> dict[str, Node]:
    """Build the tree the dotted keys describe; every problem is reported at once.

    >>> unflatten([("Filters.1.Name", "image-type"), ("Filters.1.Values.1", "PRIVATE_IMAGE")])
    {'Filters': [{'Name': 'image-type', 'Values': ['PRIVATE_IMAGE']}]}
    """
    # Each violation is ranked by the position of the pair it concerns, so the report
    # reads in wire order whichever pass found it (spec/README.md §Error order).
    ranked: list[tuple[int, Violation]] = []
    early: list[Violation] = []
    root = _Branch()
    for position, (key, value) in enumerate(_iter_pairs(pairs, limits, early)):
        if key.count(".") >= limits.max_depth:
            ranked.append(
                (
                    position,
                    wire_violation(
                        "too-deep",
                        key,
                        f"{key!r} has {key.count('.') + 1} segments; "
                        f"at most {limits.max_depth} are allowed",
                    ),
                )
            )
            continue
        segs = key.split(".")
        problem = None
        for i, seg in enumerate(segs):
            problem = _segment_problem(seg, i, key, limits)
            if problem is not None:
                break
        if problem is not None:
            ranked.append((position, problem))
            continue
        conflict = _insert(root, segs, key, value, position)
        if conflict is not None:
            ranked.append((position, conflict))
    tree = _build(root, "", ranked)
    if early or ranked:
        ranked.sort(key=lambda item: item[0])
        raise WireError([*early, *(v for _, v in ranked)])
    assert isinstance(tree, dict)
    return tree


def _insert(root: _Branch, segs: list[str], key: str, value: str, position: int) -> Violation | None:
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
                return wire_violation("duplicate-key", key, f"{key!r} is sent more than once")
            return _shape_conflict(key, node.first[seg][1])
        if child is None:
            child = node.children[seg] = _Branch()
            node.first[seg] = (position, key)
        elif isinstance(child, str):
            return _shape_conflict(key, node.first[seg][1])
        node = child
    raise AssertionError("unreachable: a key has at least one segment")


def _shape_conflict(key: str, other: str) -> Violation:
    return wire_violation(
        "shape-conflict",
        key,
        f"{key!r} and {other!r} use the same path both as a value and as a container",
    )


def _build(branch: _Branch, prefix: str, ranked: list[tuple[int, Violation]]) -> Node:
    children = branch.children
    dot = f"{prefix}." if prefix else ""
    built = {
        seg: child if isinstance(child, str) else _build(child, dot + seg, ranked)
        for seg, child in children.items()
    }
    if not prefix:  # the root is always a mapping of names (its segments are names)
        return built
    segs = list(children)
    kinds = [seg[0].isdigit() for seg in segs]
    if all(kinds):
        return _as_list(branch, prefix, built, ranked)
    if any(kinds):
        first_kind = kinds[0]
        odd = next(seg for seg, kind in zip(segs, kinds) if kind != first_kind)
        position, key = branch.first[odd]
        ranked.append(
            (
                position,
                wire_violation(
                    "shape-conflict",
                    key,
                    f"{prefix!r} has both index and name children ({key!r}); "
                    "it must be a list or an object",
                ),
            )
        )
    return built


def _as_list(
    branch: _Branch, prefix: str, built: dict[str, Node], ranked: list[tuple[int, Violation]]
) -> Node:
    indexes = sorted(int(seg) for seg in built)
    start = indexes[0]
    if start > 1:
        position, _ = branch.first[str(start)]
        ranked.append(
            (
                position,
                wire_violation(
                    "bad-index-start",
                    f"{prefix}.{start}",
                    f"list {prefix!r} starts at index {start}; a list starts at 0 or 1",
                ),
            )
        )
        return []
    for expected, index in enumerate(indexes, start):
        if index != expected:
            position, _ = branch.first[str(index)]
            ranked.append(
                (
                    position,
                    wire_violation(
                        "index-gap",
                        f"{prefix}.{index}",
                        f"list {prefix!r} has no index {expected} before {index}; "
                        "indexes must be consecutive",
                    ),
                )
            )
            return []
    return [built[str(i)] for i in indexes]


# --- tree -> pairs -> str ------------------------------------------------------------------

_MAX_FLATTEN_DEPTH = 64


def flatten(tree: Mapping[str, object], *, base: Literal[0, 1] = 0) -> Pairs:
    """The inverse of :func:`unflatten`: lists are indexed from ``base``.

    >>> flatten({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]})
    [('Filters.0.Name', 'image-type'), ('Filters.0.Values.0', 'PRIVATE_IMAGE')]
    """
    if base not in (0, 1) or isinstance(base, bool):
        raise ValueError(f"base must be 0 or 1, not {base!r}")
    if not isinstance(tree, Mapping):
        raise TypeError(f"the tree must be a mapping, not {type(tree).__name__}")
    out: Pairs = []
    _flatten_into(out, "", tree, base, 0)
    return out


def _flatten_into(out: Pairs, path: str, node: object, base: int, depth: int) -> None:
    if depth > _MAX_FLATTEN_DEPTH:
        raise TypeError(f"{path!r}: nested deeper than {_MAX_FLATTEN_DEPTH} (or cyclic)")
    if node is None:
        return
    if isinstance(node, str):
        out.append((path, node))
    elif isinstance(node, int) and not isinstance(node, bool):
        out.append((path, str(node)))
    elif isinstance(node, Mapping):
        for name, child in node.items():
            if not isinstance(name, str) or not NAME_RE.match(name):
                where = f" under {path!r}" if path else ""
                raise TypeError(
                    f"key {name!r}{where} is not a name ([A-Za-z][A-Za-z0-9]*)"
                )
            _flatten_into(out, f"{path}.{name}" if path else name, child, base, depth + 1)
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node, base):
            _flatten_into(out, f"{path}.{i}", child, base, depth + 1)
    else:
        raise TypeError(
            f"{path!r}: a value must be str, int, list, tuple, dict or None, "
            f"not {type(node).__name__}"
        )


def _quote_table() -> tuple[str, ...]:
    table = []
    for byte in range(256):
        char = chr(byte)
        if byte < 128 and SAFE_RE.match(char):
            table.append(char)
        elif char == " ":
            table.append("+")
        else:
            table.append(f"%{byte:02X}")
    return tuple(table)


_QUOTE = _quote_table()


def quote(text: str) -> str:
    """``urllib.parse.quote_plus(text, safe="")``, byte for byte, faster when nothing escapes."""
    if SAFE_RE.match(text):
        return text
    return "".join([_QUOTE[b] for b in text.encode("utf-8")])


def format_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Percent-encode pairs exactly as ``urllib.parse.urlencode(pairs)`` does.

    >>> format_query([("Filters.0.Values.0", "Ubuntu 22.04/x86")])
    'Filters.0.Values.0=Ubuntu+22.04%2Fx86'
    """
    safe = SAFE_RE.match
    return "&".join(
        [
            f"{k if safe(k) else quote(k)}={v if safe(v) else quote(v)}"
            for k, v in pairs
        ]
    )
