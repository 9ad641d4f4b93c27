"""The Python constants agree with spec/describe_images.json, the machine-readable spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from describe_images import ErrorCode, _errors, _spec

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "spec" / "describe_images.json").read_text("utf-8")
)


def test_identity() -> None:
    assert SPEC["action"] == _spec.ACTION
    assert SPEC["version"] == _spec.VERSION
    assert SPEC["endpoint"]["host"] == _spec.HOST
    assert SPEC["endpoint"]["path"] == _spec.PATH


def test_limits() -> None:
    assert SPEC["limits"] == {
        "max_filters": _spec.MAX_FILTERS,
        "max_filter_values": _spec.MAX_FILTER_VALUES,
        "max_image_ids": _spec.MAX_IMAGE_IDS,
        "min_limit": _spec.MIN_LIMIT,
        "max_limit": _spec.MAX_LIMIT,
        "default_limit": _spec.DEFAULT_LIMIT,
        "default_offset": _spec.DEFAULT_OFFSET,
        "max_offset": _spec.MAX_OFFSET,
    }
    assert SPEC["filter"]["max_values"] == _spec.MAX_FILTER_VALUES
    params = {p["name"]: p for p in SPEC["parameters"]}
    assert params["Limit"]["maximum"] == _spec.MAX_LIMIT
    assert params["Limit"]["default"] == _spec.DEFAULT_LIMIT
    assert params["Offset"]["maximum"] == _spec.MAX_OFFSET
    assert params["ImageIds"]["max_items"] == _spec.MAX_IMAGE_IDS
    assert params["Filters"]["max_items"] == _spec.MAX_FILTERS
    pattern = _spec.IMAGE_ID_RE.pattern.removesuffix("\\Z")
    assert params["ImageIds"]["pattern"] == f"^{pattern}$"


def test_parameters() -> None:
    names = [p["name"] for p in SPEC["parameters"]]
    assert set(names) == _spec.ALL_PARAMETERS
    common = {p["name"] for p in SPEC["parameters"] if p["common"]}
    assert common == set(_spec.COMMON_PARAMETERS)
    assert SPEC["encoding_order"] == [
        "Action",
        "Version",
        *_spec.BUSINESS_PARAMETERS,
        *[k for k in _spec.COMMON_PARAMETERS if k != "Action"],
    ]
    params = {p["name"]: p for p in SPEC["parameters"]}
    assert tuple(params["SignatureMethod"]["values"]) == _spec.SIGNATURE_METHODS


def test_filters() -> None:
    names = SPEC["filter"]["names"]
    assert tuple(names) == _spec.FILTER_NAMES
    assert tuple(names["image-type"]["values"]) == _spec.IMAGE_TYPES


def test_rules_and_codes() -> None:
    assert [(r["reason"], r["code"]) for r in SPEC["rules"]] == [
        (reason, code.value) for reason, code in _errors.RULES.items()
    ]
    assert SPEC["error_codes"] == [code.value for code in ErrorCode]


def test_suggestions() -> None:
    top = SPEC["suggestions"]["top_level"]
    for wrong, right in top.items():
        assert _spec.TOP_LEVEL_SUGGESTIONS[wrong] == right
    assert SPEC["suggestions"]["filter_fields"] == _spec.FILTER_FIELD_SUGGESTIONS
