"""Stage one of the codec (describe_images._pairs, with the text checks of _grammar):
parse_query and its writer format_query, quote, and the checks on pairs handed over in
code (spec/README.md §1.1-§1.3, §1.6, §1.7, §1.9)."""

from __future__ import annotations

import dataclasses
import itertools
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import DescribeImagesError, ErrorCode, WireError, _grammar, _pairs
from describe_images._grammar import check_key, check_value, has_control, is_utf8
from describe_images.wire import (
    DEFAULT_LIMITS,
    WireLimits,
    format_query,
    parse_query,
    quote,
    unflatten,
)
from tests.strategies import (
    WIRE_CONTROL_CHARACTERS,
    any_text,
    hostile_pair_items,
    wire_pairs,
    wireish_queries,
)
from tests.wirecheck import (
    REASONS,
    Described,
    Reported,
    assert_well_formed,
    attempt,
    described,
    parse_errors,
    reported,
    tree_errors,
    wire_error,
)

# --- Properties ------------------------------------------------------------------------------


@given(wire_pairs())
def test_parse_query_inverts_format_query(pairs: list[tuple[str, str]]) -> None:
    query = format_query(pairs)
    assert query.isascii()
    assert parse_query(query) == pairs
    assert parse_query(query.encode("ascii")) == pairs


@given(wire_pairs(any_text(60)))
def test_format_query_matches_urlencode(pairs: list[tuple[str, str]]) -> None:
    # Pairs with a control character are refused (what parse_query would refuse); every
    # other list of pairs is written exactly as urlencode writes it.
    query, error = attempt(format_query, pairs)
    if error is None:
        assert query == urllib.parse.urlencode(pairs)
    else:
        assert {v.reason for v in error.violations} == {"control-character"}
        assert any(has_control(k + v) for k, v in pairs)


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


# --- parse_query: splitting and decoding -------------------------------------------------


def test_parse_query_accepts_bytearray_and_memoryview() -> None:
    query = b"A=1&B=%C3%A9"
    want = [("A", "1"), ("B", "é")]
    assert parse_query(bytearray(query)) == want
    assert parse_query(memoryview(query)) == want


def test_a_memoryview_is_measured_in_bytes() -> None:
    view = memoryview(b"A=1&").cast("H")  # 2 elements of 2 bytes
    assert (len(view), view.nbytes) == (2, 4)
    assert parse_query(view, limits=WireLimits(max_query_bytes=4)) == [("A", "1")]
    error = wire_error(parse_query, view, limits=WireLimits(max_query_bytes=3))
    assert error.violations[0].message == (
        "the query is 4 bytes; at most 3 are allowed (max_query_bytes)"
    )


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
    read = itertools.count()
    endless = (("A", "x") for _ in read)
    error = wire_error(unflatten, endless)
    assert next(read) == 513  # max_pairs + 1 were read, and no more
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


@pytest.mark.parametrize(
    ("item", "shown"),
    [
        (("A", 1), "(str, int)"),
        (("A",), "(str)"),
        (("A", "b", "c"), "(str, str, str)"),
        (("A", "b", "c", "d"), "(str, str, str, ...)"),
        (["A", "b"], "list"),
        (None, "NoneType"),
        ("Ab", "str"),
    ],
)
def test_unflatten_refuses_items_that_are_not_pairs(item: object, shown: str) -> None:
    # The same verdict at every door that takes pairs: unflatten, format_query, check_pairs.
    want = [("bad-pair", "", f"item 1 of the pairs is {shown}, not a (str, str) pair")]
    items: list[Any] = [("Ok", "1"), item]
    assert described(wire_error(unflatten, items)) == want
    assert described(wire_error(format_query, items)) == want
    errors: list[Any] = []
    assert _pairs.check_pairs(items, DEFAULT_LIMITS, errors) == [("Ok", "1")]
    assert [(v.reason, v.path, v.message) for v in errors] == want


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (5, "pairs are an iterable of (str, str) tuples, not int"),
        (None, "pairs are an iterable of (str, str) tuples, not NoneType"),
        ("ab", "pairs are an iterable of (str, str) tuples, not str"),
        ("", "pairs are an iterable of (str, str) tuples, not str"),
        (b"ab", "pairs are an iterable of (str, str) tuples, not bytes"),
        (bytearray(b"ab"), "pairs are an iterable of (str, str) tuples, not bytearray"),
        (memoryview(b"ab"), "pairs are an iterable of (str, str) tuples, not memoryview"),
        ({"ab": "x"}, "pairs are an iterable of (str, str) tuples, not dict; pass its .items()"),
    ],
)
def test_what_is_not_pairs_is_refused_whole(pairs: object, message: str) -> None:
    # format_query({"ab": "x"}) used to iterate the dict's keys and unpack "ab": "a=b".
    for call in (unflatten, format_query):
        assert described(wire_error(call, pairs)) == [("bad-pair", "", message)]


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


