"""The typed request: frozen value types, their PascalCase JSON shape, and the checks
that every value built in code meets before anything else looks at it.

A request that breaks a rule (11 filters, Limit 1000), or holds a value of the wrong
type, can still be built, so that it can be reported (spec/README.md §2.6): the
constructors never raise. :func:`value_problems` names every value that could not travel
on the wire (a wrong type, a lone surrogate, a control character, a value over the cap),
with the same reasons and paths the wire decoder gives; :func:`._rules.validate`,
:meth:`DescribeImagesRequest.from_dict` and the encoder all start with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any

from ._errors import REQUEST_RANK, RequestError, Violation, violation
from ._grammar import (
    DEFAULT_LIMITS,
    WireLimits,
    check_value,
    has_control,
    is_utf8,
    printable,
    quoted,
)
from ._spec import (
    ACTION,
    COMMON_PARAMETERS,
    DEFAULT_LIMIT,
    DEFAULT_OFFSET,
    FILTER_FIELD_SUGGESTIONS,
    TOP_LEVEL_SUGGESTIONS,
    VERSION,
)


def _as_tuple(owner: object, name: str, value: object) -> None:
    # A list (or other sequence) becomes a tuple, so the value is hashable and compares
    # equal however it was built. A str, bytes or mapping is kept as given and reported by
    # value_problems: splitting "img-x" into characters is the bug botocore has.
    # A tuple, the common case, is kept without the (slower) abstract Sequence check.
    if type(value) is tuple:
        return
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray, memoryview)):
        object.__setattr__(owner, name, tuple(value))


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter: a Name and the Values it matches (ORed). ``Filters.N`` on the wire."""

    name: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _as_tuple(self, "values", self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"Name": self.name, "Values": list(self.values)}


@dataclass(frozen=True, slots=True)
class CommonParams:
    """The common request parameters, kept as sent (text).

    ``action`` is ``"DescribeImages"`` unless given; every other field is optional (None:
    not sent).
    """

    action: str = ACTION
    region: str | None = None
    timestamp: str | None = None
    nonce: str | None = None
    secret_id: str | None = None
    signature: str | None = None
    signature_method: str | None = None
    token: str | None = None
    request_client: str | None = None
    language: str | None = None

    def items(self) -> list[tuple[str, str]]:
        """The parameters as (wire name, value) in encoding order: Action, then those set."""
        return [
            (wire, value)
            for wire, attr in COMMON_PARAMETERS.items()
            if (value := getattr(self, attr)) is not None
        ]


DEFAULT_COMMON = CommonParams()


@dataclass(frozen=True, slots=True)
class DescribeImagesRequest:
    """A DescribeImages (2017-03-12) request.

    ``offset`` and ``limit`` are ``None`` when not sent; :attr:`effective_offset` and
    :attr:`effective_limit` apply the documented defaults (0 and 20).

    >>> DescribeImagesRequest(image_ids=("img-pmqg1cw7",)).effective_limit
    20
    """

    image_ids: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    offset: int | None = None
    limit: int | None = None
    common: CommonParams = field(default=DEFAULT_COMMON)

    def __post_init__(self) -> None:
        _as_tuple(self, "image_ids", self.image_ids)
        _as_tuple(self, "filters", self.filters)

    @property
    def effective_offset(self) -> int:
        return DEFAULT_OFFSET if self.offset is None else self.offset

    @property
    def effective_limit(self) -> int:
        return DEFAULT_LIMIT if self.limit is None else self.limit

    def to_dict(self) -> dict[str, Any]:
        """The PascalCase JSON shape of the official SDK's model: only what the request
        carries beyond its defaults (``Action`` only when it is not DescribeImages;
        ``Version`` never, it is implied), so ``from_dict(r.to_dict()) == r``.

        >>> DescribeImagesRequest(image_ids=("img-pmqg1cw7",), limit=5).to_dict()
        {'ImageIds': ['img-pmqg1cw7'], 'Limit': 5}
        """
        out: dict[str, Any] = {}
        if self.image_ids:
            out["ImageIds"] = list(self.image_ids)
        if self.filters:
            out["Filters"] = [f.to_dict() for f in self.filters]
        if self.offset is not None:
            out["Offset"] = self.offset
        if self.limit is not None:
            out["Limit"] = self.limit
        out.update(
            (wire, value) for wire, value in self.common.items() if value != _DEFAULTS.get(wire)
        )
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, limits: WireLimits = DEFAULT_LIMITS
    ) -> DescribeImagesRequest:
        """Build a request from its JSON shape; wrong types are refused, never coerced, and
        every value meets the wire's text checks (the rules are :func:`validate`'s).

        >>> DescribeImagesRequest.from_dict({"ImageIds": ["img-pmqg1cw7"]}).image_ids
        ('img-pmqg1cw7',)
        """
        return _FromDict(data, limits).build()


