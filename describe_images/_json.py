"""API 3.0 JSON request bodies <-> typed request (spec/README.md §2.10).

An API 3.0 POST carries the action's own parameters as a JSON object; Action, Version,
Region, Timestamp, Token, Language and RequestClient travel in ``X-TC-*`` headers, which
the caller reads into a :class:`CommonParams`. Reading a body is three stages, like the
query form's codec, placing and rules (spec/README.md §2.2):

1. the document: its type, size, UTF-8, nesting, JSON syntax, value count, member names
   (duplicates included) and integer lengths, each cap checked before the work it bounds;
   if any fails, only these problems are reported (there is no tree to place);
2. placing: the top level must be an object whose members are the action's parameters;
   their types and text are :meth:`DescribeImagesRequest.from_dict`'s checks;
3. the rules, :func:`validate`'s, on the request with the caller's common parameters.

Every violation is reported, in rule order then document order, with the 0-based wire
paths the query form uses (``Filters.0.Values.1``).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from itertools import accumulate
from typing import Any

from ._errors import REQUEST_RANK, RequestError, UsageError, Violation, violation
from ._grammar import (
    DEFAULT_LIMITS,
    WireLimits,
    bad_utf8_key,
    has_control,
    is_utf8,
    quoted,
    too_large,
)
from ._model import (
    CommonParams,
    DescribeImagesRequest,
    Filter,
    suggest,
    unknown_parameter,
    value_problems,
)
from ._rules import validate

# The action's own parameters: the members of the official SDK's DescribeImagesRequest
# model (its order: spec/README.md §2.10, "Writing"), InstanceType excepted.
BODY_MEMBERS = ("ImageIds", "Filters", "Offset", "Limit")
# API 3.0 sends these common parameters in headers (X-TC-<name>), never in the body.
HEADER_PARAMETERS = ("Action", "Version", "Region", "Timestamp", "Token", "Language",
                     "RequestClient")  # fmt: skip
# ... and these belong to the legacy v1 signature, which an API 3.0 call does not use.
V1_PARAMETERS = ("Nonce", "SecretId", "Signature", "SignatureMethod")
_PLAIN_NAMES = frozenset({*BODY_MEMBERS, "Name", "Values"})

# Python's int() refuses more than 4,300 digits (and is quadratic below that); an integer
# of more digits than value_problems converts (4,185) is never converted (spec/README.md §2.6).
_MAX_INT_DIGITS = 4_185


# --- Stage 1: the document ------------------------------------------------------------------


class _NotJson(Exception):
    """A constant JSON does not have (NaN, Infinity, -Infinity), met while parsing."""


class _LongInteger:
    """An integer too long to convert: its text, kept for the message."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Null:
    """JSON ``null`` in a body. It was sent, so it is not "absent" (what ``from_dict`` makes
    of ``None``): ``from_dict`` reports it as the wrong type, naming it by its class name."""

    __slots__ = ()


_Null.__name__ = "null"  # _model names a value of no JSON type by its class: "not a null"
NULL = _Null()


def _refuse(reason: str, path: str, message: str) -> RequestError:
    return RequestError([violation(reason, path, message)])


def _too_big(size: int, cap: int) -> RequestError:
    return RequestError([too_large("", f"the body is {size} bytes", cap, "max_query_bytes")])


def _text(body: object, limits: WireLimits) -> str:
    """The body as text: bytes within ``max_query_bytes`` that are UTF-8, or text whose
    UTF-8 form is within it."""
    cap = limits.max_query_bytes
    if isinstance(body, str):
        # Every character is at least one byte: only a longer text needs encoding to measure.
        size = len(body)
        if size <= cap and not body.isascii():
            size = len(body.encode("utf-8", "surrogatepass"))
        if size > cap:
            raise _too_big(size, cap)
        return body
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise _refuse("wrong-type", "", f"the body must be bytes or str, not {type(body).__name__}")
    try:
        size = body.nbytes if isinstance(body, memoryview) else len(body)
        if size > cap:
            raise _too_big(size, cap)
        raw = bytes(body)
    except ValueError:  # a released memoryview
        what = "the body must be bytes or str, not a released memoryview"
        raise _refuse("wrong-type", "", what) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = raw[error.start]
        what = f"the body is not valid UTF-8 (byte 0x{byte:02x} at offset {error.start})"
        raise _refuse("bad-utf8", "", what) from None


