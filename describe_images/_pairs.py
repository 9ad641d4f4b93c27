"""Stage one of the codec: bytes or text <-> ordered (key, value) pairs.

:func:`parse_query` splits and percent-decodes (spec/README.md §1.1-§1.3);
:func:`format_query` is its writer, byte for byte what ``urlencode`` gives (§1.9).
"""

from __future__ import annotations

from binascii import a2b_qp
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import NoReturn

from ._errors import Violation, WireError, violation
from ._grammar import (
    BAD_PERCENT_RE,
    DEFAULT_LIMITS,
    SAFE_RE,
    Pairs,
    WireLimits,
    bad_utf8_key,
    check_key,
    check_value,
    is_utf8,
    quoted,
    too_large,
)


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
    raise WireError([too_large("", f"the query is {size} bytes", cap, "max_query_bytes")])


def _split(text: str, limits: WireLimits, from_bytes: bool) -> Pairs:
    segments = [s for s in text.split("&") if s]
    if len(segments) > limits.max_pairs:
        raise WireError(
            [too_large("", f"the query has {len(segments)} pairs", limits.max_pairs, "max_pairs")]
        )
    errors: list[Violation] = []
    pairs: Pairs = []
    # At most one violation per pair: the first of key decoding, key checks, value
    # decoding, value checks that fails (spec/README.md §1.8).
    for seg in segments:
        raw_key, _, raw_value = seg.partition("=")
        key = _decode(raw_key, None, errors, from_bytes)
        if key is None or not check_key(key, limits, errors):
            continue
        value = _decode(raw_value, key, errors, from_bytes)
        if value is not None and check_value(key, value, limits, errors):
            pairs.append((key, value))
    if errors:
        raise WireError(errors)
    return pairs


