"""spec/describe_images.json, the machine-readable spec, is the Python constants: every
member of it is rebuilt here from describe_images' named data and compared whole. And
every JSON file of spec/ keeps its integers exact for any JSON reader (spec/README.md
§Vector files, "Numbers")."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from describe_images import ErrorCode, _errors, _spec

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
SPEC: dict[str, Any] = json.loads((SPEC_DIR / "describe_images.json").read_text("utf-8"))

# The largest integer every JSON reader reads exactly: an IEEE 754 double holds every
# integer up to 2^53 - 1 (JavaScript's Number.MAX_SAFE_INTEGER; Go's default decoding).
MAX_SAFE_INTEGER = 2**53 - 1


def json_integer(value: int) -> int | str:
    """An integer as spec/ writes it: a JSON number when every reader reads it exactly,
    else its decimal digits as a string (spec/README.md §Vector files, "Numbers")."""
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(value)


def pattern(regex: re.Pattern[str]) -> str:
    """A Python full-match regex (``...\\Z``) as the spec writes it (``^...$``)."""
    # spec/README.md §Vector files, "Patterns": the whole text, and "." is every code point.
    assert regex.pattern.endswith("\\Z"), regex.pattern
    assert "." not in regex.pattern.replace("\\.", "") or regex.flags & re.DOTALL, regex.pattern
    return f"^{regex.pattern.removesuffix(chr(92) + 'Z')}$"


def parameter(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "type": _spec.PARAMETER_TYPES[name],
        "required": name in _spec.REQUIRED_PARAMETERS,
        "common": name in _spec.COMMON_PARAMETERS,
    }
    if name == "Action":
        entry["values"] = [_spec.ACTION]
    elif name == "Version":
        entry["values"] = [_spec.VERSION]
    elif name == "ImageIds":
        entry |= {"max_items": _spec.MAX_IMAGE_IDS, "pattern": pattern(_spec.IMAGE_ID_RE)}
    elif name == "Filters":
        entry["max_items"] = _spec.MAX_FILTERS
    elif name == "Offset":
        entry |= {
            "minimum": _spec.MIN_OFFSET,
            "maximum": json_integer(_spec.MAX_OFFSET),
            "default": _spec.DEFAULT_OFFSET,
        }
    elif name == "Limit":
        entry |= {
            "minimum": _spec.MIN_LIMIT,
            "maximum": _spec.MAX_LIMIT,
            "default": _spec.DEFAULT_LIMIT,
        }
    elif name == "SignatureMethod":
        entry["values"] = list(_spec.SIGNATURE_METHODS)
    return entry


def expected_spec() -> dict[str, Any]:
    return {
        "spec_version": _spec.SPEC_VERSION,
        "action": _spec.ACTION,
        "version": _spec.VERSION,
        "endpoint": {"host": _spec.HOST, "path": _spec.PATH, "methods": list(_spec.METHODS)},
        "parameters": [parameter(name) for name in _spec.PARAMETER_TYPES],
        "encoding_order": [
            "Action",
            "Version",
            *_spec.BUSINESS_PARAMETERS,
            *[k for k in _spec.COMMON_PARAMETERS if k != "Action"],
        ],
        "filter": {
            "fields": list(_spec.FILTER_FIELDS),
            "max_values": _spec.MAX_FILTER_VALUES,
            "names": {
                _spec.FILTER_IMAGE_ID: {
                    "match": "exact",
                    "value_pattern": pattern(_spec.IMAGE_ID_RE),
                },
                _spec.FILTER_IMAGE_TYPE: {"match": "exact", "values": list(_spec.IMAGE_TYPES)},
                _spec.FILTER_IMAGE_NAME: {
                    "match": "exact",
                    "value_pattern": pattern(_spec.IMAGE_NAME_RE),
                },
            },
        },
        "limits": {
            "max_filters": _spec.MAX_FILTERS,
            "max_filter_values": _spec.MAX_FILTER_VALUES,
            "max_image_ids": _spec.MAX_IMAGE_IDS,
            "min_limit": _spec.MIN_LIMIT,
            "max_limit": _spec.MAX_LIMIT,
            "default_limit": _spec.DEFAULT_LIMIT,
            "default_offset": _spec.DEFAULT_OFFSET,
            "max_offset": json_integer(_spec.MAX_OFFSET),
        },
        "rules": [
            {"reason": reason, "code": code.value, "path": _spec.RULE_PATHS[reason]}
            for reason, code in _errors.RULES.items()
        ],
        "wire_reasons": list(_errors.WIRE_REASONS),
        "violation_order": _spec.VIOLATION_ORDER,
        "suggestions": {
            "top_level": _spec.AWS_SUGGESTIONS,
            "case_insensitive_top_level": True,
            "filter_fields": _spec.FILTER_FIELD_SUGGESTIONS,
        },
        "error_codes": [code.value for code in ErrorCode],
    }


def test_the_spec_data_is_the_python_constants() -> None:
    expected = expected_spec()
    assert list(SPEC) == list(expected)  # the same members, in the same order
    for member, value in expected.items():
        assert SPEC[member] == value, member


def test_the_constants_are_consistent() -> None:
    assert set(_spec.PARAMETER_TYPES) == _spec.ALL_PARAMETERS
    assert set(_spec.RULE_PATHS) == set(_errors.RULES)
    assert set(_spec.FILTER_NAMES) == set(SPEC["filter"]["names"])
    # Case-insensitive suggestions: every parameter, lower-cased, suggests itself.
    for name in _spec.ALL_PARAMETERS:
        assert _spec.TOP_LEVEL_SUGGESTIONS[name.lower()] == name
    # Every reason the library reports has exactly one code (one closed vocabulary).
    assert set(_errors.REASONS) == {
        *_errors.WIRE_REASONS,
        *_errors.RULES,
        *_errors.JSON_REASONS,
        *_errors.API3_REASONS,
        *_errors.AUTH_REASONS,
        *_errors.DOCUMENT_REASONS,
    }
    assert {code.value for code in _errors.REASONS.values()} <= {c.value for c in ErrorCode}


def _numbers(node: object) -> list[int | float]:
    """Every JSON number in a document, without recursion."""
    found: list[int | float] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            found.append(item)
    return found


def test_every_integer_in_spec_is_safe_for_any_json_reader() -> None:
    files = sorted(SPEC_DIR.rglob("*.json"))
    assert len(files) >= 13  # describe_images.json, the vectors and their schemas
    for path in files:
        for number in _numbers(json.loads(path.read_text("utf-8"))):
            if isinstance(number, int):
                assert abs(number) <= MAX_SAFE_INTEGER, (path.name, number)
            else:
                # A number with a fraction or an exponent (1.5, 1e+18) is read as the same
                # double by every reader.
                assert math.isfinite(number), (path.name, number)


def test_json_integer_convention() -> None:
    assert json_integer(MAX_SAFE_INTEGER) == MAX_SAFE_INTEGER
    assert json_integer(-MAX_SAFE_INTEGER) == -MAX_SAFE_INTEGER
    assert json_integer(MAX_SAFE_INTEGER + 1) == "9007199254740992"
    assert json_integer(-(2**63)) == "-9223372036854775808"
    # Read back, a string limit is the same integer.
    assert int(SPEC["limits"]["max_offset"]) == _spec.MAX_OFFSET == 2**63 - 1
