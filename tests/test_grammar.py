"""The grammar's text checks and caps (describe_images._grammar, spec/README.md §1.3,
§1.6, §1.7): each check's verdict, the one violation it appends, and the messages users
read, called directly (the stages that use them: tests/test_pairs.py, tests/test_tree.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from describe_images import DescribeImagesError, UsageError
from describe_images._errors import Violation, violation
from describe_images._grammar import (
    DEFAULT_LIMITS,
    WireLimits,
    bad_utf8_key,
    check_key,
    check_value,
    has_control,
    is_utf8,
    printable,
    quoted,
    too_large,
)

Described = list[tuple[str, str, str]]


def described(violations: list[Violation]) -> Described:
    return [(v.reason, v.path, v.message) for v in violations]


# --- WireLimits ------------------------------------------------------------------------------


def _short(item: object) -> str:
    # A test id (pytest's own str() of -10**5000 would raise).
    if isinstance(item, int) and item.bit_length() > 64:
        return f"int{item.bit_length()}bits"
    return repr(item)[:12]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (-1, "-1"),
        (True, "True"),
        (1.5, "1.5"),
        (None, "None"),
        ("8", "'8'"),
        ("9" * 61, repr("9" * 60) + "..."),
        ([8], "list"),
        (-(2**64 - 1), str(-(2**64 - 1))),  # 64 bits: still shown in decimal
        (-(2**64), "an int of 65 bits"),
        (-(10**5000), "an int of 16610 bits"),  # past the 4,300-digit limit of str()
    ],
    ids=_short,
)
@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(WireLimits)])
def test_wire_limits_refuse_anything_but_a_positive_int(field: str, value: Any, shown: str) -> None:
    # A library error (once a bare ValueError), whose message never converts a huge int.
    with pytest.raises(UsageError) as info:
        WireLimits(**{field: value})
    assert isinstance(info.value, DescribeImagesError)
    assert isinstance(info.value, ValueError)  # as it always was
    assert str(info.value) == f"WireLimits.{field} must be a positive int, not {shown}"


def test_wire_limits_name_the_first_bad_field() -> None:
    with pytest.raises(UsageError, match=r"^WireLimits\.max_pairs must be a positive int, not 0$"):
        WireLimits(max_pairs=0, max_depth=0)


def test_wire_limits_accept_any_positive_int() -> None:
    assert WireLimits(max_pairs=1).max_pairs == 1
    assert WireLimits(max_index=10**5000).max_index == 10**5000
    assert WireLimits(65_536, 512, 128, 4_096, 8, 9_999) == DEFAULT_LIMITS


# --- quoting for messages --------------------------------------------------------------------


def test_quoted_keeps_60_characters_whole_and_cuts_the_61st() -> None:
    assert quoted("") == "''"
    assert quoted("it's") == '"it\'s"'  # repr's quoting
    assert quoted("K" * 60) == "'" + "K" * 60 + "'"
    assert quoted("K" * 61) == "'" + "K" * 60 + "'..."
    assert quoted("é\ud800" * 40) == repr("é\ud800" * 30) + "..."


def test_too_large_names_the_cap() -> None:
    assert described([too_large("A.1", "the thing is big", 7, "max_things")]) == [
        ("too-large", "A.1", "the thing is big; at most 7 are allowed (max_things)")
    ]


def test_printable_escapes_bytes_or_surrogates() -> None:
    # From bytes, a lone surrogate stands for an undecodable byte: shown as \xNN.
    assert printable("a\udcffé", from_bytes=True) == "a\\xffé"
    # From text, it is the surrogate itself: shown as \uDNNN.
    assert printable("a\udcffé", from_bytes=False) == "a\\udcffé"
    assert printable("plain", from_bytes=True) == printable("plain", from_bytes=False) == "plain"


def test_is_utf8_is_false_only_for_lone_surrogates() -> None:
    assert is_utf8("") and is_utf8("a") and is_utf8("é\U0010ffff\x00")
    assert not is_utf8("a\ud800") and not is_utf8("\udfff")


def test_has_control_is_c0_and_del_only() -> None:
    assert has_control("a\x00") and has_control("\x1f") and has_control("\x7f")
    assert has_control("é\x7f") and has_control("\u2028\x01")
    assert not has_control("a ~") and not has_control("é\x80\x9f\u2028")


# --- bad_utf8_key: the key named as sent -------------------------------------------------------


def test_bad_utf8_key_from_bytes_shows_the_bytes() -> None:
    # The byte 0xFF as parse_query decodes it (surrogateescape).
    assert described([bad_utf8_key("K\udcff", from_bytes=True)]) == [
        ("bad-utf8", "K\\xff", "the key 'K\\xff' is not valid UTF-8")
    ]


def test_bad_utf8_key_from_text_shows_the_surrogate() -> None:
    assert described([bad_utf8_key("K\udcff", from_bytes=False)]) == [
        ("bad-utf8", "K\\udcff", "the key 'K\\udcff' is not valid UTF-8")
    ]


@pytest.mark.parametrize("from_bytes", [True, False])
def test_bad_utf8_key_is_shown_whole_up_to_62_characters(from_bytes: bool) -> None:
    # repr: 2 quotes + 56 K's + \xff or \udcff (4 or 6): 62 characters at most, then cut.
    fits = "K" * (56 if from_bytes else 54) + "\udcff"
    shown = repr(fits.encode("utf-8", "surrogateescape"))[1:] if from_bytes else repr(fits)
    assert len(shown) == 62
    assert bad_utf8_key(fits, from_bytes).message == f"the key {shown} is not valid UTF-8"
    longer = "K" + fits
    shown = repr(longer.encode("utf-8", "surrogateescape"))[1:] if from_bytes else repr(longer)
    assert len(shown) == 63
    assert bad_utf8_key(longer, from_bytes).message == (
        f"the key {shown[:60]}... is not valid UTF-8"
    )


# --- check_key, check_value: one verdict, at most one violation ---------------------------------

_TIGHT = WireLimits(max_key_length=4, max_value_length=3)
_CONTROL = "contains a control character (U+0000-U+001F or U+007F)"


@pytest.mark.parametrize(
    ("key", "found"),
    [
        ("A\ud800", violation("bad-utf8", "A\\ud800", "the key 'A\\ud800' is not valid UTF-8")),
        (
            "ABCDE",
            violation(
                "too-large",
                "ABCD",  # the path is cut to the cap
                "the key 'ABCDE' is 5 characters long; at most 4 are allowed (max_key_length)",
            ),
        ),
        ("A\x00", violation("control-character", "A\x00", f"the key 'A\\x00' {_CONTROL}")),
        ("é\x7f", violation("control-character", "é\x7f", f"the key 'é\\x7f' {_CONTROL}")),
    ],
)
def test_check_key_refuses_with_one_violation(key: str, found: Violation) -> None:
    out: list[Violation] = []
    assert check_key(key, _TIGHT, out) is False
    assert out == [found]


@pytest.mark.parametrize("key", ["ABCD", "é\u2028\x80", ""])
def test_check_key_passes_good_keys(key: str) -> None:
    out: list[Violation] = []
    assert check_key(key, _TIGHT, out) is True
    assert out == []


def test_check_key_reads_the_caller_limits() -> None:
    out: list[Violation] = []
    assert check_key("K" * 128, DEFAULT_LIMITS, out) is True
    assert check_key("K" * 129, DEFAULT_LIMITS, out) is False
    assert described(out) == [
        (
            "too-large",
            "K" * 128,
            f"the key {quoted('K' * 129)} is 129 characters long; at most 128 are allowed "
            "(max_key_length)",
        )
    ]


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("a\ud800", violation("bad-utf8", "K.1", "the value of 'K.1' is not valid UTF-8")),
        (
            "abcd",
            violation(
                "too-large",
                "K.1",
                "the value of 'K.1' is 4 characters long; at most 3 are allowed "
                "(max_value_length)",
            ),
        ),
        ("a\x1f", violation("control-character", "K.1", f"the value of 'K.1' {_CONTROL}")),
        ("é\x00", violation("control-character", "K.1", f"the value of 'K.1' {_CONTROL}")),
    ],
)
def test_check_value_refuses_with_one_violation(value: str, found: Violation) -> None:
    out: list[Violation] = []
    assert check_value("K.1", value, _TIGHT, out) is False
    assert out == [found]


@pytest.mark.parametrize("value", ["abc", "é\x80\x9f", ""])
def test_check_value_passes_good_values(value: str) -> None:
    out: list[Violation] = []
    assert check_value("K.1", value, _TIGHT, out) is True
    assert out == []


def test_check_value_reads_the_caller_limits() -> None:
    out: list[Violation] = []
    assert check_value("K", "v" * 4096, DEFAULT_LIMITS, out) is True
    assert check_value("K", "v" * 4097, DEFAULT_LIMITS, out) is False
    assert described(out) == [
        (
            "too-large",
            "K",
            "the value of 'K' is 4097 characters long; at most 4096 are allowed "
            "(max_value_length)",
        )
    ]