def _decode(raw: str, key: str | None, out: list[Violation], from_bytes: bool) -> str | None:
    """Percent-decode a key (``key`` is None) or the value of ``key``.

    Returns None, with a violation in ``out``, when it cannot be decoded. A problem in a
    key is reported under the key as sent; one in a value, under its decoded key.
    """
    if not raw.isascii() and not is_utf8(raw):
        # Lone surrogates: undecodable bytes (from_bytes) or a str that is not text.
        if key is None:
            out.append(bad_utf8_key(raw, from_bytes))
        else:
            out.append(violation("bad-utf8", key, f"the value of {quoted(key)} is not valid UTF-8"))
        return None
    if "%" not in raw:  # the fast path: nothing to unquote
        return raw.replace("+", " ")
    if BAD_PERCENT_RE.search(raw):
        message = "has a '%' not followed by two hex digits; write a literal '%' as %25"
        out.append(_undecodable("bad-percent-escape", raw, key, message))
        return None
    try:
        return _unquote(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        out.append(_undecodable("bad-utf8", raw, key, "does not percent-decode to UTF-8"))
        return None


def _undecodable(reason: str, raw: str, key: str | None, message: str) -> Violation:
    if key is None:
        return violation(reason, raw, f"the key {quoted(raw)} {message}")
    return violation(reason, key, f"the value of {quoted(key)} {message}")


def _unquote(text: str) -> bytes:
    """``urllib.parse.unquote_to_bytes(text)`` for text whose every "%" starts an escape
    (see BAD_PERCENT_RE), decoded in C rather than escape by escape."""
    # binascii.a2b_qp decodes quoted-printable "=XX": once each literal "=" is itself
    # written "=3D", every "%" can become "=" (a 64 KiB query of escapes: ~30x faster).
    return a2b_qp(text.encode("utf-8").replace(b"=", b"=3D").replace(b"%", b"="))


# A violation with where it ranks: (position of its pair, depth of its path, violation).
Ranked = tuple[int, int, Violation]


def check_pairs(
    pairs: Iterable[tuple[str, str]], limits: WireLimits, errors: list[Violation]
) -> Pairs:
    """The pairs that pass :func:`parse_query`'s text checks; a violation in ``errors`` for
    each other item, in wire order. More than ``max_pairs`` items raise :class:`WireError`."""
    ranked: list[Ranked] = []
    good = [(key, value) for _, key, value in checked_pairs(pairs, limits, ranked)]
    errors.extend(v for _, _, v in ranked)
    return good


def checked_pairs(
    pairs: object, limits: WireLimits, ranked: list[Ranked]
) -> list[tuple[int, str, str]]:
    """Each item that is a (str, str) pair within the caps, with its position; a violation
    in ``ranked`` for each other item (spec/README.md §1.6, §1.7)."""
    if isinstance(pairs, (str, bytes, bytearray, memoryview, Mapping)) or not isinstance(
        pairs, Iterable
    ):
        # A str or a mapping is iterable, but not of pairs: refused as a whole.
        hint = "; pass its .items()" if isinstance(pairs, Mapping) else ""
        what = f"pairs are an iterable of (str, str) tuples, not {type(pairs).__name__}{hint}"
        raise WireError([violation("bad-pair", "", what)])
    taken: list[object] = list(islice(pairs, limits.max_pairs + 1))
    if len(taken) > limits.max_pairs:
        what = f"more than {limits.max_pairs} pairs were given"
        raise WireError([too_large("", what, limits.max_pairs, "max_pairs")])
    good: list[tuple[int, str, str]] = []
    for position, item in enumerate(taken):
        found: list[Violation] = []
        if not (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            what = f"item {position} of the pairs is {_kind(item)}, not a (str, str) pair"
            found.append(violation("bad-pair", "", what))
        elif check_key(item[0], limits, found) and check_value(item[0], item[1], limits, found):
            good.append((position, str.__str__(item[0]), str.__str__(item[1])))
        ranked.extend((position, 0, v) for v in found)
    return good


def _kind(item: object) -> str:
    if isinstance(item, tuple):
        return f"({', '.join(type(part).__name__ for part in item[:3])}{', ...' * (len(item) > 3)})"
    return type(item).__name__


# --- pairs -> str (spec/README.md §1.9) -----------------------------------------------------


# Each byte as quote_plus writes it: the unreserved ASCII characters as they are, space as
# "+", every other byte as %XX (upper-case hex).
_QUOTE = [chr(b) if b < 128 and SAFE_RE.match(chr(b)) else f"%{b:02X}" for b in range(256)]
_QUOTE[0x20] = "+"
# The same as a str.translate table over the UTF-8 bytes read as latin-1 (one C pass).
_QUOTE_TABLE = str.maketrans({chr(b): _QUOTE[b] for b in range(256)})


def quote(text: str) -> str:
    """``urllib.parse.quote_plus(text, safe="")``, byte for byte, faster when nothing escapes.

    >>> quote("Ubuntu 22.04/x86")
    'Ubuntu+22.04%2Fx86'
    """
    given: object = text
    if not isinstance(given, str):
        what = f"quote takes a str, not {type(given).__name__}"
        raise WireError([violation("bad-pair", "", what)])
    if SAFE_RE.match(given):
        return given
    try:
        data = given.encode("utf-8")
    except UnicodeEncodeError:
        raise WireError(
            [violation("bad-utf8", "", f"the text {quoted(given)} is not valid UTF-8")]
        ) from None
    return data.decode("latin-1").translate(_QUOTE_TABLE)


def format_query(pairs: Iterable[tuple[str, str]], *, limits: WireLimits = DEFAULT_LIMITS) -> str:
    """Percent-encode pairs exactly as ``urllib.parse.urlencode(pairs)`` does.

    Refuses, with :class:`WireError`, what :func:`parse_query` (with the same ``limits``)
    would refuse, so that it gives back exactly ``pairs`` (spec/README.md §1.9).

    >>> format_query([("Filters.0.Values.0", "Ubuntu 22.04/x86")])
    'Filters.0.Values.0=Ubuntu+22.04%2Fx86'
    """
    ranked: list[Ranked] = []
    good = checked_pairs(pairs, limits, ranked)
    if ranked:
        raise WireError(v for _, _, v in ranked)
    query = write_pairs([(k, v) for _, k, v in good])
    # ASCII, so its length is its size in bytes.
    if len(query) > limits.max_query_bytes:
        _refuse_size(str(len(query)), limits.max_query_bytes)
    return query


# The whole query is escaped at once, with a few whole-bytes passes in C rather than one
# quote() call (and one str.translate through a dict, character by character) per item:
# the pairs are joined with two control characters as separators (checked text has none,
# spec/README.md §1.3, so they cannot be confused with text), the bytes that need no escape
# are deleted to find the few that do, and each of those is replaced in one pass ("%"
# first, so that no escape written is escaped again; the space last, after "+"). Text with
# many distinct bytes to escape (most non-ASCII text) takes the table instead.
_KEY_END, _PAIR_END = "\x00", "\x01"
# The bytes written as they are (quote_plus's unreserved ones).
UNRESERVED = bytes(b for b in range(256) if _QUOTE[b] == chr(b))
_NO_ESCAPE = UNRESERVED + b"\x00\x01"
_ESCAPES = {b: _QUOTE[b].encode("ascii") for b in range(256) if _QUOTE[b] != chr(b)}
_WRITE_TABLE = str.maketrans({**_QUOTE_TABLE, 0: "=", 1: "&"})
MAX_PASSES = 12


def write_pairs(pairs: list[tuple[str, str]]) -> str:
    """``urlencode(pairs)`` for pairs of str that passed the text checks (UTF-8, no
    control character).

    >>> write_pairs([("Filters.0.Values.0", "Ubuntu 22.04/x86"), ("a&b", "50%")])
    'Filters.0.Values.0=Ubuntu+22.04%2Fx86&a%26b=50%25'
    """
    data = _PAIR_END.join(map(_KEY_END.join, pairs)).encode("utf-8")
    return write_joined(data, set(data.translate(None, _NO_ESCAPE)))


def write_joined(data: bytes, escaped: set[int]) -> str:
    """The query of checked pairs joined as ``write_pairs`` joins them (UTF-8, "\\x00"
    after each key, "\\x01" between pairs), given the bytes of its text to escape (what
    ``data.translate(None, UNRESERVED)`` leaves but the separators).

    >>> write_joined(b"a\\x00b c", {0x20})
    'a=b+c'
    """
    if len(escaped) > MAX_PASSES:
        return data.decode("latin-1").translate(_WRITE_TABLE)
    return _escaped(data, escaped).replace(b"\x00", b"=").replace(b"\x01", b"&").decode("ascii")


def escape_query(query: str, escaped: set[int]) -> str:
    """A query already joined with "=" and "&", its text escaped: ``escaped`` (at most
    MAX_PASSES bytes) are the bytes of its text to escape, and neither "=" nor "&" is one.

    >>> escape_query("a=b c/d", {0x20, 0x2F})
    'a=b+c%2Fd'
    """
    return _escaped(query.encode("utf-8"), escaped).decode("ascii")


def _escaped(data: bytes, escaped: set[int]) -> bytes:
    if 0x25 in escaped:  # "%"
        data = data.replace(b"%", b"%25")
    for byte in escaped - _LAST:
        data = data.replace(bytes((byte,)), _ESCAPES[byte])
    if 0x20 in escaped:
        data = data.replace(b" ", b"+")
    return data


_LAST = frozenset(b"% ")  # replaced before and after the others
