"""The dotted-array query-string codec: bytes <-> pairs <-> tree.

Schema-agnostic and pure. The grammar, the limits and every reason name are in
spec/README.md Part 1; the names below follow it.
"""

from __future__ import annotations

import re
from binascii import a2b_qp
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from itertools import islice
from typing import Literal, NoReturn, Union
from urllib.parse import unquote_to_bytes

from ._errors import Violation, WireError, violation

Node = Union[str, "list[Node]", "dict[str, Node]"]
Pairs = list[tuple[str, str]]

# --- Grammar (spec/README.md §1.4) -------------------------------------------------
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
        for field in fields(self):
            value = getattr(self, field.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"WireLimits.{field.name} must be a positive int, not {value!r}")


DEFAULT_LIMITS = WireLimits()


def _q(text: str) -> str:
    """``text`` quoted for a message, cut so that a hostile key cannot bloat it."""
    return repr(text) if len(text) <= 60 else f"{text[:60]!r}..."


def _too_large(path: str, what: str, cap: int, cap_name: str) -> Violation:
    return violation("too-large", path, f"{what}; at most {cap} are allowed ({cap_name})")


# --- bytes/str -> pairs ----------------------------------------------------------------


def parse_query(
    data: str | bytes | bytearray | memoryview, *, limits: WireLimits = DEFAULT_LIMITS
) -> Pairs:
    """Split and percent-decode a query string (or form body) into ordered pairs.

    >>> parse_query("Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE%5FIMAGE")
    [('Filters.1.Name', 'image-type'), ('Filters.1.Values.1', 'PRIVATE_IMAGE')]
    """
    given: object = data  # callers without type checking may pass anything
    cap = limits.max_query_bytes
    if isinstance(given, str):
        # The cap is checked before any work: len() is a lower bound of the UTF-8 size
        # and 4 * len() an upper one, so encoding is needed only between the two.
        size, exact = len(given), given.isascii()
        if not exact and size <= cap < 4 * size:
            size, exact = len(given.encode("utf-8", "surrogatepass")), True
        if size > cap:
            _refuse_size(f"{'' if exact else 'at least '}{size}", cap)
        return _split(given, limits, from_bytes=False)
    if isinstance(given, (bytes, bytearray, memoryview)):
        size = given.nbytes if isinstance(given, memoryview) else len(given)
        if size > cap:
            _refuse_size(str(size), cap)
        # Undecodable bytes become lone surrogates here and are reported, pair by pair,
        # as bad-utf8 in _decode, together with every other problem.
        return _split(bytes(given).decode("utf-8", "surrogateescape"), limits, from_bytes=True)
    raise WireError(
        [violation("bad-pair", "", f"a query is str or bytes, not {type(given).__name__}")]
    )


def _refuse_size(size: str, cap: int) -> NoReturn:
    raise WireError([_too_large("", f"the query is {size} bytes", cap, "max_query_bytes")])


def _split(text: str, limits: WireLimits, from_bytes: bool) -> Pairs:
    segments = [s for s in text.split("&") if s]
    if len(segments) > limits.max_pairs:
        raise WireError(
            [_too_large("", f"the query has {len(segments)} pairs", limits.max_pairs, "max_pairs")]
        )
    errors: list[Violation] = []
    pairs: Pairs = []
    # At most one violation per pair: the first of key decoding, key checks, value
    # decoding, value checks that fails (spec/README.md §1.8).
    for seg in segments:
        raw_key, _, raw_value = seg.partition("=")
        key = _decode(raw_key, None, errors, from_bytes)
        if key is None or not _check_key(key, limits, errors):
            continue
        value = _decode(raw_value, key, errors, from_bytes)
        if value is not None and _check_value(key, value, limits, errors):
            pairs.append((key, value))
    if errors:
        raise WireError(errors)
    return pairs