def test_format_query_examples() -> None:
    assert format_query([]) == ""
    assert format_query([("A", "")]) == "A="
    assert format_query([("Filters.0.Values.0", "Ubuntu 22.04/x86")]) == (
        "Filters.0.Values.0=Ubuntu+22.04%2Fx86"
    )
    assert format_query([("a b", "é~*")]) == "a+b=%C3%A9~%2A"
    assert quote("img-pmqg1cw7") == "img-pmqg1cw7"


def test_a_mapping_proxy_and_a_str_subclass_are_refused_too() -> None:
    import types

    class Text(str):
        pass

    error = wire_error(format_query, types.MappingProxyType({"A": "1"}))
    assert error.violations[0].message.endswith("not mappingproxy; pass its .items()")
    error = wire_error(format_query, Text("A=1"))
    assert error.violations[0].message == "pairs are an iterable of (str, str) tuples, not Text"


def test_pairs_of_str_subclasses_come_back_plain() -> None:
    class Text(str):
        def __str__(self) -> str:
            return "not this"

    pairs = [(Text("A"), Text("b c"))]
    assert format_query(pairs) == "A=b+c"
    tree = unflatten(pairs)
    assert tree == {"A": "b c"}
    assert [type(k) for k in tree] == [str] and type(tree["A"]) is str
    errors: list[Any] = []
    good = _pairs.check_pairs(pairs, DEFAULT_LIMITS, errors)
    assert [(type(k), type(v)) for k, v in good] == [(str, str)]


# --- format_query refuses what parse_query refuses (spec/README.md §1.9) ---------------------


def format_described(pairs: Any, limits: WireLimits = DEFAULT_LIMITS) -> Described:
    return described(wire_error(format_query, pairs, limits=limits))


def test_format_query_refuses_lone_surrogates_as_parse_query_does() -> None:
    # Once a bare UnicodeEncodeError; now bad-utf8, with parse_query's paths and messages.
    assert format_described([("A", "x\ud800"), ("\udc80", "1"), ("B", "ok")]) == [
        ("bad-utf8", "A", "the value of 'A' is not valid UTF-8"),
        ("bad-utf8", "\\udc80", "the key '\\udc80' is not valid UTF-8"),
    ]
    assert described(wire_error(parse_query, "A=x\ud800&\udc80=1&B=ok")) == format_described(
        [("A", "x\ud800"), ("\udc80", "1"), ("B", "ok")]
    )
    long_key = "K" * 70 + "\ud800"
    assert format_described([(long_key, "1")]) == [
        ("bad-utf8", "K" * 70 + "\\ud800", f"the key '{'K' * 59}... is not valid UTF-8"),
    ]


def test_format_query_refuses_controls_and_lengths_as_parse_query_does() -> None:
    pairs = [("A", "a\nb"), ("B\x7f", "1"), ("K" * 129, "1"), ("C", "v" * 4097), ("D", "ok")]
    want = [
        ("control-character", "A",
         "the value of 'A' contains a control character (U+0000-U+001F or U+007F)"),
        ("control-character", "B\x7f",
         "the key 'B\\x7f' contains a control character (U+0000-U+001F or U+007F)"),
        ("too-large", "K" * 128, f"the key {'K' * 60!r}... is 129 characters long; "
         "at most 128 are allowed (max_key_length)"),
        ("too-large", "C", "the value of 'C' is 4097 characters long; "
         "at most 4096 are allowed (max_value_length)"),
    ]  # fmt: skip
    assert format_described(pairs) == want
    # One text, one verdict, whichever door it came in by.
    assert described(wire_error(parse_query, urllib.parse.urlencode(pairs))) == want
    assert described(wire_error(unflatten, pairs)) == want


