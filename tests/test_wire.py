"""The wire codec (describe_images._wire): spec vectors, properties, and one test per rule."""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import (
    DescribeImagesError,
    ErrorCode,
    WireError,
    _grammar,
    _pairs,
    wire,
)
from describe_images.wire import (
    DEFAULT_LIMITS,
    Node,
    WireLimits,
    flatten,
    format_query,
    parse_query,
    quote,
    unflatten,
)
from tests.strategies import (
    any_text,
    hostile_pair_items,
    wire_pairs,
    wire_trees,
    wireish_bytes,
    wireish_keys,
    wireish_queries,
)

SPEC = Path(__file__).resolve().parent.parent / "spec"
WIRE_VECTORS: dict[str, Any] = json.loads((SPEC / "vectors" / "wire.json").read_text("utf-8"))
WIRE_SCHEMA: dict[str, Any] = json.loads((SPEC / "schema" / "wire.schema.json").read_text("utf-8"))
CASES: list[dict[str, Any]] = WIRE_VECTORS["cases"]
# Every reason the codec may give (the schema's closed vocabulary).
REASONS = frozenset(WIRE_SCHEMA["$defs"]["reason"]["enum"])
# Reasons only a caller handing over something other than str/bytes/pairs can cause.
API_ONLY_REASONS = frozenset({"bad-pair"})

Reported = list[tuple[str, str]]


def reported(error: WireError) -> Reported:
    return [(v.reason, v.key) for v in error.violations]


def wire_error(call: Any, *args: Any, **kwargs: Any) -> WireError:
    with pytest.raises(WireError) as info:
        call(*args, **kwargs)
    return info.value


def parse_errors(query: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> Reported:
    return reported(wire_error(parse_query, query, limits=limits))


def tree_errors(pairs: Iterable[object], limits: WireLimits = DEFAULT_LIMITS) -> Reported:
    return reported(wire_error(unflatten, pairs, limits=limits))


def query_errors(query: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> Reported:
    """The violations of parse_query, or else of unflatten (one of them must raise)."""
    with pytest.raises(WireError) as info:
        unflatten(parse_query(query, limits=limits), limits=limits)
    return reported(info.value)


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


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_wire_vector(case: dict[str, Any]) -> None:
    limits = case_limits(case)
    query = text(case["query"])
    # Every vector holds for the query as text and as its UTF-8 bytes.
    for given_query in (query, query.encode("utf-8")):
        if "errors" in case:
            want = [(e["reason"], text(e["key"])) for e in case["errors"]]
            assert query_errors(given_query, limits) == want
        elif "pairs" in case:
            assert parse_query(given_query, limits=limits) == expected_pairs(case)
        else:
            tree = unflatten(parse_query(given_query, limits=limits), limits=limits)
            assert tree == case["tree"]
            assert list(tree) == list(case["tree"])  # member order is first appearance
    if "encoded" in case:
        if "pairs" in case:
            assert format_query(expected_pairs(case)) == case["encoded"]
            assert parse_query(case["encoded"], limits=limits) == expected_pairs(case)
        else:
            assert format_query(flatten(case["tree"], base=case["base"])) == case["encoded"]
            assert unflatten(parse_query(case["encoded"], limits=limits)) == case["tree"]


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
    ):
        assert not validator.is_valid({**WIRE_VECTORS, "cases": [bad]}), bad


def test_vector_default_limits_are_the_codec_defaults() -> None:
    assert WIRE_VECTORS["limits"] == dataclasses.asdict(DEFAULT_LIMITS)
    assert WIRE_VECTORS["limits"] == dataclasses.asdict(WireLimits())


def test_vectors_cover_every_reason() -> None:
    seen = {error["reason"] for case in CASES for error in case.get("errors", [])}
    assert seen == REASONS - API_ONLY_REASONS


def test_readme_documents_every_reason_and_cap() -> None:
    readme = (SPEC / "README.md").read_text("utf-8")
    table = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, re.MULTILINE))
    assert table >= REASONS
    for name, default in dataclasses.asdict(DEFAULT_LIMITS).items():
        assert re.search(rf"^\| `{name}` \| {default:,} \|", readme, re.MULTILINE), name


# --- Properties ------------------------------------------------------------------------------