_DEFAULTS = {"Action": ACTION}


# --- the checks every value built in code meets (spec/README.md §2.6) ------------------------


def shown(value: object, width: int = 40) -> str:
    """A value quoted for a message, cut to ``width`` characters.

    >>> shown("x" * 50)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
    """
    text = repr(value[: width + 1] if isinstance(value, str) else value)
    return text if len(text) <= width else f"{text[: width - 3]}..."



def _type_name(value: object) -> str:
    return type(value).__name__


def _wrong_type(path: str, expected: str, value: object) -> Violation:
    where = path or "the request"
    return violation("wrong-type", path, f"{where} must be {expected}, not {_type_name(value)}")


def _text(path: str, value: object, limits: WireLimits, out: list[Violation]) -> None:
    """``value`` is a str the wire can carry under ``path``; else a violation in ``out``."""
    if not isinstance(value, str):
        out.append(_wrong_type(path, "a str", value))
        return
    if value.isascii():
        if has_control(value) or len(value) > limits.max_value_length:
            check_value(path, value, limits, out)
    elif not is_utf8(value):
        # As the wire decoder reports a value with undecodable bytes (spec/README.md §1.2).
        out.append(violation("bad-utf8", path, f"the value of {quoted(path)} is not valid UTF-8"))
    else:
        check_value(path, value, limits, out)


def _texts(path: str, values: object, limits: WireLimits, out: list[Violation]) -> None:
    if type(values) is not tuple:
        out.append(_wrong_type(path, "a tuple of str", values))
        return
    # The common case in one pass of C: all str, ASCII, no control, within the cap.
    if values and set(map(type, values)) == {str}:
        joined = "".join(values)
        if (
            joined.isascii()
            and not has_control(joined)
            and max(map(len, values)) <= limits.max_value_length
        ):
            return
    for i, value in enumerate(values):
        _text(f"{path}.{i}", value, limits, out)


def _integer(path: str, value: object, limits: WireLimits, out: list[Violation]) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):  # an IntEnum is an int
        out.append(_wrong_type(path, "an int", value))
    elif int_text(value, limits) is None:
        out.append(_too_many_digits(path, limits))


# Decimal digits are counted before converting: str() of an int is quadratic, and raises
# past Python's 4,300-digit limit. 2**13_900 has 4,185 digits, so up to that bit length
# str() is safe; an integer above it is longer than any value a query may carry by default.
_MAX_INT_BITS = 13_900


def int_text(value: int, limits: WireLimits = DEFAULT_LIMITS) -> str | None:
    """The decimal text of ``value`` as the wire carries it, or None when it has more
    characters than ``max_value_length`` allows (or more than 4,185 digits).

    >>> int_text(-40), int_text(10**5000)
    ('-40', None)
    """
    if value.bit_length() > _MAX_INT_BITS:
        return None
    text = int.__repr__(value)  # decimal, even for an IntEnum
    return text if len(text) <= limits.max_value_length else None


def _too_many_digits(path: str, limits: WireLimits) -> Violation:
    cap = limits.max_value_length
    return violation(
        "too-large",
        path,
        f"{path} is an integer of more than {min(cap, 4185)} digits; at most {cap} "
        "characters are allowed (max_value_length)",
    )


