"""The wire codec as a whole (spec/README.md Part 1): the spec's vectors and their schema,
properties across both stages, the public submodule, and the decoder's fast path.

Each stage has its own tests: tests/test_pairs.py (bytes <-> pairs) and
tests/test_tree.py (pairs <-> tree)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

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
from tests import vectorfiles
from tests.strategies import wireish_bytes, wireish_queries
from tests.wirecheck import REASONS, Reported, assert_well_formed, query_errors, reported

WIRE_VECTORS: dict[str, Any] = vectorfiles.load("wire.json")
WIRE_SCHEMA: dict[str, Any] = vectorfiles.schemas()["wire.schema.json"]
CASES: list[dict[str, Any]] = WIRE_VECTORS["cases"]
text = vectorfiles.text


# --- spec/vectors/wire.json ---------------------------------------------------------------


def case_limits(case: dict[str, Any]) -> WireLimits:
    return dataclasses.replace(DEFAULT_LIMITS, **case.get("limits", {}))


def expected_pairs(case: dict[str, Any]) -> list[tuple[str, str]]:
    return [(text(k), text(v)) for k, v in case["pairs"]]


def expected_errors(case: dict[str, Any]) -> Reported:
    # Every wire violation is InvalidParameter (spec/README.md §1.7); the path is the key.
    assert {e["code"] for e in case["errors"]} == {"InvalidParameter"}
    return [(e["reason"], text(e["path"])) for e in case["errors"]]


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
    run = {"query": run_query_case, "flatten": run_flatten_case, "format": run_format_case}
    assert case["kind"] in case  # the kind names the input member
    run[case["kind"]](case, limits)


def test_schema_rejects_a_malformed_case() -> None:
    validator = vectorfiles.validator(WIRE_SCHEMA)

    def case(kind: str, **members: object) -> dict[str, object]:
        return {"id": "t", "kind": kind, "description": "d", **members}

    good = case("query", query="A=1", pairs=[["A", "1"]])
    error = {"code": "InvalidParameter", "reason": "bad-pair", "path": ""}
    refused = case("query", query="A", errors=[error])
    assert validator.is_valid({**WIRE_VECTORS, "cases": [good, refused]})
    for bad in (
        {**good, "tree": {"A": "1"}},  # two expectations
        {**good, "id": "Not_Kebab"},
        {**refused, "errors": [{**error, "reason": "no-such-reason"}]},
        {**refused, "errors": [{**error, "reason": "missing-parameter"}]},  # not the codec's
        {**refused, "errors": [{**error, "code": "MissingParameter"}]},
        {**refused, "errors": [{"reason": "bad-pair", "key": ""}]},  # the 1.x shape
        {**refused, "errors": []},  # an expected failure names a violation
        {**good, "kind": "format"},  # the kind names the input
        {key: value for key, value in good.items() if key != "kind"},
        case("query", query="", tree={"A": []}),  # empty list
        case("query", query="", tree={}, encoded=""),  # no base
        case("flatten", flatten={}, pairs=[]),  # no base
        case("flatten", flatten={}, base=0),  # no expectation
        case("flatten", flatten={}, base=0, encoded=""),
        case("format", format=[], pairs=[]),
        case("format", format=[], encoded="", errors=[error]),  # two expectations
        case("format", format=[], query="", encoded=""),  # two inputs
    ):
        assert not validator.is_valid({**WIRE_VECTORS, "cases": [bad]}), bad


def test_vector_default_limits_are_the_codec_defaults() -> None:
    assert WIRE_VECTORS["limits"] == dataclasses.asdict(DEFAULT_LIMITS)
    assert WIRE_VECTORS["limits"] == dataclasses.asdict(WireLimits())


def test_vectors_cover_every_reason_and_kind() -> None:
    seen = {error["reason"] for case in CASES for error in case.get("errors", [])}
    assert seen == REASONS
    assert frozenset(WIRE_SCHEMA["$defs"]["reason"]["enum"]) == REASONS
    assert {case["kind"] for case in CASES} == {"query", "flatten", "format"}


def test_readme_documents_every_reason_and_cap() -> None:
    readme = (vectorfiles.SPEC / "README.md").read_text("utf-8")
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