def _decode(raw: str, key: str | None, out: list[Violation], from_bytes: bool) -> str | None:
    """Percent-decode a key (``key`` is None) or the value of ``key``.

    Returns None, with a violation in ``out``, when it cannot be decoded. A problem in a
    key is reported under the key as sent; one in a value, under its decoded key.
    """
    if key is None:
        path, what = raw, f"the key {_q(raw)}"
    else:
        path, what = key, f"the value of {_q(key)}"
    if not raw.isascii() and not is_utf8(raw):
        # Lone surrogates: undecodable bytes (from_bytes) or a str that is not text.
        if key is None:
            path = _printable(raw, from_bytes)
            shown = repr(raw.encode("utf-8", "surrogateescape"))[1:] if from_bytes else repr(raw)
            what = f"the key {shown if len(shown) <= 62 else shown[:60] + '...'}"
        out.append(violation("bad-utf8", path, f"{what} is not valid UTF-8"))
        return None
    if "%" not in raw:  # the fast path: nothing to unquote
        return raw.replace("+", " ")
    if BAD_PERCENT_RE.search(raw):
        out.append(
            violation(
                "bad-percent-escape",
                path,
                f"{what} has a '%' not followed by two hex digits; write a literal '%' as %25",
            )
        )
        return None
    try:
        return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        out.append(violation("bad-utf8", path, f"{what} does not percent-decode to UTF-8"))
        return None


