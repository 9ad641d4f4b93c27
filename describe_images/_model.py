"""The typed request: frozen value types, and their PascalCase JSON shape.

A request that breaks a rule (11 filters, Limit 1000) can still be built, so that it can
be reported (spec/README.md §2.6); only the shape and the types are enforced here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import RULE_RANK, RequestError, Violation, violation
from ._spec import (
    ACTION,
    COMMON_PARAMETERS,
    FILTER_FIELD_SUGGESTIONS,
    TOP_LEVEL_SUGGESTIONS,
    VERSION,
)


def _as_tuple(owner: object, name: str, value: object) -> None:
    if type(value) is tuple:
        return
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{type(owner).__name__}.{name} must be a tuple, not {value!r:.60}")
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
    """The common request parameters; every field is optional and kept as sent (a str)."""

    action: str | None = None
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
        """The set parameters as (wire name, value), in encoding order."""
        return [
            (wire, value)
            for wire, attr in COMMON_PARAMETERS.items()
            if (value := getattr(self, attr)) is not None
        ]


DEFAULT_COMMON = CommonParams(action=ACTION)

_new = object.__new__
_set = object.__setattr__


def trusted_filter(name: str, values: tuple[str, ...]) -> Filter:
    """A Filter from a str and a tuple the caller guarantees (the decoder's fast path):
    the same value as ``Filter(name, values)``, without the per-call checks."""
    made: Filter = _new(Filter)
    _set(made, "name", name)
    _set(made, "values", values)
    return made


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
        if type(self.image_ids) is not tuple:
            _as_tuple(self, "image_ids", self.image_ids)
        if type(self.filters) is not tuple:
            _as_tuple(self, "filters", self.filters)

    @property
    def effective_offset(self) -> int:
        return 0 if self.offset is None else self.offset

    @property
    def effective_limit(self) -> int:
        return 20 if self.limit is None else self.limit

    def to_dict(self) -> dict[str, Any]:
        """The PascalCase JSON shape of the official SDK's model (set fields only)."""
        out: dict[str, Any] = {}
        if self.image_ids:
            out["ImageIds"] = list(self.image_ids)
        if self.filters:
            out["Filters"] = [f.to_dict() for f in self.filters]
        if self.offset is not None:
            out["Offset"] = self.offset
        if self.limit is not None:
            out["Limit"] = self.limit
        out.update(self.common.items())
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DescribeImagesRequest:
        """Build a request from its JSON shape; wrong types are refused, never coerced.

        >>> DescribeImagesRequest.from_dict({"ImageIds": ["img-pmqg1cw7"]}).image_ids
        ('img-pmqg1cw7',)
        """
        return _FromDict(data).build()


def _wrong_type(path: str, expected: str, value: object) -> Violation:
    got = "a bool" if isinstance(value, bool) else f"a {_json_type(value)}"
    where = path or "the request"
    return violation("wrong-type", path, f"{where} must be {expected}, not {got}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


class _FromDict:
    """Collects every type problem of a JSON request, then builds it or raises."""

    def __init__(self, data: object) -> None:
        self.data = data
        self.problems: list[Violation] = []

    def build(self) -> DescribeImagesRequest:
        data = self.data
        if not isinstance(data, Mapping):
            raise RequestError([_wrong_type("", "an object", data)])
        image_ids = self._strings(data.get("ImageIds"), "ImageIds")
        filters = self._filters(data.get("Filters"))
        offset = self._int(data.get("Offset"), "Offset")
        limit = self._int(data.get("Limit"), "Limit")
        common = {}
        for wire, attr in COMMON_PARAMETERS.items():
            common[attr] = self._common(data.get(wire), wire)
        version = data.get("Version")
        if version is not None and version != VERSION:
            if isinstance(version, str):
                self.problems.append(
                    violation(
                        "unsupported-version",
                        "Version",
                        f"Version {version!r} is not supported; use {VERSION!r}",
                    )
                )
            else:
                self.problems.append(_wrong_type("Version", "a string", version))
        for key in data:
            if key not in _KNOWN_KEYS:
                self.problems.append(_unknown_key(key))
        if self.problems:
            # Rule order, then the order of the keys in the JSON object (spec/README.md §2.4).
            order = {key: i for i, key in enumerate(data)}
            raise RequestError(
                sorted(
                    self.problems,
                    key=lambda v: (RULE_RANK[v.reason], order.get(v.path.split(".")[0], -1)),
                )
            )
        if common["action"] is None:
            common["action"] = ACTION
        return DescribeImagesRequest(
            image_ids=image_ids,
            filters=filters,
            offset=offset,
            limit=limit,
            common=CommonParams(**common),
        )

    def _strings(self, value: object, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            self.problems.append(_wrong_type(path, "a list of strings", value))
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.problems.append(_wrong_type(f"{path}.{i}", "a string", item))
        return tuple(out)

    def _filters(self, value: object) -> tuple[Filter, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            self.problems.append(_wrong_type("Filters", "a list of objects", value))
            return ()
        out = []
        for i, item in enumerate(value):
            path = f"Filters.{i}"
            if not isinstance(item, Mapping):
                self.problems.append(_wrong_type(path, "an object", item))
                continue
            name = item.get("Name", "")
            if not isinstance(name, str):
                self.problems.append(_wrong_type(f"{path}.Name", "a string", name))
                name = ""
            values = self._strings(item.get("Values"), f"{path}.Values")
            for key in item:
                if key not in ("Name", "Values"):
                    self.problems.append(_unknown_key(f"{path}.{key}"))
            out.append(Filter(name, values))
        return tuple(out)

    def _int(self, value: object, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(_wrong_type(path, "an integer", value))
            return None
        return value

    def _common(self, value: object, path: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        # A Unix time or a nonce is naturally a JSON number: its decimal digits are
        # exactly what goes on the wire, so it is kept, not coerced (spec/README.md §2.6).
        if path in ("Timestamp", "Nonce") and type(value) is int and value >= 0:
            return str(value)
        self.problems.append(_wrong_type(path, "a string", value))
        return None


_KNOWN_KEYS = frozenset({"ImageIds", "Filters", "Offset", "Limit", "Version", *COMMON_PARAMETERS})


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


def unknown_parameter(key: str) -> Violation:
    """The ``UnknownParameter`` violation for ``key``, with a suggestion when one is near."""
    message = f"unknown parameter {key}"
    better = suggest(key)
    if better is not None:
        message += f"; did you mean {better}?"
    return violation("unknown-parameter", key, message)


def _unknown_key(key: object) -> Violation:
    return unknown_parameter(str(key))