# Escape pairs (\" and \\ among them) are removed first: every quote left then opens or
# closes a string, so the text between odd and even quotes is outside every string. The
# work is a few whole-string passes, linear in the body (a regex matching strings
# backtracks quadratically on an unterminated one).
_ESCAPE_RE = re.compile(r"\\.", re.DOTALL)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}


def _depth(text: str) -> int:
    """How deep the containers of ``text`` nest, counting brackets outside strings (at least
    the depth a JSON parser reaches before it finds any syntax error)."""
    outside = "".join(_ESCAPE_RE.sub("", text).split('"')[0::2])
    brackets = _NOT_BRACKET_RE.sub("", outside)
    return max(accumulate(map(_NESTING.__getitem__, brackets)), default=0)


def _parse_int(text: str, limits: WireLimits) -> Any:
    """What json calls with each integer's text; None (json's own int()) when no run of
    digits in ``text`` could be too long to convert: the common case, one C-level search."""
    cap = min(limits.max_value_length, _MAX_INT_DIGITS)
    interpreter = getattr(sys, "get_int_max_str_digits", int)()  # 0: no limit
    # Without a run of cap digits, no integer is refused, signed or not.
    if (interpreter == 0 or interpreter >= cap) and re.search(f"[0-9]{{{cap},}}", text) is None:
        return None

    def parse(digits: str) -> int | _LongInteger:
        # json hands over the digits: their count is checked before any conversion.
        if len(digits) - digits.startswith("-") > cap or len(digits) > limits.max_value_length:
            return _LongInteger(digits)
        try:
            return int(digits)
        except ValueError:  # a process-wide sys.set_int_max_str_digits below ours
            return _LongInteger(digits)

    return parse


def _parse_constant(name: str) -> object:
    raise _NotJson(name)