def test_format_query_applies_its_limits() -> None:
    limits = WireLimits(max_key_length=3, max_value_length=2, max_pairs=2, max_query_bytes=9)
    assert format_query([("Abc", "de"), ("F", "")], limits=limits) == "Abc=de&F="  # 9 bytes
    assert reported(wire_error(format_query, [("Abcd", "x")], limits=limits)) == [
        ("too-large", "Abc")
    ]
    assert reported(wire_error(format_query, [("A", "xyz")], limits=limits)) == [("too-large", "A")]
    assert format_described([("A", "1")] * 3, limits) == [
        ("too-large", "", "more than 2 pairs were given; at most 2 are allowed (max_pairs)")
    ]
    # The size of the query it would write: ASCII, so characters are bytes.
    assert format_described([("Abc", "d e"), ("F", "")], WireLimits(max_query_bytes=9)) == [
        ("too-large", "", "the query is 10 bytes; at most 9 are allowed (max_query_bytes)")
    ]
    assert format_query([("Abc", "d e")], limits=WireLimits(max_query_bytes=7)) == "Abc=d+e"
    assert parse_errors("Abc=d+e&F=", WireLimits(max_query_bytes=9)) == [("too-large", "")]


def test_format_query_measures_the_escaped_size() -> None:
    limits = WireLimits(max_query_bytes=11)
    assert format_query([("A", "é/")], limits=limits) == "A=%C3%A9%2F"  # 11 bytes
    assert reported(
        wire_error(format_query, [("A", "é/.")], limits=WireLimits(max_query_bytes=11))
    ) == [("too-large", "")]


@pytest.mark.parametrize(
    ("item", "shown"),
    [
        (("A", 1), "(str, int)"),
        ((1, "A"), "(int, str)"),
        (("A", None), "(str, NoneType)"),
        (("A", b"x"), "(str, bytes)"),
        ((), "()"),
        (["A", "1"], "list"),
        ("A=1", "str"),
    ],
)
def test_format_query_names_the_item_that_is_not_a_pair(item: object, shown: str) -> None:
    # Once a bare TypeError (or, for a str item, a silently wrong query).
    pairs = [("A", "1"), ("B", "2"), ("C", "3"), item]
    assert format_described(pairs) == [
        ("bad-pair", "", f"item 3 of the pairs is {shown}, not a (str, str) pair")
    ]


def test_format_query_reports_every_item_in_order() -> None:
    pairs: list[Any] = [("A", 1), ("B", "\x00"), ("C", "ok"), ("D",)]
    assert reported(wire_error(format_query, pairs)) == [
        ("bad-pair", ""),
        ("control-character", "B"),
        ("bad-pair", ""),
    ]


@given(hostile_pair_items(), st.integers(1, 6), st.integers(1, 12), st.integers(1, 12))
def test_format_query_refuses_exactly_what_parse_query_refuses(
    items: list[Any], max_pairs: int, max_key: int, max_value: int
) -> None:
    """format_query accepts p with limits L iff parse_query(format_query(p, L), L) == p;
    what it refuses, it refuses with check_pairs' verdict, which for text is
    parse_query's (spec/README.md §1.9)."""
    limits = WireLimits(max_pairs=max_pairs, max_key_length=max_key, max_value_length=max_value)
    query, error = attempt(format_query, items, limits=limits)
    if error is None:
        assert parse_query(query, limits=limits) == items
        assert query == urllib.parse.urlencode(items)
        return
    assert_well_formed(error)
    if len(items) <= max_pairs:
        errors: list[Any] = []
        _pairs.check_pairs(items, limits, errors)
        assert described(error) == [(v.reason, v.path, v.message) for v in errors]
    texts = all(
        isinstance(item, tuple) and len(item) == 2 and all(isinstance(p, str) for p in item)
        for item in items
    )
    if texts and all(is_utf8(k + v) for k, v in items):
        wire = urllib.parse.urlencode(items)
        assert reported(wire_error(parse_query, wire, limits=limits)) == reported(error)