@given(wire_trees(), st.sampled_from([0, 1]))
def test_unflatten_inverts_flatten(tree: dict[str, Node], base: int) -> None:
    pairs = flatten(tree, base=1 if base else 0)
    assert unflatten(pairs) == tree
    # ...and the pairs survive the trip back: order kept, lists indexed from base.
    assert flatten(unflatten(pairs), base=1 if base else 0) == pairs
    assert unflatten(parse_query(format_query(pairs))) == tree


@given(wire_pairs())
def test_parse_query_inverts_format_query(pairs: list[tuple[str, str]]) -> None:
    query = format_query(pairs)
    assert query.isascii()
    assert parse_query(query) == pairs
    assert parse_query(query.encode("ascii")) == pairs


@given(wire_pairs(any_text(60)))
def test_format_query_matches_urlencode(pairs: list[tuple[str, str]]) -> None:
    assert format_query(pairs) == urllib.parse.urlencode(pairs)


@given(any_text(60))
def test_quote_matches_quote_plus(value: str) -> None:
    assert quote(value) == urllib.parse.quote_plus(value, safe="")


@given(st.one_of(wireish_queries(), st.text(max_size=60)))
def test_parse_query_agrees_with_parse_qsl(query: str) -> None:
    try:
        pairs = parse_query(query)
    except WireError as error:
        pairs, reasons = [], {v.reason for v in error.violations}
    else:
        reasons = set()
    if reasons:
        assert reasons <= REASONS
    else:
        assert pairs == urllib.parse.parse_qsl(query, keep_blank_values=True, errors="strict")


def assert_well_formed(error: WireError) -> None:
    assert error.violations
    assert isinstance(error, DescribeImagesError)
    for violation in error.violations:
        assert violation.code == ErrorCode.INVALID_PARAMETER
        assert violation.reason in REASONS
        assert violation.key == violation.path
        assert violation.message
        # Paths and messages can always be written out (no lone surrogates).
        violation.path.encode("utf-8")
        violation.message.encode("utf-8")


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


@given(hostile_pair_items())
def test_unflatten_is_total_on_arbitrary_items(items: list[Any]) -> None:
    try:
        tree = unflatten(items)
    except WireError as error:
        assert_well_formed(error)
    else:
        assert all(isinstance(item, tuple) for item in items)
        assert unflatten(flatten(tree)) == tree


@given(st.one_of(st.text(max_size=20), st.binary(max_size=20)))
def test_unflatten_is_total_on_str_and_bytes(data: str | bytes) -> None:
    # Iterating a str or bytes gives characters or ints, never pairs.
    if not data:
        assert unflatten(data) == {}  # type: ignore[arg-type]
        return
    error = wire_error(unflatten, data)
    assert {v.reason for v in error.violations} == {"bad-pair"}
    assert len(error.violations) == len(data)


@given(st.lists(st.tuples(wireish_keys(), st.sampled_from(["x", "", "\x00"])), max_size=12))
def test_unflatten_error_order_is_wire_order(pairs: list[tuple[str, str]]) -> None:
    """Violations come in the order of the pairs they concern, whatever pass found them:
    each names a key (or a prefix of one) at or after the previous violation's pair."""
    try:
        unflatten(pairs)
    except WireError as error:
        position = 0
        for violation in error.violations:
            later = [
                p for p in range(position, len(pairs)) if pairs[p][0].startswith(violation.key)
            ]
            assert later, (violation, pairs)
            position = later[0]


# --- parse_query: splitting and decoding -------------------------------------------------


def test_parse_query_accepts_bytearray_and_memoryview() -> None:
    query = b"A=1&B=%C3%A9"
    want = [("A", "1"), ("B", "é")]
    assert parse_query(bytearray(query)) == want
    assert parse_query(memoryview(query)) == want


def test_parse_query_refuses_other_types() -> None:
    error = wire_error(parse_query, 12)
    assert reported(error) == [("bad-pair", "")]
    assert error.violations[0].message == "a query is str or bytes, not int"


