"""The dotted-array grammar and the codec's caps, as named data (spec/README.md §1.4, §1.6).

Every stage of the codec (:mod:`._pairs`, :mod:`._tree`, :mod:`._fast`) and the typed
model check text with the functions here, so a key or value gets one verdict whatever
door it came in by. Messages show what they were given with :func:`quoted`, :func:`kind`
and :func:`shown_argument`, which never convert a value in a way that can fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Union

from ._errors import UsageError, Violation, violation

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
CONTROL_BYTES = bytes([*range(0x20), 0x7F])  # the same, as bytes.translate's deletions
# Characters urlencode()/quote_plus() leave alone.
SAFE_RE = re.compile(r"[A-Za-z0-9_.~-]*\Z")


@dataclass(frozen=True)
class WireLimits:
    """Caps on what the codec will look at; each is checked before the work it bounds.

    Each is a positive int; anything else is a :class:`UsageError` (a ``ValueError``).
    """

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
                raise UsageError(
                    f"WireLimits.{field.name} must be a positive int, not {shown_argument(value)}"
                )


DEFAULT_LIMITS = WireLimits()


def quoted(text: str) -> str:
    """``text`` quoted for a message, cut so that a hostile key cannot bloat it."""
    return repr(text) if len(text) <= 60 else f"{text[:60]!r}..."


def kind(value: object) -> str:
    """The type of ``value`` for a message: ``(str, int)`` for a tuple, ``None``, else
    the type's name (``int``)."""
    if isinstance(value, tuple):
        parts = ", ".join(type(part).__name__ for part in value[:4])
        return f"({parts}{', ...' * (len(value) > 4)})"
    return "None" if value is None else type(value).__name__


def shown_argument(value: object) -> str:
    """``value`` for a message about a bad argument: short, and never a conversion that
    can fail (a huge int has no decimal form past Python's 4,300-digit limit)."""
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, (bool, float)):
        return repr(value)
    if isinstance(value, int):
        bits = value.bit_length()
        return repr(value) if bits <= 64 else f"an int of {bits} bits"
    return kind(value)


def too_large(path: str, what: str, cap: int, cap_name: str) -> Violation:
    return violation("too-large", path, f"{what}; at most {cap} are allowed ({cap_name})")


def is_utf8(text: str) -> bool:
    """Whether ``text`` has no lone surrogate, i.e. is encodable as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_control(text: str) -> bool:
    """Whether ``text`` holds a C0 control or DEL (spec/README.md §1.3)."""
    # ASCII text: its bytes with the controls deleted (one pass in C, about 3x faster
    # than isprintable and 10x faster than the regex) are shorter exactly when it has one.
    # Other text: every C0 control and DEL is unprintable, so printable text has none;
    # only unprintable text needs the regex.
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw.translate(None, CONTROL_BYTES)) != len(raw)
    return not text.isprintable() and CONTROL_RE.search(text) is not None


def printable(raw: str, from_bytes: bool) -> str:
    """``raw`` with each undecodable byte as ``\\xNN`` (or lone surrogate as ``\\uDNNN``)."""
    if from_bytes:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return raw.encode("utf-8", "backslashreplace").decode("utf-8")


# --- The text checks (spec/README.md §1.2, §1.3, §1.6) -----------------------------------
# One builder per verdict, used by every door: parse_query (after decoding), pairs handed
# to unflatten or decode_request, and the writers format_query and flatten. Each check
# appends at most one violation and says whether the text passed.

_CONTROL_HELP = "contains a control character (U+0000-U+001F or U+007F)"


def bad_utf8_key(raw: str, from_bytes: bool) -> Violation:
    """``bad-utf8`` for a key that is not UTF-8, named as sent (spec/README.md §1.7)."""
    shown = repr(raw.encode("utf-8", "surrogateescape"))[1:] if from_bytes else repr(raw)
    what = f"the key {shown if len(shown) <= 62 else shown[:60] + '...'}"
    return violation("bad-utf8", printable(raw, from_bytes), f"{what} is not valid UTF-8")


def check_key(key: str, limits: WireLimits, out: list[Violation]) -> bool:
    if not key.isascii() and not is_utf8(key):
        out.append(bad_utf8_key(key, from_bytes=False))
        return False
    cap = limits.max_key_length
    if len(key) > cap:
        # The path is cut to the cap: a key too long to accept is too long to echo.
        what = f"the key {quoted(key)} is {len(key)} characters long"
        out.append(too_large(key[:cap], what, cap, "max_key_length"))
        return False
    if has_control(key):
        out.append(violation("control-character", key, f"the key {quoted(key)} {_CONTROL_HELP}"))
        return False
    return True


def check_value(key: str, value: str, limits: WireLimits, out: list[Violation]) -> bool:
    if not value.isascii() and not is_utf8(value):
        out.append(violation("bad-utf8", key, f"the value of {quoted(key)} is not valid UTF-8"))
        return False
    cap = limits.max_value_length
    if len(value) > cap:
        what = f"the value of {quoted(key)} is {len(value)} characters long"
        out.append(too_large(key, what, cap, "max_value_length"))
        return False
    if has_control(value):
        out.append(
            violation("control-character", key, f"the value of {quoted(key)} {_CONTROL_HELP}")
        )
        return False
    return True
