"""The wire codec as a whole (spec/README.md Part 1): the spec's vectors and their schema,
properties across both stages, the public submodule, and the decoder's fast path.

Each stage has its own tests: tests/test_pairs.py (bytes <-> pairs) and
tests/test_tree.py (pairs <-> tree)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import WireError, _grammar, _pairs, wire
from describe_images.wire import (
    DEFAULT_LIMITS,
    Node,
    WireLimits,
    flatten,
    format_query,
    parse_query,
    unflatten,
)
from tests.strategies import wireish_bytes, wireish_queries
from tests.wirecheck import REASONS, Reported, assert_well_formed, query_errors, reported

SPEC = Path(__file__).resolve().parent.parent / "spec"
WIRE_VECTORS: dict[str, Any] = json.loads((SPEC / "vectors" / "wire.json").read_text("utf-8"))
WIRE_SCHEMA: dict[str, Any] = json.loads((SPEC / "schema" / "wire.schema.json").read_text("utf-8"))
CASES: list[dict[str, Any]] = WIRE_VECTORS["cases"]


# --- spec/vectors/wire.json ---------------------------------------------------------------


def text(value: str | dict[str, Any]) -> str:
    """A vector string: literal, or {prefix?, repeat, times, suffix?} (spec/README.md)."""
    if isinstance(value, str):
        return value
    prefix: str = value.get("prefix", "")
    suffix: str = value.get("suffix", "")
    repeated: str = value["repeat"] * value["times"]
    return prefix + repeated + suffix


def case_limits(case: dict[str, Any]) -> WireLimits:
    return dataclasses.replace(DEFAULT_LIMITS, **case.get("limits", {}))


def expected_pairs(case: dict[str, Any]) -> list[tuple[str, str]]:
    return [(text(k), text(v)) for k, v in case["pairs"]]


def expected_errors(case: dict[str, Any]) -> Reported:
    return [(e["reason"], text(e["key"])) for e in case["errors"]]


def in_decimal(node: object) -> Node:
    """A JSON tree as unflatten gives it back: each integer written in decimal."""
    if isinstance(node, Mapping):
        return {k: in_decimal(v) for k, v in node.items()}
    if isinstance(node, list):
        return [in_decimal(v) for v in cast(Sequence[object], node)]
    return node if isinstance(node, str) else str(node)


def query_forms(case: dict[str, Any]) -> list[str | bytes]:
    """The query as text and as its UTF-8 bytes, or only the form its "as" names; as
    bytes, U+DC80-U+DCFF stand for the raw bytes 0x80-0xFF (spec/README.md §Vector files)."""
    query = text(case["query"])
    forms: dict[str, str | bytes] = {"text": query}
    if case.get("as") != "text":
        forms["bytes"] = query.encode("utf-8", "surrogateescape")
    return [forms[case["as"]]] if "as" in case else list(forms.values())


def run_query_case(case: dict[str, Any], limits: WireLimits) -> None:
    for given_query in query_forms(case):
        if "errors" in case:
            assert query_errors(given_query, limits) == expected_errors(case)
        elif "pairs" in case:
            assert parse_query(given_query, limits=limits) == expected_pairs(case)
        else:
            tree = unflatten(parse_query(given_query, limits=limits), limits=limits)
            assert tree == case["tree"]
            assert list(tree) == list(case["tree"])  # member order is first appearance
    if "encoded" in case:
        if "pairs" in case:
            assert format_query(expected_pairs(case), limits=limits) == case["encoded"]
            assert parse_query(case["encoded"], limits=limits) == expected_pairs(case)
        else:
            pairs = flatten(case["tree"], base=case["base"], limits=limits)
            assert format_query(pairs, limits=limits) == case["encoded"]
            assert unflatten(parse_query(case["encoded"], limits=limits)) == case["tree"]


def run_flatten_case(case: dict[str, Any], limits: WireLimits) -> None:
    tree = case["flatten"]
    if "errors" in case:
        with pytest.raises(WireError) as info:
            flatten(tree, base=case["base"], limits=limits)
        assert reported(info.value) == expected_errors(case)
        return
    pairs = flatten(tree, base=case["base"], limits=limits)
    assert pairs == expected_pairs(case)
    assert unflatten(pairs, limits=limits) == in_decimal(tree)


def run_format_case(case: dict[str, Any], limits: WireLimits) -> None:
    given_pairs = case["format"]
    if isinstance(given_pairs, list):  # each JSON array is a pair: a tuple of its elements
        given_pairs = [tuple(item) if isinstance(item, list) else item for item in given_pairs]
    if "errors" in case:
        with pytest.raises(WireError) as info:
            format_query(given_pairs, limits=limits)
        assert reported(info.value) == expected_errors(case)
        return
    query = format_query(given_pairs, limits=limits)
    assert query == case["encoded"]
    assert parse_query(query, limits=limits) == given_pairs


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_wire_vector(case: dict[str, Any]) -> None:
    limits = case_limits(case)
    if "flatten" in case:
        run_flatten_case(case, limits)
    elif "format" in case:
        run_format_case(case, limits)
    else:
        run_query_case(case, limits)


def vector_files() -> list[Path]:
    return sorted((SPEC / "vectors").glob("*.json"))


def schema_of(path: Path, document: dict[str, Any]) -> Path:
    """A vector file's schema: the one its "$schema" names (relative to the file), else
    spec/schema/<name>.schema.json (spec/README.md §Vector files)."""
    named = document.get("$schema")
    if isinstance(named, str):
        return (path.parent / named).resolve()
    return SPEC / "schema" / f"{path.stem}.schema.json"


@pytest.mark.parametrize("path", vector_files(), ids=lambda path: path.name)
def test_vector_file_matches_its_schema(path: Path) -> None:
    document = json.loads(path.read_text("utf-8"))
    schema_path = schema_of(path, document)
    assert schema_path.is_file(), f"{path.name} has no schema ({schema_path.name})"
    schema = json.loads(schema_path.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft202012Validator(schema).iter_errors(document)
    ]
    assert problems == []
    ids = [case["id"] for case in document.get("cases", [])]
    assert [i for i in ids if ids.count(i) > 1] == []


def test_every_schema_is_used_by_a_vector_file() -> None:
    used = {
        schema_of(path, json.loads(path.read_text("utf-8"))).resolve() for path in vector_files()
    }
    assert {path.resolve() for path in (SPEC / "schema").glob("*.json")} <= used


def test_schema_rejects_a_malformed_case() -> None:
    validator = jsonschema.Draft202012Validator(WIRE_SCHEMA)
    good = {"id": "a-b", "description": "d", "query": "A=1", "pairs": [["A", "1"]]}
    assert validator.is_valid({**WIRE_VECTORS, "cases": [good]})
    for bad in (
        {**good, "tree": {"A": "1"}},  # two expectations
        {**good, "id": "Not_Kebab"},
        {**good, "errors": [{"reason": "no-such-reason", "key": ""}], "pairs": None},
        {"id": "t", "description": "d", "query": "", "tree": {"A": []}},  # empty list
        {"id": "t", "description": "d", "query": "", "tree": {}, "encoded": ""},  # no base
        {"id": "t", "description": "d", "flatten": {}, "pairs": []},  # no base
        {"id": "t", "description": "d", "flatten": {}, "base": 0},  # no expectation
        {"id": "t", "description": "d", "flatten": {}, "base": 0, "encoded": ""},
        {"id": "t", "description": "d", "format": [], "pairs": []},
        {
            "id": "t",
            "description": "d",
            "format": [],
            "encoded": "",
            "errors": [{"reason": "bad-pair", "key": ""}],
        },  # two expectations
        {"id": "t", "description": "d", "format": [], "query": "", "encoded": ""},  # two inputs
    ):
        assert not validator.is_valid({**WIRE_VECTORS, "cases": [bad]}), bad


def test_vector_default_limits_are_the_codec_defaults() -> None:
    assert WIRE_VECTORS["limits"] == dataclasses.asdict(DEFAULT_LIMITS)
    assert WIRE_VECTORS["limits"] == dataclasses.asdict(WireLimits())


def test_vectors_cover_every_reason_and_kind() -> None:
    seen = {error["reason"] for case in CASES for error in case.get("errors", [])}
    assert seen == REASONS
    assert frozenset(WIRE_SCHEMA["$defs"]["reason"]["enum"]) == REASONS
    kinds = {"flatten" if "flatten" in c else "format" if "format" in c else "query" for c in CASES}
    assert kinds == {"query", "flatten", "format"}


def test_readme_documents_every_reason_and_cap() -> None:
    readme = (SPEC / "README.md").read_text("utf-8")
    table = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, re.MULTILINE))
    assert table >= REASONS
    for name, default in dataclasses.asdict(DEFAULT_LIMITS).items():
        assert re.search(rf"^\| `{name}` \| {default:,} \|", readme, re.MULTILINE), name


# --- Properties ------------------------------------------------------------------------------


# What a query comes to: ("pairs", pairs, tree errors or []) or ("error", parse errors, []).
Outcome = tuple[str, list[tuple[str, str]], Reported]


def query_outcome(query: str | bytes) -> Outcome:
    """Parse then unflatten, checking whatever comes out; no other exception may escape."""
    try:
        pairs = parse_query(query)
    except WireError as error:
        assert_well_formed(error)
        return ("error", reported(error), [])
    for key, value in pairs:
        assert len(key) <= DEFAULT_LIMITS.max_key_length
        assert len(value) <= DEFAULT_LIMITS.max_value_length
        assert not _grammar.CONTROL_RE.search(key + value)
    assert parse_query(format_query(pairs)) == pairs
    try:
        tree = unflatten(pairs)
    except WireError as error:
        assert_well_formed(error)
        return ("pairs", pairs, reported(error))
    assert unflatten(flatten(tree)) == tree
    return ("pairs", pairs, [])


@given(st.one_of(wireish_queries(), st.text()))
def test_parse_query_is_total_on_str(query: str) -> None:
    outcome = query_outcome(query)
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in query):
        # The same text as UTF-8 bytes is read the same way.
        assert query_outcome(query.encode("utf-8")) == outcome
    else:
        assert outcome[0] == "error"


@given(st.one_of(wireish_bytes(), st.binary()))
def test_parse_query_is_total_on_bytes(query: bytes) -> None:
    outcome = query_outcome(query)
    try:
        as_text = query.decode("utf-8")
    except UnicodeDecodeError:
        assert outcome[0] == "error"  # bytes that are not UTF-8 never parse
    else:
        assert query_outcome(as_text) == outcome


def test_public_submodule_exports() -> None:
    assert set(wire.__all__) == {
        "DEFAULT_LIMITS", "Node", "Pairs", "WireError", "WireLimits",
        "flatten", "format_query", "parse_query", "quote", "unflatten",
    }  # fmt: skip
    assert wire.WireError is WireError
    assert wire.parse_query is _pairs.parse_query