@pytest.mark.parametrize(
    ("query", "want"),
    [
        (b"A=\xff", [("bad-utf8", "A")]),
        (b"\xff=1", [("bad-utf8", "\\xff")]),
        (b"A\xc3=1", [("bad-utf8", "A\\xc3")]),
        (b"\xc3\xa9\xff=1", [("bad-utf8", "é\\xff")]),
        (b"A=\xed\xa0\x80", [("bad-utf8", "A")]),  # a UTF-8-encoded surrogate
        (b"A=\xc0\xaf", [("bad-utf8", "A")]),  # overlong
        # Reported with every other problem, in wire order.
        (b"A=\xff&B=%ZZ&\xfe=2&C=%00", [
            ("bad-utf8", "A"), ("bad-percent-escape", "B"), ("bad-utf8", "\\xfe"),
            ("control-character", "C"),
        ]),
    ],
)  # fmt: skip
def test_raw_bytes_that_are_not_utf8(query: bytes, want: Reported) -> None:
    assert parse_errors(query) == want


def test_lone_surrogates_in_str() -> None:
    assert parse_errors("A=\ud800&\udc80=1&B=ok") == [("bad-utf8", "A"), ("bad-utf8", "\\udc80")]


def test_bad_utf8_messages() -> None:
    error = wire_error(parse_query, b"\xfe\x01=1&A=\xff&B=%FF")
    assert [v.message for v in error.violations] == [
        "the key '\\xfe\\x01' is not valid UTF-8",
        "the value of 'A' is not valid UTF-8",
        "the value of 'B' does not percent-decode to UTF-8",
    ]
    error = wire_error(parse_query, "\ud800=1")
    assert error.violations[0].message == "the key '\\ud800' is not valid UTF-8"


def test_fast_path_and_slow_path_agree() -> None:
    assert parse_query("A=a+b") == parse_query("A=a%20b") == [("A", "a b")]
    assert parse_query("A=%41") == parse_query("A=A") == [("A", "A")]


def test_percent_messages() -> None:
    error = wire_error(parse_query, "B%ZZ=1&A=100%")
    assert [v.message for v in error.violations] == [
        "the key 'B%ZZ' has a '%' not followed by two hex digits; write a literal '%' as %25",
        "the value of 'A' has a '%' not followed by two hex digits; write a literal '%' as %25",
    ]


def test_control_character_messages() -> None:
    error = wire_error(parse_query, "A%00=1&B=%7F")
    assert [v.message for v in error.violations] == [
        "the key 'A\\x00' contains a control character (U+0000-U+001F or U+007F)",
        "the value of 'B' contains a control character (U+0000-U+001F or U+007F)",
    ]


@pytest.mark.parametrize("control", [chr(c) for c in [*range(0x20), 0x7F]])
def test_every_control_character_is_refused(control: str) -> None:
    assert parse_errors(f"A=a{control}b") == [("control-character", "A")]
    assert parse_errors(f"A={quote(control)}") == [("control-character", "A")]
    assert tree_errors([(f"A{control}", "x")]) == [("control-character", f"A{control}")]


# --- caps -----------------------------------------------------------------------------------

MIB = 1 << 20


@pytest.mark.parametrize("query", ["A=" + "x" * MIB, b"A=" + b"x" * MIB, "&" * MIB])
def test_a_one_mib_query_is_refused_by_its_size(query: str | bytes) -> None:
    error = wire_error(parse_query, query)
    assert reported(error) == [("too-large", "")]
    size = len(query)
    assert error.violations[0].message == (
        f"the query is {size} bytes; at most 65536 are allowed (max_query_bytes)"
    )


def test_a_large_non_ascii_str_is_refused_without_encoding_it() -> None:
    error = wire_error(parse_query, "é" * MIB)
    assert error.violations[0].message == (
        f"the query is at least {MIB} bytes; at most 65536 are allowed (max_query_bytes)"
    )


def test_query_size_counts_utf8_bytes_of_str() -> None:
    limits = WireLimits(max_query_bytes=10)
    assert parse_query("A=" + "é" * 4, limits=limits) == [("A", "éééé")]  # 10 bytes
    error = wire_error(parse_query, "A=" + "é" * 5, limits=limits)  # 12 bytes, 7 characters
    assert error.violations[0].message == (
        "the query is 12 bytes; at most 10 are allowed (max_query_bytes)"
    )
    # A lone surrogate is counted (3 bytes) before it is refused.
    assert parse_errors("A=\ud800\ud800\ud800", limits) == [("too-large", "")]