def value_problems(request: object, limits: WireLimits = DEFAULT_LIMITS) -> list[Violation]:
    """Every value of ``request`` that could not travel on the wire, with its wire path
    (0-based): a wrong type (``wrong-type``), or text the wire decoder would refuse
    (``bad-utf8``, ``control-character``, ``too-large``), in the order of the fields.

    >>> [v.path for v in value_problems(DescribeImagesRequest(image_ids=("img-1", 5)))]
    ['ImageIds.1']
    """
    if not isinstance(request, DescribeImagesRequest):
        return [_wrong_type("", "a DescribeImagesRequest", request)]
    if _all_clear(request, limits):
        return []
    out: list[Violation] = []
    _texts("ImageIds", request.image_ids, limits, out)
    filters: object = request.filters
    if type(filters) is not tuple:
        out.append(_wrong_type("Filters", "a tuple of Filter", filters))
    else:
        for i, item in enumerate(filters):
            here = f"Filters.{i}"
            if not isinstance(item, Filter):
                out.append(_wrong_type(here, "a Filter", item))
                continue
            _text(f"{here}.Name", item.name, limits, out)
            _texts(f"{here}.Values", item.values, limits, out)
    _integer("Offset", request.offset, limits, out)
    _integer("Limit", request.limit, limits, out)
    common: object = request.common
    if not isinstance(common, CommonParams):
        out.append(
            violation(
                "wrong-type",
                "",
                f"the request's common must be a CommonParams, not {_type_name(common)}",
            )
        )
    else:
        for wire, attr in COMMON_PARAMETERS.items():
            value = getattr(common, attr)
            if value is not None or wire == "Action":
                _text(wire, value, limits, out)
    return out


_name = attrgetter("name")
_values = attrgetter("values")
_TYPES_STR = {str}
_TYPES_FILTER = {Filter}
_TYPES_TUPLE = {tuple}
_TYPES_INT = frozenset({int, type(None)})
_SMALL_INT = 10**18  # 19 characters at most, sign included


def _all_clear(request: DescribeImagesRequest, limits: WireLimits) -> bool:
    """The common case, with whole-sequence operations in C only: every value has its type,
    and all the text, joined, is UTF-8 without a control character, within the cap. False
    means "look closer" (value_problems then names each problem), never "invalid"."""
    ids: object = request.image_ids
    filters: object = request.filters
    if type(ids) is not tuple or type(filters) is not tuple:
        return False
    offset, limit = request.offset, request.limit
    if not {type(offset), type(limit)} <= _TYPES_INT or limits.max_value_length < 19:
        return False
    if (offset is not None and not -_SMALL_INT < offset < _SMALL_INT) or (
        limit is not None and not -_SMALL_INT < limit < _SMALL_INT
    ):
        return False
    texts: list[object] = [*ids]
    if filters:
        if set(map(type, filters)) != _TYPES_FILTER:
            return False
        texts += map(_name, filters)
        values = list(map(_values, filters))
        if set(map(type, values)) != _TYPES_TUPLE:
            return False
        texts += chain.from_iterable(values)
    common: object = request.common
    if type(common) is not CommonParams:
        return False
    if common is not DEFAULT_COMMON:  # the default's only value, "DescribeImages", is clear
        texts.append(common.action)
        texts += [value for _, value in common.items()]
    if not texts:
        return True
    if set(map(type, texts)) != _TYPES_STR:
        return False
    joined = "".join(texts)  # type: ignore[arg-type]  # every item is a str: checked above
    if (not joined.isascii() and not is_utf8(joined)) or has_control(joined):
        return False
    # No text is longer than all of it joined (the common case: no need to look at each).
    cap = limits.max_value_length
    return len(joined) <= cap or max(map(len, texts)) <= cap  # type: ignore[arg-type]  # str


# --- from_dict: the JSON shape -----------------------------------------------------------------


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _wrong_json(path: str, expected: str, value: object) -> Violation:
    where = path or "the request"
    return violation("wrong-type", path, f"{where} must be {expected}, not a {_json_type(value)}")


