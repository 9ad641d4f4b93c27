"""The decoder's fast path for a *plain* query: whole-string operations only.

A plain query (spec/README.md §2.2, fast path) is decoded with ``bytes.translate``,
``binascii.a2b_qp`` and ``split``, never a per-character Python loop; anything else
goes through :func:`._pairs.parse_query`, which names the problem.
"""

from __future__ import annotations

from binascii import a2b_qp

from ._grammar import DEFAULT_LIMITS, WireLimits

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