def test_too_many_pairs_message() -> None:
    error = wire_error(parse_query, "A&" * 513)
    assert (
        error.violations[0].message
        == "the query has 513 pairs; at most 512 are allowed (max_pairs)"
    )


def test_key_and_value_length_messages() -> None:
    error = wire_error(parse_query, "K" * 129 + "=1&A=" + "v" * 4097)
    assert [(v.reason, v.key, v.message) for v in error.violations] == [
        (
            "too-large",
            "K" * 128,
            f"the key {'K' * 60!r}... is 129 characters long; "
            "at most 128 are allowed (max_key_length)",
        ),
        (
            "too-large",
            "A",
            "the value of 'A' is 4097 characters long; at most 4096 are allowed (max_value_length)",
        ),
    ]


def test_unflatten_applies_the_text_caps_to_pairs() -> None:
    pairs = [("K" * 129, "1"), ("A", "v" * 4097), ("B", "ok\x00"), ("Ok", "1")]
    assert tree_errors(pairs) == [
        ("too-large", "K" * 128),
        ("too-large", "A"),
        ("control-character", "B"),
    ]


def test_unflatten_refuses_too_many_pairs_without_reading_them_all() -> None:
    endless = (("A", "x") for _ in itertools.count())
    error = wire_error(unflatten, endless)
    assert reported(error) == [("too-large", "")]
    assert error.violations[0].message == (
        "more than 512 pairs were given; at most 512 are allowed (max_pairs)"
    )
    assert unflatten([(f"A.{i}", "x") for i in range(512)]) == {"A": ["x"] * 512}


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(WireLimits)])
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "8", None])
def test_wire_limits_refuse_non_positive_ints(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^WireLimits\.{field} must be a positive int, not "):
        WireLimits(**{field: value})  # type: ignore[arg-type]


def test_wire_limits_accept_one_and_are_frozen() -> None:
    limits = WireLimits(**{f.name: 1 for f in dataclasses.fields(WireLimits)})
    assert limits.max_pairs == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_pairs = 2  # type: ignore[misc]
    assert hash(WireLimits()) == hash(DEFAULT_LIMITS)


# --- unflatten: the key grammar --------------------------------------------------------------


# Segments int() accepts (or reads as a number) that are not indexes.
INT_LOOKALIKES = [" 1", "1 ", "+1", "-1", "1_0", "\u0661", "\uff11", "\u00b2", "\u0967", "0x1"]


@pytest.mark.parametrize("segment", INT_LOOKALIKES)
def test_int_lookalikes_are_not_indexes(segment: str) -> None:
    key = f"A.{segment}"
    assert tree_errors([(key, "x")]) == [("bad-key", key)]
    # The same key sent on the wire, percent-encoded.
    assert query_errors(format_query([(key, "x")])) == [("bad-key", key)]


def test_int_accepts_what_the_grammar_refuses() -> None:
    # Why the codec never calls a bare int() on a segment (FACTS: int() is too lenient).
    assert [int(s) for s in [" 1", "1 ", "+1", "1_0", "\u0661", "\uff11"]] == [1, 1, 1, 10, 1, 1]


def test_bad_key_messages() -> None:
    error = wire_error(unflatten, [("0", "x"), ("A.b_c", "x")])
    assert [v.message for v in error.violations] == [
        "the key '0' must start with a name ([A-Za-z][A-Za-z0-9]*), not '0'",
        "segment 'b_c' of 'A.b_c' is neither a name ([A-Za-z][A-Za-z0-9]*) "
        "nor an index (0 or [1-9][0-9]*)",
    ]


def test_index_messages() -> None:
    error = wire_error(unflatten, [("A.01", "x"), ("B.10000", "x"), ("C.0", "x"), ("C.2", "x")])
    assert [v.message for v in error.violations] == [
        "index '01' in 'A.01' has a leading zero; write it as 1",
        "index 10000 in 'B.10000' is above the maximum 9999 (max_index)",
        "list 'C' has no index 1 before 2; indexes must be consecutive",
    ]
    error = wire_error(unflatten, [("A.3", "x")])
    assert error.violations[0].message == "list 'A' starts at index 3; a list starts at 0 or 1"


def test_a_5000_digit_index_is_refused_by_its_length() -> None:
    limits = WireLimits(max_key_length=10_000)
    key = "A." + "1" * 5000
    error = wire_error(unflatten, [(key, "x")], limits=limits)
    assert reported(error) == [("index-out-of-range", key)]
    assert error.violations[0].message == (
        f"index {'1' * 20}... (5000 digits) in {key[:60]!r}... is above the maximum 9999 "
        "(max_index)"
    )
    assert query_errors(f"{key}=x", limits) == [("index-out-of-range", key)]


def test_a_5000_digit_index_with_a_leading_zero_is_bad_index() -> None:
    # int() would raise ValueError past 4,300 digits; the codec never converts it.
    limits = WireLimits(max_key_length=10_000)
    key = "A.0" + "1" * 5000
    error = wire_error(unflatten, [(key, "x")], limits=limits)
    assert reported(error) == [("bad-index", key)]
    assert error.violations[0].message.endswith(
        "has a leading zero; write it as its digits without the leading zeros"
    )
    assert tree_errors([("A.00", "x")]) == [("bad-index", "A.00")]


def test_duplicate_and_shape_messages() -> None:
    error = wire_error(
        unflatten, [("A", "1"), ("A", "2"), ("B", "1"), ("B.0", "2"), ("C.0", "1"), ("C.D", "2")]
    )
    assert [v.message for v in error.violations] == [
        "'A' is sent more than once",
        "'B.0' and 'B' use the same path both as a value and as a container",
        "'C' has both index and name children ('C.D'); it must be a list or an object",
    ]


def test_too_deep_message() -> None:
    error = wire_error(unflatten, [("A.B.C.D.E.F.G.H.I", "x")])
    assert error.violations[0].message == (
        "'A.B.C.D.E.F.G.H.I' has 9 segments; at most 8 are allowed (max_depth)"
    )


def test_deep_trees_do_not_exhaust_the_stack() -> None:
    depth = 3000
    limits = WireLimits(max_depth=depth, max_key_length=2 * depth)
    node: object = unflatten([("A" + ".0" * (depth - 1), "x")], limits=limits)
    levels = 0
    while isinstance(node, (dict, list)):
        node = node["A"] if isinstance(node, dict) else node[0]
        levels += 1
    assert (levels, node) == (depth, "x")


def test_unflatten_orders_all_violations_by_pair_position() -> None:
    pairs = [("A.01", "x"), ("B", "\x00"), ("C.2", "x"), ("D", "y" * 4097), ("0", "x")]
    assert tree_errors(pairs) == [
        ("bad-index", "A.01"),
        ("control-character", "B"),
        ("bad-index-start", "C.2"),
        ("too-large", "D"),
        ("bad-key", "0"),
    ]


@pytest.mark.parametrize(
    ("item", "shown"),
    [
        (("A", 1), "(str, int)"),
        (("A",), "(str)"),
        (("A", "b", "c", "d"), "(str, str, str, ...)"),
        (["A", "b"], "list"),
        (None, "NoneType"),
        ("Ab", "str"),
    ],
)
def test_unflatten_refuses_items_that_are_not_pairs(item: object, shown: str) -> None:
    error = wire_error(unflatten, [("Ok", "1"), item])
    assert reported(error) == [("bad-pair", "")]
    assert error.violations[0].message == f"a pair is a (str, str) tuple, not {shown}"


def test_unflatten_refuses_a_non_iterable() -> None:
    error = wire_error(unflatten, 5)
    assert reported(error) == [("bad-pair", "")]
    assert error.violations[0].message == "pairs are iterable, not int"


def test_check_pairs_keeps_good_pairs_and_reports_the_rest() -> None:
    errors: list[Any] = []
    items: list[Any] = [("A", "1"), ("B", 2), ("C", "\x01"), ("D.0", "4")]
    good = _pairs.check_pairs(items, DEFAULT_LIMITS, errors)
    assert good == [("A", "1"), ("D.0", "4")]
    assert [(v.reason, v.key) for v in errors] == [("bad-pair", ""), ("control-character", "C")]


def test_wire_error_summary() -> None:
    error = wire_error(parse_query, "A=%&B=%")
    assert isinstance(error, DescribeImagesError)
    assert error.code == ErrorCode.INVALID_PARAMETER
    assert str(error) == (
        "InvalidParameter: the value of 'A' has a '%' not followed by two hex digits; "
        "write a literal '%' as %25 (and 1 more problem)"
    )


# --- flatten and format_query -------------------------------------------------------------------


def test_flatten_indexes_lists_from_base() -> None:
    tree = {"Filters": [{"Name": "image-type", "Values": ["A", "B"]}], "Limit": 20}
    assert flatten(tree) == [
        ("Filters.0.Name", "image-type"),
        ("Filters.0.Values.0", "A"),
        ("Filters.0.Values.1", "B"),
        ("Limit", "20"),
    ]
    assert flatten(tree, base=1) == [
        ("Filters.1.Name", "image-type"),
        ("Filters.1.Values.1", "A"),
        ("Filters.1.Values.2", "B"),
        ("Limit", "20"),
    ]


def test_flatten_sends_no_key_for_none_and_empty_containers() -> None:
    tree: dict[str, object] = {"A": None, "B": [], "C": {}, "D": (), "E": [None], "F": "x"}
    assert flatten(tree) == [("F", "x")]


class Colour(enum.IntEnum):
    RED = 7


class Text(str):
    def __str__(self) -> str:
        return "not this"


def test_flatten_leaves_are_plain_decimal_and_text() -> None:
    pairs = flatten({"A": Colour.RED, "B": Text("b"), "C": -3, "D": ("x",)})
    assert pairs == [("A", "7"), ("B", "b"), ("C", "-3"), ("D.0", "x")]
    assert all(type(v) is str for _, v in pairs)


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"A": True}, "'A': a value must be str, int, list, tuple, dict or None, not bool"),
        ({"A": [1.5]}, "'A.0': a value must be str, int, list, tuple, dict or None, not float"),
        (
            {"A": {"B": object()}},
            "'A.B': a value must be str, int, list, tuple, dict or None, not object",
        ),
        ({"A": {"b_c": "x"}}, "key 'b_c' under 'A' is not a name ([A-Za-z][A-Za-z0-9]*)"),
        ({"0": "x"}, "key '0' is not a name ([A-Za-z][A-Za-z0-9]*)"),
        ({"A": [{1: "x"}]}, "key 1 under 'A.0' is not a name ([A-Za-z][A-Za-z0-9]*)"),
    ],
)
def test_flatten_type_errors_name_the_path(tree: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError) as info:
        flatten(tree)
    assert str(info.value) == message