def is_utf8(text: str) -> bool:
    """Whether ``text`` has no lone surrogate, i.e. is encodable as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(raw: str, from_bytes: bool) -> str:
    """``raw`` with each undecodable byte as ``\\xNN`` (or lone surrogate as ``\\uDNNN``)."""
    if from_bytes:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return raw.encode("utf-8", "backslashreplace").decode("utf-8")


_CONTROL_HELP = "contains a control character (U+0000-U+001F or U+007F)"


def _check_key(key: str, limits: WireLimits, out: list[Violation]) -> bool:
    cap = limits.max_key_length
    if len(key) > cap:
        # The path is cut to the cap: a key too long to accept is too long to echo.
        what = f"the key {_q(key)} is {len(key)} characters long"
        out.append(_too_large(key[:cap], what, cap, "max_key_length"))
        return False
    if CONTROL_RE.search(key):
        out.append(violation("control-character", key, f"the key {_q(key)} {_CONTROL_HELP}"))
        return False
    return True


def _check_value(key: str, value: str, limits: WireLimits, out: list[Violation]) -> bool:
    cap = limits.max_value_length
    if len(value) > cap:
        what = f"the value of {_q(key)} is {len(value)} characters long"
        out.append(_too_large(key, what, cap, "max_value_length"))
        return False
    if CONTROL_RE.search(value):
        out.append(
            violation("control-character", key, f"the value of {_q(key)} {_CONTROL_HELP}")
        )
        return False
    return True


# --- pairs -> tree ----------------------------------------------------------------------


class _Branch:
    """A container node while building: children by segment, and where each began."""

    __slots__ = ("built", "children", "first")

    def __init__(self) -> None:
        self.children: dict[str, _Branch | str] = {}
        # For each child: (position of the first pair under it, that pair's key).
        self.first: dict[str, tuple[int, str]] = {}
        self.built: Node = ""


# A violation with where it ranks: (position of its pair, depth of its path, violation).
_Ranked = tuple[int, int, Violation]


def _segment_problem(seg: str, position: int, key: str, limits: WireLimits) -> Violation | None:
    if NAME_RE.match(seg):
        return None
    if position == 0:
        return violation(
            "bad-key",
            key,
            f"the key {_q(key)} must start with a name ([A-Za-z][A-Za-z0-9]*), not {_q(seg)}",
        )
    if INDEX_RE.match(seg):
        # Count digits before converting: int() of a huge string is slow and may raise.
        if len(seg) > len(str(limits.max_index)) or int(seg) > limits.max_index:
            shown = seg if len(seg) <= 20 else f"{seg[:20]}... ({len(seg)} digits)"
            return violation(
                "index-out-of-range",
                key,
                f"index {shown} in {_q(key)} is above the maximum {limits.max_index} (max_index)",
            )
        return None
    if LEADING_ZERO_RE.match(seg):
        canonical = seg.lstrip("0") or "0"
        if len(canonical) > 20:
            canonical = "its digits without the leading zeros"
        return violation(
            "bad-index",
            key,
            f"index {_q(seg)} in {_q(key)} has a leading zero; write it as {canonical}",
        )
    return violation(
        "bad-key",
        key,
        f"segment {_q(seg)} of {_q(key)} is neither a name ([A-Za-z][A-Za-z0-9]*) "
        "nor an index (0 or [1-9][0-9]*)",
    )


def check_pairs(
    pairs: Iterable[tuple[str, str]], limits: WireLimits, errors: list[Violation]
) -> Pairs:
    """The pairs that pass :func:`parse_query`'s text checks; a violation in ``errors`` for
    each other item, in wire order. More than ``max_pairs`` items raise :class:`WireError`."""
    ranked: list[_Ranked] = []
    good = [(key, value) for _, key, value in _checked(pairs, limits, ranked)]
    errors.extend(v for _, _, v in ranked)
    return good


def _checked(
    pairs: object, limits: WireLimits, ranked: list[_Ranked]
) -> list[tuple[int, str, str]]:
    """Each item that is a (str, str) pair within the caps, with its position."""
    if not isinstance(pairs, Iterable):
        raise WireError(
            [violation("bad-pair", "", f"pairs are iterable, not {type(pairs).__name__}")]
        )
    taken: list[object] = list(islice(pairs, limits.max_pairs + 1))
    if len(taken) > limits.max_pairs:
        what = f"more than {limits.max_pairs} pairs were given"
        raise WireError([_too_large("", what, limits.max_pairs, "max_pairs")])
    good: list[tuple[int, str, str]] = []
    for position, item in enumerate(taken):
        found: list[Violation] = []
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            found.append(
                violation("bad-pair", "", f"a pair is a (str, str) tuple, not {_kind(item)}")
            )
        elif _check_key(item[0], limits, found) and _check_value(item[0], item[1], limits, found):
            good.append((position, item[0], item[1]))
        ranked.extend((position, 0, v) for v in found)
    return good


def _kind(item: object) -> str:
    if isinstance(item, tuple):
        return f"({', '.join(type(part).__name__ for part in item[:3])}{', ...' * (len(item) > 3)})"
    return type(item).__name__


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
    ranked: list[_Ranked] = []
    root = _Branch()
    for position, key, value in _checked(pairs, limits, ranked):
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
            f"{_q(key)} has {depth} segments; at most {limits.max_depth} are allowed (max_depth)",
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
                return violation("duplicate-key", key, f"{_q(key)} is sent more than once")
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
        f"{_q(key)} and {_q(other)} use the same path both as a value and as a container",
    )


def _build(root: _Branch, ranked: list[_Ranked]) -> dict[str, Node]:
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


def _shape(branch: _Branch, path: str, ranked: list[_Ranked]) -> Node:
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
                    f"{_q(path)} has both index and name children ({_q(key)}); "
                    "it must be a list or an object",
                ),
            )
        )
    return built


def _as_list(
    branch: _Branch, path: str, depth: int, built: dict[str, Node], ranked: list[_Ranked]
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
                    f"list {_q(path)} starts at index {start}; a list starts at 0 or 1",
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
                        f"list {_q(path)} has no index {expected} before {index}; "
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
        out.append((path, str.__str__(node)))  # a plain str, even from a str subclass
    elif isinstance(node, int) and not isinstance(node, bool):
        try:
            out.append((path, int.__repr__(node)))  # decimal, even for an IntEnum
        except ValueError as exc:  # more digits than int-to-str conversion allows
            raise ValueError(f"{path!r}: {exc}") from None
    elif isinstance(node, Mapping):
        for name, child in node.items():
            if not isinstance(name, str) or not NAME_RE.match(name):
                where = f" under {path!r}" if path else ""
                raise TypeError(f"key {name!r}{where} is not a name ([A-Za-z][A-Za-z0-9]*)")
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
        [f"{k if safe(k) else quote(k)}={v if safe(v) else quote(v)}" for k, v in pairs]
    )


# --- the plain-query fast path ----------------------------------------------------------------

_CONTROL_BYTES = bytes([*range(0x20), 0x7F])
# Everything but the separators and the controls: what is left of a plain query once
# these are deleted is exactly "=&=&...=" (a control left over means it is not plain).
_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b"&=" and b not in _CONTROL_BYTES)
# One pass over a plain query: both separators become \x01 (no control is left in a plain
# query, so \x01 is free), "+" a space, and "%" the quoted-printable escape "=", so that
# binascii.a2b_qp decodes every %XX in C.
_PLAIN_TABLE = bytes(range(256)).translate(
    bytes.maketrans(b"&=+%", b"\x01\x01 =")
)


def plain_query_flat(data: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> list[str] | None:
    """A *plain* query as one flat list ``[key, value, key, value, ...]``, or None when the
    full parser is needed (see :func:`plain_query_dict`). Keys may repeat here, and their
    length is not checked against ``max_key_length``: :func:`plain_query_dict` does."""
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
    if raw.startswith(b"&") or raw.endswith(b"&") or b"&&" in raw:
        raw = b"&".join([segment for segment in raw.split(b"&") if segment])  # skip empties
    separators = raw.translate(None, _NOT_SEPARATORS)
    count = separators.count(b"=")
    if not count:
        return None if raw else []
    if count > limits.max_pairs or separators != b"=&" * (count - 1) + b"=":
        return None
    plain = raw.translate(_PLAIN_TABLE)
    escapes = raw.count(b"%")
    if escapes:
        decoded = a2b_qp(plain)
        # A valid escape shrinks by exactly 2; a2b_qp leaves a bad one (or drops a
        # trailing "="), so any bad escape shows in the length.
        if len(decoded) != len(plain) - 2 * escapes:
            return None
        # The 2 * count - 1 separators are the only controls allowed: one more was sent
        # as %00-%1F or %7F (and would also break the split below).
        if len(decoded) - len(decoded.translate(None, _CONTROL_BYTES)) != 2 * count - 1:
            return None
        plain = decoded
    try:
        flat = plain.decode("utf-8").split("\x01")
    except UnicodeDecodeError:
        return None
    # Decoded lengths are at most the raw ones; most queries are shorter than the cap.
    # (Key lengths are the caller's: the decoder only takes keys from its short table.)
    if len(raw) > limits.max_value_length and (
        max(map(len, flat[1::2])) > limits.max_value_length
    ):
        return None
    return flat


def plain_query_dict(
    data: str | bytes, limits: WireLimits = DEFAULT_LIMITS
) -> dict[str, str] | None:
    """The pairs of a *plain* query as a dict, or None when the full parser is needed.

    Plain: ASCII without controls, within the caps, separators strictly alternating
    ``key=value&key=value`` (no empty segment, no segment without ``=`` or with two), no
    key twice, every escape valid, valid UTF-8 and no control once decoded. Whatever is
    not plain goes through :func:`parse_query`, which names the problem; so this returns
    exactly what ``dict(parse_query(data))`` would, or None. It uses only whole-string
    operations (translate, split, a2b_qp), never a per-character or per-pair Python loop.
    """
    flat = plain_query_flat(data, limits)
    if flat is None:
        return None
    keys = flat[0::2]
    if keys and max(map(len, keys)) > limits.max_key_length:
        return None
    got = dict(zip(keys, flat[1::2], strict=True))
    return got if 2 * len(got) == len(flat) else None