def _parse(text: str, limits: WireLimits) -> object:
    depth = _depth(text)
    if depth > limits.max_depth:
        raise _refuse(
            "too-deep",
            "",
            f"the body nests {depth} containers deep; at most {limits.max_depth} are "
            "allowed (max_depth)",
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=tuple,  # every member, duplicates too, in order
            parse_int=_parse_int(text, limits),
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as error:
        raise _refuse(
            "bad-json",
            "",
            f"the body is not JSON: {error}",  # the position: line, column and character
        ) from None
    except _NotJson as error:
        what = f"the body is not JSON: {error} is not a JSON value"
        raise _refuse("bad-json", "", what) from None
    except RecursionError:  # a max_depth above what this interpreter's stack allows
        raise _refuse(
            "too-deep", "", "the body nests deeper than this server can read (max_depth)"
        ) from None


class _Document:
    """Walks a parsed body: rebuilds it as dicts and lists, numbers each path in document
    order, and collects the problems of stage 1."""

    def __init__(self, limits: WireLimits) -> None:
        self.limits = limits
        self.order: dict[str, int] = {}
        self.problems: list[Violation] = []
        self.values = 0

    def node(self, value: object, path: str) -> object:
        self.order.setdefault(path, len(self.order))
        if type(value) is tuple:  # an object: its (name, value) members
            out: dict[str, object] = {}
            for name, item in value:
                here = f"{path}.{name}" if path else name
                if name not in _PLAIN_NAMES and not self.name_ok(name, here):
                    continue
                if name in out:
                    what = f"the member {quoted(here)} is sent twice"
                    self.problems.append(violation("duplicate-key", here, what))
                    continue
                out[name] = self.node(item, here)
            return out
        if type(value) is list:
            prefix = f"{path}." if path else ""
            return [self.node(item, f"{prefix}{i}") for i, item in enumerate(value)]
        # A scalar: one pair of the query form, whose key is its path.
        self.values += 1
        limits = self.limits
        if self.values > limits.max_pairs:
            cap = limits.max_pairs
            raise RequestError(
                [too_large("", f"the body has more than {cap} values", cap, "max_pairs")]
            )
        if len(path) > limits.max_key_length:
            cap = limits.max_key_length
            what = f"the path {quoted(path)} is {len(path)} characters long"
            self.problems.append(too_large(path[:cap], what, cap, "max_key_length"))
        elif isinstance(value, _LongInteger):
            digits = len(value.text) - value.text.startswith("-")
            what = f"{path or 'the body'} is an integer of {digits} digits"
            cap = min(limits.max_value_length, _MAX_INT_DIGITS)
            self.problems.append(too_large(path, what, cap, "max_value_length"))
        return NULL if value is None else value

    def name_ok(self, name: str, path: str) -> bool:
        """A member name is a segment of a wire key: it must be UTF-8, without a control."""
        if not name.isascii() and not is_utf8(name):
            self.problems.append(bad_utf8_key(path, from_bytes=False))
            return False
        if has_control(name):
            what = f"the member name {quoted(name)} contains a control character"
            self.problems.append(
                violation("control-character", path, f"{what} (U+0000-U+001F or U+007F)")
            )
            return False
        return True


# --- Stage 2: placing ------------------------------------------------------------------------


def _json_type(value: object) -> str:
    """The JSON type of a top-level value that is not an object."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a bool"
    if value is NULL:
        return "null"
    return "a number"


def _unknown_member(name: str) -> Violation:
    if name in HEADER_PARAMETERS:
        return violation(
            "unknown-parameter",
            name,
            f"unknown parameter {name}: an API 3.0 body carries only the action's parameters; "
            f"{name} is sent in the X-TC-{name} header",
        )
    if name in V1_PARAMETERS:
        return violation(
            "unknown-parameter",
            name,
            f"unknown parameter {name}: it belongs to the legacy v1 signature; an API 3.0 "
            "call is signed in its Authorization header",
        )
    if name == "InstanceType":
        return violation(
            "unknown-parameter",
            name,
            "unknown parameter InstanceType: a member of API 3.0's DescribeImages model, "
            "not a parameter of Version 2017-03-12, which this library implements",
        )
    better = suggest(name)
    if better is not None and better.split(".")[0] in BODY_MEMBERS:
        return unknown_parameter(name)  # with its suggestion
    return violation("unknown-parameter", name, f"unknown parameter {name}")


_TYPES_STR = {str}
_FILTER_MEMBERS = frozenset({"Name", "Values"})


def typed_request(members: dict[str, object]) -> DescribeImagesRequest | None:
    """The request :meth:`DescribeImagesRequest.from_dict` builds from ``members`` when
    each has its JSON type (the common case, checked with whole-list operations), else
    None, and from_dict names every problem. Text is not checked here."""
    ids = members.get("ImageIds", [])
    items = members.get("Filters", [])
    offset, limit = members.get("Offset"), members.get("Limit")
    if type(ids) is not list or type(items) is not list:
        return None
    if ids and set(map(type, ids)) != _TYPES_STR:
        return None
    # Absent is None; a JSON null is NULL, never None, so it fails here.
    if (offset is not None and type(offset) is not int) or (
        limit is not None and type(limit) is not int
    ):
        return None
    filters = []
    for item in items:
        if type(item) is not dict or not _FILTER_MEMBERS.issuperset(item):
            return None
        name, values = item.get("Name", ""), item.get("Values", [])
        if type(name) is not str or type(values) is not list:
            return None
        if values and set(map(type, values)) != _TYPES_STR:
            return None
        filters.append(Filter(name, tuple(values)))
    return DescribeImagesRequest(tuple(ids), tuple(filters), offset, limit)


def _placed(
    members: dict[str, object], limits: WireLimits
) -> DescribeImagesRequest | tuple[Violation, ...]:
    """The request the members make (``from_dict``'s), or every type and text problem."""
    request = typed_request(members)
    if request is None:
        try:
            return DescribeImagesRequest.from_dict(members, limits=limits)
        except RequestError as error:
            return error.violations
    problems = value_problems(request, limits)  # from_dict's text checks
    return tuple(problems) if problems else request


def decode_json_request(
    body: str | bytes | bytearray | memoryview,
    *,
    common: CommonParams | None = None,
    limits: WireLimits = DEFAULT_LIMITS,
) -> DescribeImagesRequest:
    """Decode an API 3.0 JSON body into a request; ``common`` holds the parameters the
    caller read from the ``X-TC-*`` headers (by default only ``Action=DescribeImages``).

    Raises :class:`RequestError` carrying every violation, in rule order then document
    order, with 0-based wire paths.

    >>> decode_json_request(b'{"ImageIds": ["img-pmqg1cw7"], "Limit": 5}').image_ids
    ('img-pmqg1cw7',)
    >>> decode_json_request('{"Limit": true}')
    Traceback (most recent call last):
      ...
    describe_images._errors.RequestError: InvalidParameter: Limit must be an integer, not a bool
    """
    if not isinstance(limits, WireLimits):
        raise UsageError(f"limits must be a WireLimits, not {type(limits).__name__}")
    document = _Document(limits)
    tree = document.node(_parse(_text(body, limits), limits), "")
    if document.problems:
        raise RequestError(document.problems)
    if not isinstance(tree, dict):
        raise _refuse("wrong-type", "", f"the body must be a JSON object, not {_json_type(tree)}")
    members: dict[str, object] = {}
    found: list[Violation] = []
    for name, value in tree.items():
        if name in BODY_MEMBERS:
            members[name] = value
        else:
            found.append(_unknown_member(name))
    placed = _placed(members, limits)
    if isinstance(placed, tuple):  # the types (or their text) are wrong: no rules
        found += placed
    else:
        request = placed if common is None else replace(placed, common=common)
        found += validate(request, limits=limits)
    if found:
        order = document.order
        # Rule order, then document order; a path not in the body (a header's parameter,
        # or the whole request's "") comes first. The sort is stable.
        found.sort(key=lambda v: (REQUEST_RANK[v.reason], order.get(v.path, -1)))
        raise RequestError(found)
    return request


# --- Writing --------------------------------------------------------------------------------


def encode_json(request: DescribeImagesRequest, *, limits: WireLimits = DEFAULT_LIMITS) -> bytes:
    """The JSON body the official Python SDK sends for ``request``: ``json.dumps`` of its
    model (members ImageIds, Filters, Offset, Limit; each filter Name, then Values), with
    the ``", "`` and ``": "`` separators and non-ASCII written ``\\uXXXX``, as bytes.

    The common parameters are not written (API 3.0 sends them in headers), but like every
    value they must be ones the wire can carry: a request holding one that cannot is
    refused with :class:`RequestError`, as by :func:`encode_query`. No rule is checked.

    >>> encode_json(DescribeImagesRequest(image_ids=("img-pmqg1cw7",), limit=5))
    b'{"ImageIds": ["img-pmqg1cw7"], "Limit": 5}'
    """
    if not isinstance(limits, WireLimits):
        raise UsageError(f"limits must be a WireLimits, not {type(limits).__name__}")
    problems = value_problems(request, limits)
    if problems:
        raise RequestError(problems)
    out: dict[str, object] = {}
    if request.image_ids:
        out["ImageIds"] = list(request.image_ids)
    if request.filters:
        out["Filters"] = [{"Name": f.name, "Values": list(f.values)} for f in request.filters]
    # value_problems checked that Offset and Limit have few enough digits to convert.
    if request.offset is not None:
        out["Offset"] = int(request.offset)
    if request.limit is not None:
        out["Limit"] = int(request.limit)
    return json.dumps(out).encode("ascii")