def test_flatten_refuses_cycles_and_bad_arguments() -> None:
    cyclic: dict[str, object] = {}
    cyclic["A"] = cyclic
    with pytest.raises(TypeError, match=r"nested deeper than 64 \(or cyclic\)"):
        flatten(cyclic)
    with pytest.raises(TypeError, match=r"^the tree must be a mapping, not list$"):
        flatten([("A", "1")])  # type: ignore[arg-type]
    for base in (2, -1, True):
        with pytest.raises(ValueError, match=r"^base must be 0 or 1, not "):
            flatten({"A": "1"}, base=base)  # type: ignore[arg-type]


def test_flatten_huge_int_names_the_path() -> None:
    with pytest.raises(ValueError, match=r"^'A\.0': Exceeds the limit"):
        flatten({"A": [10**5000]})


def test_format_query_examples() -> None:
    assert format_query([]) == ""
    assert format_query([("A", "")]) == "A="
    assert format_query([("Filters.0.Values.0", "Ubuntu 22.04/x86")]) == (
        "Filters.0.Values.0=Ubuntu+22.04%2Fx86"
    )
    assert format_query([("a b", "é~*")]) == "a+b=%C3%A9~%2A"
    assert quote("img-pmqg1cw7") == "img-pmqg1cw7"


def test_public_submodule_exports() -> None:
    assert set(wire.__all__) == {
        "DEFAULT_LIMITS", "Node", "Pairs", "WireError", "WireLimits",
        "flatten", "format_query", "parse_query", "quote", "unflatten",
    }  # fmt: skip
    assert wire.WireError is WireError
    assert wire.parse_query is _pairs.parse_query