class _FromDict:
    """Collects every type problem of a JSON request, then builds it or raises."""

    def __init__(self, data: object, limits: WireLimits) -> None:
        self.data = data
        self.limits = limits
        self.problems: list[Violation] = []

    def build(self) -> DescribeImagesRequest:
        data = self.data
        if not isinstance(data, Mapping):
            raise RequestError([_wrong_json("", "an object", data)])
        # Members are read in their order, so problems are listed in it (spec/README.md
        # §2.4); ``null`` counts as absent.
        fields: dict[str, Any] = {}
        common: dict[str, str] = {}
        for key, value in data.items():
            if key == "ImageIds":
                fields["image_ids"] = self._strings(value, key)
            elif key == "Filters":
                fields["filters"] = self._filters(value)
            elif key in ("Offset", "Limit"):
                fields[key.lower()] = self._int(value, key)
            elif key == "Version":
                self._version(value)
            elif key in COMMON_PARAMETERS:
                text = self._common(value, key)
                if text is not None:
                    common[COMMON_PARAMETERS[key]] = text
            else:
                self.problems.append(_unknown_key(key))
        if self.problems:
            # Codec reasons, then rule order; the sort is stable: member order within one.
            raise RequestError(sorted(self.problems, key=lambda v: REQUEST_RANK[v.reason]))
        request = DescribeImagesRequest(**fields, common=CommonParams(**common))
        # The types are right: now the text checks the wire decoder makes, with its paths,
        # in member order (every path starts with the member it is under).
        problems = value_problems(request, self.limits)
        if problems:
            # A default the caller did not send (Action) comes after every member.
            order = {key: i for i, key in enumerate(data)}
            last = len(order)
            raise RequestError(
                sorted(problems, key=lambda v: order.get(v.path.split(".")[0], last))
            )
        return request

    def _version(self, value: object) -> None:
        if value is None or value == VERSION:
            return
        if isinstance(value, str):
            self.problems.append(
                violation(
                    "unsupported-version",
                    "Version",
                    f"Version {shown(value)} is not supported; use {VERSION!r}",
                )
            )
        else:
            self.problems.append(_wrong_json("Version", "a string", value))

    def _strings(self, value: object, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            self.problems.append(_wrong_json(path, "a list of strings", value))
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.problems.append(_wrong_json(f"{path}.{i}", "a string", item))
        return tuple(out)

    def _filters(self, value: object) -> tuple[Filter, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            self.problems.append(_wrong_json("Filters", "a list of objects", value))
            return ()
        out = []
        for i, item in enumerate(value):
            path = f"Filters.{i}"
            if not isinstance(item, Mapping):
                self.problems.append(_wrong_json(path, "an object", item))
                continue
            name = item.get("Name", "")
            if not isinstance(name, str):
                # Reported: no request is built, so the Filter below is never looked at.
                self.problems.append(_wrong_json(f"{path}.Name", "a string", name))
            values = self._strings(item.get("Values"), f"{path}.Values")
            for key in item:
                if key not in ("Name", "Values"):
                    self.problems.append(_unknown_key(f"{path}.{_shown_key(key)}"))
            out.append(Filter(name, values))
        return tuple(out)

    def _int(self, value: object, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(_wrong_json(path, "an integer", value))
            return None
        return value

    def _common(self, value: object, path: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        # A Unix time or a nonce is naturally a JSON number: its decimal digits are
        # exactly what goes on the wire, so it is kept, not coerced (spec/README.md §2.6).
        if path in ("Timestamp", "Nonce") and type(value) is int and value >= 0:
            text = int_text(value, self.limits)
            if text is None:
                self.problems.append(_too_many_digits(path, self.limits))
            return text
        self.problems.append(_wrong_json(path, "a string", value))
        return None


_KNOWN_KEYS = frozenset({"ImageIds", "Filters", "Offset", "Limit", "Version", *COMMON_PARAMETERS})


def _shown_key(key: object) -> str:
    """A JSON member name as a path segment: text as it is, a lone surrogate escaped."""
    text = key if isinstance(key, str) else repr(key)
    return text if text.isascii() else printable(text, from_bytes=False)


def suggest(key: str) -> str | None:
    """The defined parameter an unknown key most likely meant (spec/README.md §2.5), or None.

    >>> suggest("Filter.1.Value.1")
    'Filters.1.Values.1'
    """
    segs = key.split(".")
    segs[0] = TOP_LEVEL_SUGGESTIONS.get(segs[0].lower(), segs[0])
    if segs[0] == "Filters" and len(segs) > 2:
        segs[2] = FILTER_FIELD_SUGGESTIONS.get(segs[2].lower(), segs[2])
    better = ".".join(segs)
    return None if better == key else better


# InstanceType is a member of API 3.0's DescribeImages model, so clients built from that
# model send it; the message says why 2017-03-12 refuses it (spec/README.md §2.5). The JSON
# door (_json.py) says the same.
INSTANCE_TYPE_MESSAGE = (
    "unknown parameter InstanceType: a member of API 3.0's DescribeImages model, "
    "not a parameter of Version 2017-03-12, which this library implements"
)


def unknown_parameter(key: str) -> Violation:
    """The ``UnknownParameter`` violation for ``key``, with a suggestion when one is near."""
    if key == "InstanceType":
        return violation("unknown-parameter", key, INSTANCE_TYPE_MESSAGE)
    message = f"unknown parameter {key}"
    better = suggest(key)
    if better is not None:
        message += f"; did you mean {better}?"
    return violation("unknown-parameter", key, message)


def _unknown_key(key: object) -> Violation:
    return unknown_parameter(_shown_key(key))