def test_check_key_and_check_value_report_at_most_one_problem() -> None:
    out: list[Any] = []
    limits = WireLimits(max_key_length=2, max_value_length=2)
    assert not check_key("\ud800\x00abc", limits, out)  # bad-utf8 first
    assert not check_key("A\x00c", limits, out)  # then length
    assert not check_key("A\x00", limits, out)
    assert check_key("Ab", limits, out)
    assert not check_value("K", "\ud800\x00abc", limits, out)
    assert not check_value("K", "\x00bc", limits, out)
    assert not check_value("K", "\x00b", limits, out)
    assert check_value("K", "é\x80", limits, out)  # C1 controls are allowed
    assert [(v.reason, v.path) for v in out] == [
        ("bad-utf8", "\\ud800\x00abc"), ("too-large", "A\x00"), ("control-character", "A\x00"),
        ("bad-utf8", "K"), ("too-large", "K"), ("control-character", "K"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text", ["", "a", "é", "\x80\x9f", "a b", "\u2028", "\ue000", "\U0010ffff"]
)
def test_has_control_is_false_without_c0_or_del(text: str) -> None:
    assert not has_control(text)
    assert not has_control(text * 3000)


@pytest.mark.parametrize("control", WIRE_CONTROL_CHARACTERS)
def test_has_control_finds_every_c0_and_del(control: str) -> None:
    for text in (control, "a" + control, "é" + control + "\u2028", "v" * 4096 + control):
        assert has_control(text)


# --- quote ----------------------------------------------------------------------------------


def test_quote_refuses_what_it_cannot_encode() -> None:
    # Once a bare UnicodeEncodeError / TypeError.
    assert described(wire_error(quote, "a\ud800")) == [
        ("bad-utf8", "", "the text 'a\\ud800' is not valid UTF-8")
    ]
    assert described(wire_error(quote, 5)) == [("bad-pair", "", "quote takes a str, not int")]
    assert described(wire_error(quote, b"a")) == [("bad-pair", "", "quote takes a str, not bytes")]


# --- messages: a hostile key is cut, never echoed whole --------------------------------------


@pytest.mark.parametrize(("length", "shown"), [(60, "'{}'"), (61, "'{}'...")])
def test_keys_are_quoted_whole_up_to_60_characters(length: int, shown: str) -> None:
    key = "K" * length
    error = wire_error(unflatten, [(key, "x"), (key, "y")])
    assert error.violations[0].message == shown.format("K" * 60) + " is sent more than once"


@pytest.mark.parametrize(("length", "shown"), [(54, "'{}\\ud800'"), (55, "'{}\\ud8...")])
def test_keys_that_are_not_utf8_are_quoted_whole_up_to_62_characters(
    length: int, shown: str
) -> None:
    # repr of the key: quote, the K's, a 6-character \\ud800, quote: 62 characters for 54 K's.
    key = "K" * length + "\ud800"
    want = f"the key {shown.format('K' * length)} is not valid UTF-8"
    assert wire_error(parse_query, f"{key}=1").violations[0].message == want
    assert wire_error(unflatten, [(key, "1")]).violations[0].message == want


# Fragments where quoted-printable and percent-encoding part ways: literal "=", "=XX" that
# is not an escape here, soft line breaks, whitespace before a newline, "_".
UNQUOTE_FRAGMENTS = st.sampled_from(
    ["%41", "%C3%A9", "%3D", "%3d41", "%25", "%0A", "%0D", "%20", "%FF", "=", "==41", "=\n",
     "=\r", "\n", "\r\n", " ", "\t", " \n", "_", "é", "x=", " =", "=0", "=\x00"]
)  # fmt: skip


@given(st.lists(st.one_of(UNQUOTE_FRAGMENTS, any_text(3)), max_size=20).map("".join))
def test_unquote_is_unquote_to_bytes(text: str) -> None:
    if _grammar.BAD_PERCENT_RE.search(text):
        return  # refused before decoding (bad-percent-escape)
    assert _pairs._unquote(text) == urllib.parse.unquote_to_bytes(text)


# --- write_pairs: the whole query escaped at once ----------------------------------------------

# Every byte that needs an escape, once: "%" (escaped first), "+" (before the space becomes
# one), the space, the other ASCII specials and a few multi-byte characters.
ESCAPED_FRAGMENTS = st.sampled_from(
    ["%", "+", " ", "&", "=", "/", "?", "#", "~", "*", "é", "数", "\U0001f600", "%25", "+%2B", "a"]
)


@given(
    st.lists(
        st.tuples(
            st.lists(ESCAPED_FRAGMENTS, max_size=6).map("".join),
            st.lists(st.one_of(ESCAPED_FRAGMENTS, any_text(4)), max_size=8).map("".join),
        ),
        max_size=8,
    )
)
def test_write_pairs_matches_urlencode(pairs: list[tuple[str, str]]) -> None:
    pairs = [(k, v) for k, v in pairs if not has_control(k + v) and is_utf8(k + v)]
    assert _pairs.write_pairs(pairs) == urllib.parse.urlencode(pairs)


@pytest.mark.parametrize("distinct", [0, 1, _pairs.MAX_PASSES - 1, _pairs.MAX_PASSES, 40])
def test_write_pairs_by_replacing_and_by_table_agree(distinct: int) -> None:
    # Up to _MAX_PASSES distinct bytes to escape are replaced one by one; more take the
    # table. Both write exactly what urlencode writes, "%" and "+" and " " included.
    specials = [chr(c) for c in range(0x20, 0x7F) if not chr(c).isalnum() and chr(c) not in "_.-~"]
    assert specials[:3] == [" ", "!", '"'] and "%" in specials and "+" in specials
    chosen = "".join(["%", "+", " ", *(c for c in specials if c not in "%+ ")][:distinct])
    pairs = [("k" + chosen[:2], f"a{chosen}%41{chosen}"), ("Filters.0.Values.0", "x")]
    assert _pairs.write_pairs(pairs) == urllib.parse.urlencode(pairs)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Action", "Filters.0.Values.0", "ImageIds.10"]),
            st.lists(st.one_of(ESCAPED_FRAGMENTS, any_text(4)), max_size=8).map("".join),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_query_joined_with_its_separators_is_escaped_as_urlencode_escapes(
    pairs: list[tuple[str, str]],
) -> None:
    # The encoder's writer: unreserved keys, the text's bytes to escape given.
    pairs = [(k, v) for k, v in pairs if not has_control(v) and is_utf8(v)]
    text = "".join(v for _, v in pairs).encode("utf-8")
    escaped = set(text.translate(None, _pairs.UNRESERVED))
    assert escaped == {b for b in text if not (chr(b).isascii() and chr(b).isalnum())} - set(
        b"_.-~"
    )
    expected = urllib.parse.urlencode(pairs)
    joined = "\x01".join(f"{k}\x00{v}" for k, v in pairs).encode("utf-8")
    assert _pairs.write_joined(joined, escaped) == expected
    if len(escaped) <= _pairs.MAX_PASSES and not escaped & set(b"=&"):
        assert _pairs.escape_query("&".join(f"{k}={v}" for k, v in pairs), escaped) == expected


@pytest.mark.parametrize("distinct", [0, 1, 2, _pairs.MAX_PASSES])
def test_escape_query_replaces_each_byte_to_escape(distinct: int) -> None:
    chosen = "".join(["%", " ", "+", "/", "é", *"!\"#$'()*,:;<>?@["][:distinct])
    value = f"a{chosen}b{chosen}%41 "
    escaped = set(value.encode("utf-8").translate(None, _pairs.UNRESERVED))
    assert _pairs.escape_query(f"Action={value}&ImageIds.0={value}", escaped) == (
        urllib.parse.urlencode([("Action", value), ("ImageIds.0", value)])
    )
