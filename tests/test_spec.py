"""spec/describe_images.json, the machine-readable spec, is the Python constants: every
member of it is rebuilt here from describe_images' named data and compared whole."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from describe_images import ErrorCode, _errors, _spec

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "spec" / "describe_images.json").read_text("utf-8")
)


def pattern(regex: re.Pattern[str]) -> str:
    """A Python full-match regex (``...\\Z``) as the spec writes it (``^...$``)."""
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
            "maximum": _spec.MAX_OFFSET,
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
            "max_offset": _spec.MAX_OFFSET,
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
        *_errors.AUTH_REASONS,
        *_errors.DOCUMENT_REASONS,
    }
    assert {code.value for code in _errors.REASONS.values()} <= {c.value for c in ErrorCode}
