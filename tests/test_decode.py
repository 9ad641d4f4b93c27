"""The decoder (describe_images._decode, _fast): the fast path and the general path agree
on every input, the fast path is taken when it should be (and only then), it honours the
caller's WireLimits, and every input form (str, bytes, bytearray, memoryview, URL, pairs)
decodes alike (spec/README.md §2.2)."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from describe_images import (
    DEFAULT_LIMITS,
    CommonParams,
    DescribeImagesRequest,
    Filter,
    RequestError,
    UsageError,
    WireError,
    WireLimits,
    _decode,
    _errors,
    _fast,
    _pairs,
    _rules,
    decode_request,
    encode_request,
    format_query,
    parse_query,
)
from describe_images._decode import decode_general, decode_pairs, query_part
from describe_images._errors import REASONS
from describe_images._grammar import is_utf8
from describe_images._spec import (
    IMAGE_ID_RE,
    IMAGE_KEYS,
    MAX_FILTERS,
    MAX_IMAGE_IDS,
    MAX_OFFSET,
    NAME_KEYS,
    SCALAR_PARAMETERS,
    VALUE_KEYS,
)
from describe_images.wire import quote
from tests.strategies import (
    edge_pairs,
    image_ids,
    invalid_requests,
    schema_pairs,
    valid_requests,
    wire_pairs,
    wireish_queries,
)

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"
VALIDATE: list[dict[str, Any]] = json.loads((VECTORS / "validate.json").read_text("utf-8"))["cases"]
DECODE: list[dict[str, Any]] = json.loads((VECTORS / "decode.json").read_text("utf-8"))["cases"]
HEAD = [("Action", "DescribeImages"), ("Version", "2017-03-12")]


@dataclass(frozen=True)
class Outcome:
    """A decode's result: the request, or the error's kind and every (reason, path, message)
    in order (the code follows from the reason)."""

    request: DescribeImagesRequest | None = None
    error: str = ""
    report: tuple[tuple[str, str, str], ...] = ()

    @property
    def reported(self) -> list[tuple[str, str]]:
        return [(reason, path) for reason, path, _ in self.report]


def outcome(decode: Callable[[], DescribeImagesRequest]) -> Outcome:
    try:
        return Outcome(request=decode())
    except (RequestError, WireError) as exc:
        kind, violations = type(exc).__name__, exc.violations
    codes = [v.code == REASONS[v.reason] for v in violations]
    assert all(codes)
    found = tuple((v.reason, v.path, v.message) for v in violations)
    return Outcome(error=kind, report=found)


def general(query: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> DescribeImagesRequest:
    """decode_request without the fast path: the codec, the tree, then placement."""
    return decode_general(parse_query(query_part(query, limits), limits=limits), limits=limits)


def both(query: str | bytes, limits: WireLimits = DEFAULT_LIMITS) -> Outcome:
    """The outcome of decode_request, asserted equal to the general path's."""
    got = outcome(lambda: decode_request(query, limits=limits))
    assert got == outcome(lambda: general(query, limits))
    return got


# --- which path runs ---------------------------------------------------------------------------


class Paths:
    """Records the slow stages a decode went through (none: the fast path did it all)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken: list[str] = []
        parse, place_tree = _pairs.parse_query, _decode.decode_general

        def spy_parse(data: Any, *, limits: WireLimits = DEFAULT_LIMITS) -> Any:
            self.taken.append("parse_query")
            return parse(data, limits=limits)

        def spy_general(pairs: Any, *, limits: WireLimits = DEFAULT_LIMITS, **more: Any) -> Any:
            self.taken.append("general")
            return place_tree(pairs, limits=limits, **more)

        monkeypatch.setattr(_decode, "parse_query", spy_parse)
        monkeypatch.setattr(_decode, "decode_general", spy_general)

    def of(self, call: Callable[[], object]) -> list[str]:
        self.taken.clear()
        with contextlib.suppress(RequestError, WireError):
            call()
        return list(self.taken)


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> Paths:
    return Paths(monkeypatch)


PLAIN_1 = (
    "Action=DescribeImages&Version=2017-03-12&Filters.1.Name=image-type"
    "&Filters.1.Values.1=PRIVATE_IMAGE&Filters.1.Values.2=SHARED_IMAGE&Offset=0&Limit=10"
)


@pytest.mark.parametrize(
    "query",
    [
        PLAIN_1,
        "Action=DescribeImages&Version=2017-03-12",
        "",
        "&&",
        "Version=2017-03-12&Limit=5&Action=DescribeImages",  # any order
        "Action=DescribeImages&Version=2017-03-12&ImageIds.1=img-00000001&ImageIds.0=img-0",
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-name"
        "&Filters.0.Values.0=Ubuntu+22.04%2Fx86%E4%B8%AD",  # escapes, UTF-8
        "Action=Describe%49mages&Version=2017-03-12&ImageIds%2E0=x",  # escaped keys
        # Table keys that break rules are placed by a plan too: the rules report them.
        "Action=x&Version=y&ImageIds.0=a&Filters.0.Name=&Filters.0.Values.0=&Limit=0&Offset=x",
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-type"
        + "".join(f"&Filters.0.Values.{j}=x" for j in range(7)),
        "Action=DescribeImages&Version=2017-03-12"
        + "".join(f"&ImageIds.{i}=img-{i:08d}" for i in range(MAX_IMAGE_IDS + 2)),
        "Action=DescribeImages&Version=2017-03-12"
        + "".join(f"&Filters.{i}.Name=image-id" for i in range(1, MAX_FILTERS + 2)),
        "Region=&Timestamp=1&Nonce=2&SecretId=3&SignatureMethod=HmacSHA1&Token=4"
        "&RequestClient=5&Language=6&Signature=7&Version=2017-03-12&Action=DescribeImages",
    ],
)
def test_a_plain_query_takes_the_fast_path(paths: Paths, query: str) -> None:
    expected = outcome(lambda: general(query))
    for form in (query, query.encode("ascii")):
        assert paths.of(lambda: decode_request(form)) == []  # noqa: B023 - called at once
        assert outcome(lambda: decode_request(form)) == expected  # noqa: B023
    pairs = parse_query(query)
    assert paths.of(lambda: decode_pairs(pairs)) == []
    assert outcome(lambda: decode_pairs(pairs)) == expected


@pytest.mark.parametrize(
    "query",
    [
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-name&Filters.0.Values.0=中文",
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-name&Filters.0.Values.0=%00",
        "Action=DescribeImages&Version=2017-03-12&Limit",
        "Action=DescribeImages&Version=2017-03-12&Limit=1=2",
        "Action=DescribeImages&Version=2017-03-12&Limit=%2",
        "Action=DescribeImages&Version=2017-03-12&Limit=\x01",
    ],
)
def test_a_query_that_is_not_plain_is_parsed_first(paths: Paths, query: str) -> None:
    # The codec parses it (and names its problems); pairs of table keys are then placed by
    # a plan all the same, without the tree.
    assert paths.of(lambda: decode_request(query)) == ["parse_query"]
    assert outcome(lambda: decode_request(query)) == outcome(lambda: general(query))


@pytest.mark.parametrize(
    "tail",
    [
        "Foo=1",  # not a table key
        "Limit=1&Limit=2",  # a key twice
        "Action=DescribeImages",  # a scalar twice
        "ImageIds.0=a&ImageIds.0=b",  # an element twice
        "ImageIds.0=a&ImageIds.2=b",  # a gap
        "ImageIds.2=a",  # starts at 2
        "ImageIds.0=a&ImageIds.1=b&ImageIds.102=c",  # past the table
        "Filters.0.Values.0=a",  # a filter without a Name
        "Filters.0.Name=a&Filters.1.Values.0=b",  # the second filter without one
        "Filters.0.Name=a&Filters.2.Name=b",  # a gap in the filters
        "Filters.2.Name=a",  # filters starting at 2
        "Filters.0.Name=a&Filters.0.Name=b",  # a Name twice
        "Filters.0.Name=a&Filters.0.Values.0=b&Filters.0.Values.2=c",  # a gap in the values
        "Filters.0.Name=a&Filters.0.Values.2=b",  # values starting at 2
        "Filters.0.Name=a&Filters.0.Values.1=b&Filters.0.Values.1=c",  # a value twice
        "Filters.12.Name=a",  # past the table
        "Filters.0.Name=a&Filters.0.Values.7=b",  # past the table
        "ImageIds=a",  # the shape of a list's name
    ],
)
def test_a_layout_without_a_plan_takes_the_general_path(paths: Paths, tail: str) -> None:
    query = f"Action=DescribeImages&Version=2017-03-12&{tail}"
    expected = outcome(lambda: general(query))
    assert expected.error
    assert paths.of(lambda: decode_request(query)) == ["parse_query", "general"]
    assert _fast.plan("\x01".join(parse_query_keys(query))) is None
    assert outcome(lambda: decode_request(query)) == expected
    pairs = parse_or_none(query)
    if pairs is not None:
        assert paths.of(lambda: decode_pairs(pairs)) == ["general"]


def parse_query_keys(query: str) -> list[str]:
    flat = _fast.plain_query_flat(query)
    assert flat is not None
    return flat[0::2]


def parse_or_none(
    query: str | bytes, limits: WireLimits = DEFAULT_LIMITS
) -> list[tuple[str, str]] | None:
    try:
        return parse_query(query, limits=limits)
    except WireError:
        return None


def test_plans_are_kept_per_layout() -> None:
    _fast.plan.cache_clear()
    assert _fast.plan.cache_info().maxsize == 256
    decode_request(PLAIN_1)
    info = _fast.plan.cache_info()
    assert (info.hits, info.misses, info.currsize) == (0, 1, 1)
    decode_request(PLAIN_1.replace("Limit=10", "Limit=20"))  # same layout, other values
    decode_request(parse_query(PLAIN_1))
    info = _fast.plan.cache_info()
    assert (info.hits, info.misses, info.currsize) == (2, 1, 1)
    for n in range(3 * MAX_IMAGE_IDS):  # more layouts than are kept: the oldest go
        decode_request(
            "Action=DescribeImages&Version=2017-03-12"
            + "".join(f"&ImageIds.{i}=img-{i:08d}" for i in range(n % MAX_IMAGE_IDS))
            + ("&Limit=1" if n >= MAX_IMAGE_IDS else "")
            + ("&Offset=1" if n >= 2 * MAX_IMAGE_IDS else "")
        )
    assert _fast.plan.cache_info().currsize == 256


def test_the_decoder_makes_requests_equal_to_the_constructor() -> None:
    # _decode._request sets the slots directly: the same value, hash and repr as the
    # constructor's, and every field is set (a field added to the class would fail here).
    common = CommonParams(region="ap-guangzhou")
    filters = (Filter("image-type", ("PRIVATE_IMAGE",)),)
    made = _decode._request(("img-pmqg1cw7",), filters, 3, None, common)
    want = DescribeImagesRequest(("img-pmqg1cw7",), filters, 3, None, common)
    assert made == want and hash(made) == hash(want) and repr(made) == repr(want)
    assert [field.name for field in fields(DescribeImagesRequest)] == [
        "image_ids", "filters", "offset", "limit", "common"
    ]  # fmt: skip
    assert decode_request(PLAIN_1).__class__ is DescribeImagesRequest


# --- a reference for which layouts have a plan --------------------------------------------------

_TABLE = frozenset(
    [
        *SCALAR_PARAMETERS,
        *IMAGE_KEYS[0],
        *IMAGE_KEYS[1],
        *NAME_KEYS[0],
        *NAME_KEYS[1],
        *(key for row in VALUE_KEYS for keys in row for key in keys),
    ]
)


def has_plan(keys: list[str]) -> bool:
    """spec/README.md §2.2 (fast path), key by key: every key in the key table, none twice,
    every list contiguous from 0 or 1, every filter with a Name."""
    if len(set(keys)) != len(keys) or not set(keys) <= _TABLE:
        return False

    def contiguous(indexes: list[int]) -> bool:
        indexes = sorted(indexes)
        return not indexes or (
            indexes[0] <= 1 and indexes == list(range(indexes[0], indexes[0] + len(indexes)))
        )

    segs = [key.split(".") for key in keys]
    values: dict[int, list[int]] = {}
    for seg in segs:
        if seg[2:3] == ["Values"]:
            values.setdefault(int(seg[1]), []).append(int(seg[3]))
    names = [int(seg[1]) for seg in segs if seg[2:] == ["Name"]]
    return (
        contiguous([int(seg[1]) for seg in segs if seg[0] == "ImageIds"])
        and contiguous(names)
        and set(values) <= set(names)
        and all(map(contiguous, values.values()))
    )


_LAYOUT_KEYS = st.one_of(
    st.sampled_from(sorted(SCALAR_PARAMETERS)),
    st.integers(0, 103).map(lambda i: f"ImageIds.{i}"),
    st.integers(0, 12).map(lambda i: f"Filters.{i}.Name"),
    st.tuples(st.integers(0, 12), st.integers(0, 8)).map(lambda t: f"Filters.{t[0]}.Values.{t[1]}"),
)


@st.composite
def layouts(draw: st.DrawFn) -> list[str]:
    """Key layouts near the plans' edges: encoded requests in any order, a key dropped,
    added, or repeated."""
    request = draw(valid_requests() | invalid_requests().map(lambda case: case[0]))
    base: Literal[0, 1] = draw(st.sampled_from([0, 1]))
    keys = [key for key, _ in encode_request(request, base=base)]
    keys = draw(st.permutations(keys)) if draw(st.booleans()) else keys
    edit = draw(st.sampled_from(["none", "drop", "add", "repeat"]))
    if edit == "drop" and keys:
        del keys[draw(st.integers(0, len(keys) - 1))]
    elif edit == "add":
        keys.insert(draw(st.integers(0, len(keys))), draw(_LAYOUT_KEYS))
    elif edit == "repeat" and keys:
        keys.append(keys[draw(st.integers(0, len(keys) - 1))])
    return keys


@given(st.one_of(layouts(), st.lists(_LAYOUT_KEYS, max_size=12)))
def test_a_layout_has_a_plan_exactly_when_the_spec_says(keys: list[str]) -> None:
    found = _fast.plan.__wrapped__("\x01".join(keys))
    assert (found is not None) is has_plan(keys)
    if found is not None:  # what the general path would need of the limits
        longest = max(map(len, keys), default=0)
        depth = max((key.count(".") + 1 for key in keys), default=1)
        index = max((int(s) for key in keys for s in key.split(".") if s.isdigit()), default=0)
        assert found.needs == (longest, depth, index)


# --- both paths agree ---------------------------------------------------------------------------


def percent_some(draw: st.DrawFn, query: str) -> str:
    """``query`` with some safe characters percent-encoded too (upper or lower hex)."""
    chars = list(query)
    for i in draw(st.lists(st.integers(0, max(len(chars) - 1, 0)), max_size=4)):
        if chars and chars[i].isalnum() and chars[i].isascii():
            escape = f"%{ord(chars[i]):02X}"
            chars[i] = escape.lower() if draw(st.booleans()) else escape
    return "".join(chars)


@st.composite
def queries(draw: st.DrawFn) -> str:
    """Queries of every kind: valid or not, plain or not, 0- or 1-based, in any order."""
    kind = draw(st.sampled_from(["valid", "invalid", "schema", "edge", "wireish"]))
    if kind == "wireish":
        return draw(wireish_queries())
    if kind in ("valid", "invalid"):
        request = draw(
            valid_requests() if kind == "valid" else invalid_requests().map(lambda c: c[0])
        )
        pairs = encode_request(request, base=draw(st.sampled_from([0, 1])))
    elif kind == "schema":
        pairs = [*HEAD[: draw(st.integers(0, 2))], *draw(schema_pairs())]
    else:
        pairs = draw(edge_pairs())
    if draw(st.booleans()):
        pairs = draw(st.permutations(pairs))
    query = format_query(pairs)
    return percent_some(draw, query) if draw(st.booleans()) else query


@given(queries())
def test_both_paths_agree_on_any_query(query: str) -> None:
    both(query)
    pairs = parse_or_none(query)
    if pairs is not None:
        assert outcome(lambda: decode_pairs(pairs)) == outcome(lambda: decode_general(pairs))


def limits() -> st.SearchStrategy[WireLimits]:
    small = {
        "max_query_bytes": st.integers(1, 4000),
        "max_pairs": st.integers(1, 120),
        "max_key_length": st.integers(1, 24),
        "max_value_length": st.integers(1, 60),
        "max_depth": st.integers(1, 5),
        "max_index": st.integers(1, 110),
    }
    return st.builds(
        WireLimits, **{k: v | st.just(getattr(DEFAULT_LIMITS, k)) for k, v in small.items()}
    )


@given(queries(), limits())
def test_both_paths_agree_under_any_limits(query: str, caps: WireLimits) -> None:
    both(query, caps)


@pytest.mark.parametrize("case", VALIDATE, ids=[c["id"] for c in VALIDATE])
def test_both_paths_agree_on_the_vectors(case: dict[str, Any]) -> None:
    got = both(case["query"])
    assert [{"code": REASONS[r], "reason": r, "path": p} for r, p in got.reported] == case["errors"]


@given(edge_pairs())
def test_both_paths_agree_at_the_table_edges(pairs: list[tuple[str, str]]) -> None:
    expected = outcome(lambda: decode_general(pairs))
    assert outcome(lambda: decode_pairs(pairs)) == expected
    assert outcome(lambda: decode_request(format_query(pairs))) == expected


@given(valid_requests(), st.sampled_from([0, 1]))
def test_the_general_path_round_trips(request: DescribeImagesRequest, base: Literal[0, 1]) -> None:
    pairs = encode_request(request, base=base)
    assert decode_general(pairs) == request
    assert decode_pairs(pairs) == request
    assert decode_request(list(reversed(pairs))) == request


# --- the general path places what the tree holds -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # 1-based paths as sent, on both paths (the unknown key forces the general one).
        (
            "Filters.1.Name=image-type&Filters.1.Values.1=PUBLIC_IMAGE&Filters.1.Values.2=X"
            "&Filters.2.Name=os&Filters.2.Values.1=",
            [
                ("unknown-filter-name", "Filters.2.Name"),
                ("empty-filter-value", "Filters.2.Values.1"),
                ("invalid-filter-value", "Filters.1.Values.2"),
            ],
        ),
        (
            "ImageIds.1=img-00000001&ImageIds.2=IMG&ImageIds.3=img-00000003&ImageIds.4=x",
            [("malformed-image-id", "ImageIds.2"), ("malformed-image-id", "ImageIds.4")],
        ),
        # A misplaced first element: the base comes from the first placed one.
        (
            "ImageIds.1.x=a&ImageIds.2=img-0&ImageIds.3=img-00000003",
            [("wrong-shape", "ImageIds.1.x"), ("malformed-image-id", "ImageIds.2")],
        ),
        (
            "ImageIds.0.x=a&ImageIds.1=img-0",
            [("wrong-shape", "ImageIds.0.x"), ("malformed-image-id", "ImageIds.1")],
        ),
        (
            "Filters.1.Values.1=x&Filters.2.Values.2=y&Filters.2.Values.1=",
            [
                ("missing-filter-name", "Filters.1"),
                ("missing-filter-name", "Filters.2"),
                ("empty-filter-value", "Filters.2.Values.1"),
            ],
        ),
        # Rule order, then wire order: the first key under each path (spec/README.md §2.4).
        (
            "Filters.1.Values.0=x&Filters.0.Values.0=y",
            [("missing-filter-name", "Filters.1"), ("missing-filter-name", "Filters.0")],
        ),
        (
            "".join(f"Filters.1.Values.{j}=x&" for j in range(6))
            + "Filters.0.Name=image-name&Filters.1.Name=image-name&"
            + "".join(f"Filters.0.Values.{j}=x&" for j in range(6)),
            [
                ("too-many-filter-values", "Filters.1.Values"),
                ("too-many-filter-values", "Filters.0.Values"),
            ],
        ),
        (
            "Filters.0.Values.1=",
            [("missing-filter-name", "Filters.0"), ("empty-filter-value", "Filters.0.Values.1")],
        ),
        (
            "Filters.0.Values.1=&Filters.0.Values.2=x",
            [("missing-filter-name", "Filters.0"), ("empty-filter-value", "Filters.0.Values.1")],
        ),
        (
            "Filters.0.Values.0=x&Filters.1.Values.1=&Filters.1.Values.0=y",
            [
                ("missing-filter-name", "Filters.0"),
                ("missing-filter-name", "Filters.1"),
                ("empty-filter-value", "Filters.1.Values.1"),
            ],
        ),
        (
            "Filters.0=x&Filters.1.Values.0=&Filters.1.Values.1=x",
            [
                ("wrong-shape", "Filters.0"),
                ("missing-filter-name", "Filters.1"),
                ("empty-filter-value", "Filters.1.Values.0"),
            ],
        ),
        (
            "Filters.1.Values.0.x=a&Filters.1.Values.1=&Filters.2.Name=&Filters.2.Values.1=a",
            [
                ("wrong-shape", "Filters.1.Values.0.x"),
                ("missing-filter-name", "Filters.1"),
                ("missing-filter-name", "Filters.2"),
                ("empty-filter-value", "Filters.1.Values.1"),
            ],
        ),
        (
            "Filters.1.Name.x=a&Filters.1.Values.2=b&Filters.1.Values.1=a",
            [("wrong-shape", "Filters.1.Name.x"), ("missing-filter-name", "Filters.1")],
        ),
        (
            "Filters.0.0=a&Filters.1.Name=image-name&Filters.1.Values.0=x&Filters.1.Foo.Bar=1",
            [("unknown-parameter", "Filters.0.0"), ("unknown-parameter", "Filters.1.Foo.Bar")],
        ),
        (
            "Filters.Name.X=a&Filters.Values=b",
            [("wrong-shape", "Filters.Name.X"), ("wrong-shape", "Filters.Values")],
        ),
        (
            "Offset.0=1&Foo.0=1&Offset.1.x=2&Bar=",
            [
                ("wrong-shape", "Offset.0"),
                ("wrong-shape", "Offset.1.x"),
                ("unknown-parameter", "Foo.0"),
                ("unknown-parameter", "Bar"),
            ],
        ),
    ],
)
def test_misplaced_keys_and_indexes_as_sent(query: str, expected: list[tuple[str, str]]) -> None:
    got = both("Action=DescribeImages&Version=2017-03-12&" + query)
    assert got.error == "RequestError"
    assert got.reported == expected


def test_placing_keeps_the_pinned_messages() -> None:
    got = both("Action=DescribeImages&Version=2017-03-12&Offset.0=1&ImageIds=x&Filters=y&Foo=1")
    assert [message for _, _, message in got.report] == [
        "Offset.0 does not fit the parameter's shape: Offset is a single value; send Offset=...",
        "ImageIds does not fit the parameter's shape: ImageIds is a list of strings; "
        "send ImageIds.0=img-...",
        "Filters does not fit the parameter's shape: Filters is a list of objects; "
        "send Filters.0.Name=... and Filters.0.Values.0=...",
        "unknown parameter Foo",
    ]


# --- the fast path honours the caller's limits ----------------------------------------------------

LIMIT_QUERIES = [
    PLAIN_1,
    "Action=DescribeImages&Version=2017-03-12"
    + "".join(f"&ImageIds.{i}=img-{i:08d}" for i in range(12)),
    "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-type"
    "&Filters.0.Values.0=PUBLIC_IMAGE&Filters.1.Name=image-name&Filters.1.Values.0=a%2Fb"
    "&Filters.1.Values.1=c&Filters.1.Values.2=d&Filters.2.Name=image-id"
    "&Filters.2.Values.0=img-00000000&Filters.3.Name=image-type&Filters.3.Values.0=PUBLIC_IMAGE",
    "Limit=5&Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-id",
    "Action=DescribeImages&Version=2017-03-12&Region=" + "r" * 30,
]


def needs(query: str) -> dict[str, int]:
    """The least limits under which ``query`` decodes: what each cap is measured on."""
    pairs = parse_query(query)
    return {
        "max_query_bytes": len(query.encode()),
        "max_pairs": len(pairs),
        "max_key_length": max(len(k) for k, _ in pairs),
        "max_value_length": max(len(v) for _, v in pairs),
        "max_depth": max(k.count(".") + 1 for k, _ in pairs),
        "max_index": max([1, *(int(s) for k, _ in pairs for s in k.split(".") if s.isdigit())]),
    }


@pytest.mark.parametrize("query", LIMIT_QUERIES)
@pytest.mark.parametrize("cap", [f.name for f in fields(WireLimits)])
def test_the_fast_path_honours_each_limit(paths: Paths, query: str, cap: str) -> None:
    at_least = needs(query)[cap]
    enough = replace(DEFAULT_LIMITS, **{cap: at_least})
    assert paths.of(lambda: decode_request(query, limits=enough)) == []
    assert both(query, enough) == both(query)
    if at_least > 1:
        tight = replace(DEFAULT_LIMITS, **{cap: at_least - 1})
        assert both(query, tight).error == "WireError"
        # decode_pairs takes pairs that passed parse_query under the same limits.
        pairs = parse_or_none(query, tight)
        if pairs is not None:
            assert outcome(lambda: decode_pairs(pairs, limits=tight)) == outcome(
                lambda: decode_general(pairs, limits=tight)
            )


def test_tight_limits_name_the_cap() -> None:
    query = (
        "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-00000000&ImageIds.1=b&ImageIds.2=c"
    )
    cases = {
        "max_pairs": ("too-large", ""),
        "max_key_length": ("too-large", "ImageIds."),
        "max_value_length": ("too-large", "Action"),
        "max_index": ("index-out-of-range", "ImageIds.2"),
        "max_depth": ("too-deep", "ImageIds.0"),
        "max_query_bytes": ("too-large", ""),
    }
    for cap, (reason, path) in cases.items():
        tight = replace(DEFAULT_LIMITS, **{cap: needs(query)[cap] - 1})
        got = both(query, tight)
        assert got.error == "WireError"
        assert got.reported[0] == (reason, path), cap


# --- input forms ---------------------------------------------------------------------------------


Form = str | bytes | bytearray | memoryview


def forms(query: str) -> Iterator[Form]:
    """A query as str, bytes, bytearray and memoryview."""
    raw = query.encode("utf-8")
    yield from (query, raw, bytearray(raw), memoryview(raw))


@given(queries())
def test_every_input_form_decodes_alike(query: str) -> None:
    assume(is_utf8(query) and not query.startswith(("/", "http")))  # a bare query
    expected = outcome(lambda: decode_request(query))
    for form in forms(query):
        assert outcome(lambda: decode_request(form)) == expected  # noqa: B023 - called at once
    bare = query.partition("#")[0]
    expected = outcome(lambda: decode_request(bare))
    for prefix in ("http://h/p?", "HTTPS://image.api.qcloud.com/v2/index.php?", "/?", "/p?"):
        for form in forms(f"{prefix}{bare}#Limit=500&x"):
            assert outcome(lambda: decode_request(form)) == expected  # noqa: B023


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (
            "http://h/p?Action=DescribeImages&Version=2017-03-12#f",
            "Action=DescribeImages&Version=2017-03-12",
        ),
        ("http://h/p?q#f", "q"),
        ("https://", ""),
        ("https://h", ""),
        ("http://h/p", ""),
        ("/v2/index.php", ""),
        ("/", ""),
        ("/?Limit=5?x=1", "Limit=5?x=1"),
        ("HtTp://h/?Limit=5", "Limit=5"),
        ("http:/h/?Limit=5", "http:/h/?Limit=5"),  # not a URL: a bare query
        ("httpx=1", "httpx=1"),
        ("?Limit=5", "?Limit=5"),
        ("#Limit=5", "#Limit=5"),
    ],
)
def test_url_edges(url: str, query: str) -> None:
    expected = both(query)
    for form, part in zip(forms(url), forms(query), strict=True):
        assert query_part(form, DEFAULT_LIMITS) == (part if isinstance(part, str) else bytes(part))
        assert outcome(lambda: decode_request(form)) == expected  # noqa: B023 - called at once


def test_a_url_longer_than_the_slack_is_not_searched() -> None:
    caps = replace(DEFAULT_LIMITS, max_query_bytes=100)
    query = "Action=DescribeImages&Version=2017-03-12"
    head = "http://h/"
    longest = "p" * (caps.max_query_bytes + 8192 - len(head) - len(query) - 1)
    for form in forms(f"{head}{longest}?{query}"):
        assert decode_request(form, limits=caps) == decode_request(query)
    for form in forms(f"{head}{longest}p?{query}"):
        got = outcome(lambda: decode_request(form, limits=caps))  # noqa: B023 - called at once
        assert (got.error, got.reported) == ("WireError", [("too-large", "")])
    with pytest.raises(WireError) as info:
        decode_request("https://x/?" + "a" * (2 * 1024 * 1024))
    assert [v.reason for v in info.value.violations] == ["too-large"]


def test_pairs_input() -> None:
    pairs = parse_query(PLAIN_1)
    expected = decode_request(PLAIN_1)
    assert decode_request(pairs) == expected
    assert decode_request(iter(pairs)) == decode_request(tuple(pairs)) == expected
    with pytest.raises(WireError) as info:
        decode_request([("Action", "DescribeImages"), ("Version", "2017-03-12\n")])
    assert [(v.reason, v.path) for v in info.value.violations] == [("control-character", "Version")]


# --- plain_query_flat: the fast path's split agrees with parse_query ----------------------------


def plain_query_dict(data: str | bytes) -> dict[str, str] | None:
    """The pairs of a plain query as a dict (None when not plain or a key repeats)."""
    flat = _fast.plain_query_flat(data)
    if flat is None:
        return None
    got = dict(zip(flat[0::2], flat[1::2], strict=True))
    return got if 2 * len(got) == len(flat) else None


@given(st.one_of(wireish_queries(), wire_pairs().map(format_query), st.text(max_size=40)))
def test_plain_query_flat_agrees_with_parse_query(query: str) -> None:
    for given_query in (query, query.encode("utf-8", "surrogatepass")):
        flat = _fast.plain_query_flat(given_query)
        if flat is not None:
            pairs = parse_or_none(given_query)
            assert pairs is not None
            assert flat == [part for pair in pairs for part in pair]


def test_plain_query_flat_takes_plain_queries() -> None:
    query = "Action=DescribeImages&Version=2017-03-12&Filters.1.Values.1=PRIVATE%5FIMAGE+X&"
    want = dict(parse_query(query))
    assert plain_query_dict(query) == want
    assert plain_query_dict(query.encode("ascii")) == want
    assert plain_query_dict("&&") == {}
    assert plain_query_dict("") == {}
    assert plain_query_dict("A=a+b&B=c") == {"A": "a b", "B": "c"}
    assert plain_query_dict("A%41=1&B+C=%2b&D=%7e%7E%20") == {"AA": "1", "B C": "+", "D": "~~ "}
    assert _fast.plain_query_flat("A=1&A=2") == ["A", "1", "A", "2"]
    # Empty segments dropped from a text with nothing to decode: split as rebuilt.
    for empty_segments in ("&A=1&&B=2&", "A=1&&&B=2", "&&A=1&B=2"):
        assert _fast.plain_query_flat(empty_segments) == ["A", "1", "B", "2"]
        assert _fast.plain_query_flat(empty_segments.encode()) == ["A", "1", "B", "2"]
    # A "%" or a "+" anywhere, with the separators alternating: decoded.
    assert _fast.plain_query_flat("A+=1&B=%41") == ["A ", "1", "B", "A"]
    assert _fast.plain_query_flat("%41=+") == ["A", " "]
    not_plain = ["A=é", "A&B=1", "A=b=c", "A=%ZZ", "A=%FF", "A=%00", "A=\x01", "A"]
    # Separators that do not alternate, with or without something to decode.
    not_plain += ["A=1=2&B", "A=1=%41&B", "A=+&B&C=1=2", "A&=", "=&A", "A=1&B=2=+&C"]
    not_plain += ["A=%", "A=%4", "A=%&B=1", "A=%0a", "A=%1F", "A=%7F", "A=%7f", "A=%E4%BD"]
    not_plain += ["A=%%41", "A=1%"]
    for query in not_plain:
        assert _fast.plain_query_flat(query) is None, query
        assert _fast.plain_query_flat(query.encode()) is None, query


def test_decode_pairs_takes_the_headers_common_parameters() -> None:
    api3 = CommonParams(region="ap-guangzhou")  # from X-TC-Region
    request = decode_pairs([("Limit", "5")], common=api3)
    assert (request.common, request.limit) == (api3, 5)  # no Action or Version needed
    # Pairs without a plan are placed the general way, with the same common parameters.
    pairs = [("Limit", "5"), ("Foo", "1")]
    assert outcome(lambda: decode_pairs(pairs, common=api3)).reported == [
        ("unknown-parameter", "Foo")
    ]
    # The header values are checked first, under the caller's limits.
    bad = CommonParams(region="a\x01")
    assert outcome(lambda: decode_pairs([("Limit", "5")], common=bad)).reported == [
        ("control-character", "Region")
    ]
    tight = replace(DEFAULT_LIMITS, max_value_length=3)
    assert outcome(lambda: decode_pairs([("Limit", "5")], common=api3, limits=tight)).reported == [
        ("too-large", "Action"),
        ("too-large", "Region"),
    ]


def test_decode_request_checks_the_headers_common_parameters_first() -> None:
    bad = CommonParams(region="a\x01")  # a control character in X-TC-Region
    for query in ("Limit=5", b"Limit=5", [("Limit", "5")]):
        assert outcome(lambda: decode_request(query, common=bad)).reported == [  # noqa: B023
            ("control-character", "Region")
        ]
    with pytest.raises(UsageError) as info:
        decode_request("Limit=5", common=cast(Any, {"Region": "ap-guangzhou"}))
    assert str(info.value) == "common must be a CommonParams, not dict"


@pytest.mark.parametrize(
    "query",
    [
        "Limit=5",  # plain, with a plan: the fast path
        "Limit=5&Filters.0.Name=image-name&Filters.0.Values.0=中文",  # parsed first
        "Limit=5&Filters.0.Name=image-name&Filters.0.Values.0=%E4%B8%AD",  # plain, decoded
    ],
)
def test_an_api3_query_takes_the_headers_common_parameters(query: str) -> None:
    api3 = CommonParams(region="ap-guangzhou")  # from X-TC-Region
    for form in (query, query.encode()):
        request = decode_request(form, common=api3)  # no Action or Version in the query
        assert (request.common, request.limit) == (api3, 5)


def test_a_limit_that_is_no_integer_is_shown_as_sent() -> None:
    got = outcome(lambda: decode_request("Action=DescribeImages&Version=2017-03-12&Limit=abc"))
    assert [message for _, _, message in got.report] == [
        "Limit is 'abc'; it must be an integer from 1 to 100"
    ]


def test_an_api3_query_reports_misplaced_keys_and_common_parameters_together() -> None:
    api3 = CommonParams(region="ap-guangzhou")
    query = "ImageIds=img-pmqg1cw7&Region=ap-shanghai&Limit=5"
    assert outcome(lambda: decode_request(query, common=api3)).reported == [
        ("wrong-shape", "ImageIds"),
        ("unknown-parameter", "Region"),
    ]


def test_violations_at_containers_come_in_wire_order() -> None:
    # Two filters without Values, sent Filters.1 first: the paths are containers
    # (Filters.1, Filters.0), placed by the first key sent under each.
    query = (
        "Action=DescribeImages&Version=2017-03-12&Filters.1.Name=image-type&Filters.0.Name=image-id"
    )
    assert outcome(lambda: decode_request(query)).reported == [
        ("missing-filter-values", "Filters.1"),
        ("missing-filter-values", "Filters.0"),
    ]


_SLACK = DEFAULT_LIMITS.max_query_bytes + 8_192  # the bytes a URL may have (query included)
_NAME_QUERY = (
    "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-name&Filters.0.Values.0="
)


def test_a_url_is_measured_in_utf8_bytes_as_text_and_as_bytes() -> None:
    # Bytes between a quarter of the bound and the bound, not ASCII: measured as they are.
    url = ("/" + "p" * 20_000 + "?" + _NAME_QUERY + "é" * 10).encode()
    assert decode_request(url).filters == (Filter("image-name", ("é" * 10,)),)
    # Text of exactly the bound's length: within it in ASCII, over it in UTF-8.
    tail = "?" + _NAME_QUERY + "e" * 10
    ascii_url = "/" + "p" * (_SLACK - len(tail) - 1) + tail
    assert len(ascii_url) == _SLACK
    assert decode_request(ascii_url).filters == (Filter("image-name", ("e" * 10,)),)
    utf8_url = ascii_url.replace("e" * 10, "é" * 10)
    assert len(utf8_url) == _SLACK
    assert outcome(lambda: decode_request(utf8_url)).reported == [("too-large", "")]


@pytest.mark.parametrize("cap", ["max_query_bytes", "max_pairs", "max_value_length"])
def test_plain_query_flat_caps(cap: str) -> None:
    query = "A=1&B=" + "v" * 10 + "&C=3"
    at_least = {"max_query_bytes": len(query), "max_pairs": 3, "max_value_length": 10}[cap]
    enough = replace(DEFAULT_LIMITS, **{cap: at_least})
    assert _fast.plain_query_flat(query, enough) == ["A", "1", "B", "v" * 10, "C", "3"]
    assert _fast.plain_query_flat(query, replace(enough, **{cap: at_least - 1})) is None
    # The value cap is checked on the decoded values, which escapes make shorter.
    escaped = "A=" + "%41" * 10
    assert _fast.plain_query_flat(escaped, replace(DEFAULT_LIMITS, max_value_length=10))


# --- the key table and the batch rule checks --------------------------------------------------


def test_every_plan_is_within_the_default_limits() -> None:
    # place() skips the limits check under DEFAULT_LIMITS: the longest layout with a plan
    # (every key of the table) must need no more than the defaults allow.
    every_key = _fast._any_order("\x01".join(_fast._KEY_AT))
    assert every_key is not None
    longest, depth, index = every_key.needs
    assert longest <= DEFAULT_LIMITS.max_key_length
    assert depth <= DEFAULT_LIMITS.max_depth
    assert index <= DEFAULT_LIMITS.max_index


def test_every_table_key_has_its_own_slot_in_encoding_order() -> None:
    assert set(_fast._SLOT) == _TABLE
    assert len(set(_fast._SLOT.values())) == len(_fast._SLOT)
    assert max(_fast._SLOT.values()) < 256
    big = DescribeImagesRequest(
        image_ids=("img-00000000",) * (MAX_IMAGE_IDS + 1),
        filters=(Filter("image-type", ("x",) * 6),) * (MAX_FILTERS + 1),
        offset=1,
        limit=1,
    )
    for base in (0, 1):
        keys = [key for key, _ in encode_request(big, base=base)]
        slots = [_fast._SLOT[key] for key in keys if key in _fast._SLOT]
        assert slots == sorted(slots)


@given(
    st.lists(
        image_ids() | st.text(alphabet="img-0123456789abcxyzAZ,é\u0661", max_size=14),
        min_size=1,
        max_size=40,
    )
)
def test_the_batch_image_id_check_agrees_with_the_regex(values: list[str]) -> None:
    assert _rules._all_image_ids(tuple(values)) is all(IMAGE_ID_RE.match(v) for v in values)


@pytest.mark.parametrize("count", [1, 7, 8, 16, 100, 101, 300])
def test_the_batch_image_id_check_at_every_size(count: int) -> None:
    valid = tuple(f"img-{i:08x}" for i in range(count))
    assert _rules._all_image_ids(valid) is True
    rng = random.Random(count)
    for bad in ("img-1234567", "img-123456789", "img-1234567,", "imh-12345678", "img-1234567A"):
        broken = list(valid)
        broken[rng.randrange(count)] = bad
        assert _rules._all_image_ids(tuple(broken)) is False, bad
    if count > 1:  # lengths that shift but keep the joined length
        assert _rules._all_image_ids(("img-1234567", "ximg-12345678", *valid[2:])) is False
        assert _rules._all_image_ids(("img-1234567-", "img-1234567", *valid[2:])) is False


# --- integers, and a decode that asks for its plan once -----------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("007", 7),
        ("0" * 25, 0),
        ("0" * 30 + "1", 1),
        ("9" * 19, None),
        ("9223372036854775807", 9223372036854775807),
        ("0" * 5 + "9223372036854775807", 9223372036854775807),
        ("9223372036854775808", None),
        ("1" + "0" * 19, None),
        ("0" * 4 + "1" + "0" * 19, None),
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1_0", None),
        ("\u0661", None),
        ("1" * 4000, None),  # counted before int(), which would refuse 4,300 digits
    ],
)
def test_offsets_as_sent(text: str, value: int | None) -> None:
    query = f"Action=DescribeImages&Version=2017-03-12&Offset={quote(text)}&Limit=1"
    got = both(query)
    if value is None or value > MAX_OFFSET:
        assert got.reported == [("invalid-offset", "Offset")]
    else:
        assert got.request is not None and got.request.offset == value


def test_a_decode_looks_its_plan_up_once() -> None:
    _fast.plan.cache_clear()
    no_plan = "Action=DescribeImages&Version=2017-03-12&Foo=1"
    for query in (PLAIN_1, no_plan, "Action=DescribeImages&Version=2017-03-12&Region=中"):
        before = _fast.plan.cache_info()
        outcome(lambda: decode_request(query))  # noqa: B023 - called at once
        after = _fast.plan.cache_info()
        assert (after.hits - before.hits) + (after.misses - before.misses) == 1, query


# --- wire order of violations ----------------------------------------------------------------


def in_order_reference(found: list[Any], keys: list[str]) -> list[Any]:
    """_in_order as it was: every prefix of every key walked, the first position kept."""
    first: dict[str, int] = {}
    for position, key in enumerate(keys):
        path = key
        while path not in first:
            first[path] = position
            cut = path.rfind(".")
            if cut < 0:
                break
            path = path[:cut]
    return sorted(found, key=lambda v: (_errors.RULE_RANK[v.reason], first.get(v.path, -1)))


SEGMENTS = st.sampled_from(["Filters", "ImageIds", "Action", "0", "1", "2", "Name", "Values", "K"])


@given(
    st.lists(st.lists(SEGMENTS, min_size=1, max_size=4).map(".".join), max_size=12, unique=True),
    st.lists(
        st.tuples(
            st.sampled_from(sorted(_errors.RULE_RANK)),
            st.lists(SEGMENTS, max_size=4).map(".".join),
        ),
        max_size=12,
    ),
)
def test_violations_are_in_rule_then_wire_order(
    keys: list[str], violations: list[tuple[str, str]]
) -> None:
    # As the codec leaves them: no key is a prefix of another (that is a shape conflict).
    keys = [k for k in keys if not any(o.startswith(k + ".") for o in keys)]
    found = [_errors.violation(reason, path, "m") for reason, path in violations]
    assert _decode._in_order(list(found), keys) == in_order_reference(found, keys)


def test_a_container_path_takes_its_first_key_not_its_last() -> None:
    # Filters.0 is sent first and last: its violation comes before Filters.1's.
    query = (
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Values.0=a"
        "&Filters.1.Values.0=b&Filters.0.Values.1=c"
    )
    assert both(query).reported == [
        ("missing-filter-name", "Filters.0"),
        ("missing-filter-name", "Filters.1"),
    ]
    keys = ["Filters.0.Values.0", "Filters.1.Values.0", "Filters.0.Values.1"]
    found = [_errors.violation("missing-filter-name", f"Filters.{i}", "m") for i in (1, 0)]
    assert [v.path for v in _decode._in_order(found, keys)] == ["Filters.0", "Filters.1"]


def test_the_unsupported_version_message_shows_the_version_sent() -> None:
    for query in (
        "Action=DescribeImages&Version=2017-01-01",
        "Version=2017-01-01&Action=DescribeImages",
    ):
        assert both(query).report == (
            (
                "unsupported-version",
                "Version",
                "Version '2017-01-01' is not supported; use '2017-03-12'",
            ),
        )


@pytest.mark.parametrize("query", ["=", "=x", "&=&", b"="])
def test_a_lone_empty_key_is_not_the_layout_of_no_key(query: str | bytes) -> None:
    # "" joined is "", which is also the layout of no key at all: the fast path declines
    # (its plan has no key for the one sent), and the general path refuses the empty key.
    assert both(query).error == "WireError"


def test_a_name_twice_before_a_gap_is_a_duplicate_key_not_a_run_of_filters() -> None:
    # Found by the ci profile: Filters.0.Name twice then Filters.2.Name has three filter
    # entries numbered 0, 0, 2, whose span equals their count; it has no plan.
    query = (
        "Action=DescribeImages&Version=2017-03-12&Filters.0.Name=image-id"
        "&Filters.0.Name=image-id&Filters.2.Name=image-id"
    )
    assert _fast.plan("\x01".join(parse_query_keys(query))) is None
    with pytest.raises(RequestError) as info:
        decode_request(query)
    assert [(v.reason, v.path) for v in info.value.violations] == [
        ("duplicate-key", "Filters.0.Name"),
        ("index-gap", "Filters.2"),
    ]


# --- a layout in the encoder's order is recognised whole -------------------------------------


def placed_by(found: _fast.Plan) -> tuple[object, ...]:
    """What a plan places, and what it needs of the limits, for distinct values."""
    flat = [text for i in range(found.size) for text in (f"k{i}", f"v{i}")]
    got = found.place(flat)
    return (
        found.size,
        found.needs,
        got.scalars,
        tuple(got.image_ids),
        list(_indexes(got.image_index, len(got.image_ids))),
        tuple(got.filters),
        list(_indexes(got.filter_index, len(got.filters))),
        [
            list(
                _indexes(None if got.value_index is None else got.value_index[n], len(item.values))
            )
            for n, item in enumerate(got.filters)
        ],
    )


def _indexes(sent: Sequence[int] | None, count: int) -> Sequence[int]:
    """The indexes as sent (None: from 0, as the encoder writes them)."""
    return range(count) if sent is None else sent


@given(valid_requests() | invalid_requests().map(lambda case: case[0]), st.sampled_from([0, 1]))
def test_the_encoders_layout_is_recognised_whole(
    request: DescribeImagesRequest, base: Literal[0, 1]
) -> None:
    layout = "\x01".join(key for key, _ in encode_request(request, base=base))
    key_by_key = _fast._any_order(layout)
    whole = _fast._in_order(layout)
    # Every layout the encoder writes within the key table: the same plan either way.
    assert (whole is None) is (key_by_key is None)
    if whole is not None and key_by_key is not None:
        assert placed_by(whole) == placed_by(key_by_key)


@given(layouts())
def test_a_layout_recognised_whole_has_the_plan_looked_up_key_by_key(keys: list[str]) -> None:
    layout = "\x01".join(keys)
    whole = _fast._in_order(layout)
    if whole is not None:
        key_by_key = _fast._any_order(layout)
        assert key_by_key is not None
        assert placed_by(whole) == placed_by(key_by_key)


_ORDERED = (
    "Action\x01Version\x01Filters.0.Name\x01Filters.0.Values.0\x01Filters.1.Name\x01Offset\x01Limit"
)


@pytest.mark.parametrize(
    "layout",
    [
        "Action\x01Version\x01Offset\x01Offset",
        "Offset\x01Action\x01Version\x01ImageIds.0\x01Offset",  # a scalar twice, around
        "Action\x01ImageIds.0\x01Version\x01ImageIds.1",  # a scalar among the lists
        "Action\x01Filters.0.Name\x01Version\x01Filters.0.Values.0",
        "Action\x01Version\x01Filters.0.Name\x01ImageIds.0",  # lists out of order
        "\x01Action\x01Version\x01ImageIds.0",  # an empty key, before or after
        "Action\x01Version\x01ImageIds.0\x01",
        "\x01ImageIds.0",
        "",  # no key at all (looked at key by key, like every layout of scalars only)
        "Action\x01Version\x01XImageIds.0\x01ImageIds.0",
        "Action\x01Version\x01ImageIds.0\x01Filters.0.NameX",
        "Action\x01Version\x01Foo",
        "Action\x01Version\x01",
        "Action\x01VersionX",
        "Action\x01Version\x01ImageIds.1\x01ImageIds.0",
        "Action\x01Version\x01ImageIds.0\x01ImageIds.2",
        "Action\x01Version\x01ImageIds.1\x01Filters.0.Name",  # two bases
        "Action\x01Version\x01Filters.1.Name\x01Filters.1.Values.0",
        "Action\x01Version\x01Filters.0.Name\x01Filters.0.Values.1",
        "Action\x01Version\x01Filters.0.Name\x01Filters.2.Name",
        "Action\x01Version\x01Filters.0.Name\x01Filters.0.Values.0\x01Filters.0.Values.0",
        "Action\x01Version\x01Filters.0.Name\x01Filters.0.Values.0\x01Filters.0.Values.2"
        "\x01Filters.1.Name",  # the length of two values, not their keys
        "Action\x01Version\x01Filters.0.Name\x01Foo.Values.0x",
        "Action\x01Version\x01Filters.0.Name\x01Filters.0.Values.0\x01Filters.0.Values.1"
        "\x01Filters.0.Values.2\x01Filters.0.Values.3\x01Filters.0.Values.4"
        "\x01Filters.0.Values.5\x01Filters.0.Values.6\x01Filters.0.Values.7",  # past the table
        "Action\x01Version" + "".join(f"\x01Filters.{i}.Name" for i in range(13)),
        "Action\x01Version" + "".join(f"\x01ImageIds.{i}" for i in range(103)),
        "Action\x01Version" + "".join(f"\x01ImageIds.{i}" for i in range(1, 103)),
        _ORDERED + "\x01",
    ],
)
def test_other_layouts_are_looked_at_key_by_key(layout: str) -> None:
    assert _fast._in_order(layout) is None


@pytest.mark.parametrize(
    "layout",
    [
        "Action\x01Version",
        _ORDERED,
        "Action\x01Version\x01Filters.1.Name\x01Filters.1.Values.1\x01Filters.2.Name",
        "Action\x01Version" + "".join(f"\x01Filters.{i}.Name" for i in range(12)),
        "Action\x01Version" + "".join(f"\x01Filters.{i}.Name" for i in range(1, 12)),
        "Action\x01Version" + "".join(f"\x01ImageIds.{i}" for i in range(102)),
        "Action\x01Version" + "".join(f"\x01ImageIds.{i}" for i in range(1, 102)),
        "Action\x01Version\x01ImageIds.0\x01Filters.0.Name\x01Filters.0.Values.0"
        + "".join(f"\x01{name}" for name in _fast._TAIL),
        "Action\x01Version\x01Filters.0.Name"
        + "".join(f"\x01Filters.0.Values.{j}" for j in range(7)),
        "Action\x01Version\x01Filters.1.Name"
        + "".join(f"\x01Filters.1.Values.{j}" for j in range(1, 7))
        + "\x01Filters.2.Name\x01Filters.2.Values.1",
        # The scalars in any order, before and after the lists: as a v1 signer sorts the
        # keys, as the official SDK sends a v1-signed request (its parameters, then the
        # common ones), as an API 3.0 GET sends its query (no common parameter at all).
        "Version\x01Action",
        _ORDERED.replace("Offset\x01Limit", "Limit\x01Offset"),
        "Action\x01Filters.0.Name\x01Filters.0.Values.0\x01Filters.1.Name\x01Limit\x01Nonce"
        "\x01Offset\x01Region\x01SecretId\x01Signature\x01SignatureMethod\x01Timestamp"
        "\x01Version",
        "Filters.0.Name\x01Filters.0.Values.0\x01Offset\x01Limit\x01Action\x01RequestClient"
        "\x01Nonce\x01Timestamp\x01Version\x01Region\x01SecretId\x01SignatureMethod"
        "\x01Signature",
        "ImageIds.0\x01ImageIds.1",
        "ImageIds.0\x01ImageIds.1\x01Filters.0.Name\x01Filters.0.Values.0",  # from the first
        "Action\x01Version\x01ImageIds.0\x01ImageIds.1\x01ImageIds.2\x01Filters.0.Name",
        "Filters.1.Name\x01Filters.1.Values.1\x01Limit",
        "Limit\x01Offset",
        "Offset",
    ],
)
def test_lists_in_the_encoders_order_are_recognised_up_to_the_table_edges(layout: str) -> None:
    whole = _fast._in_order(layout)
    key_by_key = _fast._any_order(layout)
    assert whole is not None and key_by_key is not None
    assert placed_by(whole) == placed_by(key_by_key)


def test_a_decode_of_an_encoded_request_builds_its_plan_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(layout: str) -> None:
        raise AssertionError(f"looked at key by key: {layout!r}")

    monkeypatch.setattr(_fast, "_any_order", refuse)
    _fast.plan.cache_clear()
    try:
        for base in (0, 1):
            pairs = encode_request(PLAIN_REQUEST, base=base)
            assert decode_request(format_query(pairs)) == PLAIN_REQUEST
    finally:
        _fast.plan.cache_clear()


PLAIN_REQUEST = DescribeImagesRequest(
    filters=(Filter("image-type", ("PRIVATE_IMAGE", "SHARED_IMAGE")), Filter("image-name", ("x",))),
    offset=0,
    limit=10,
    common=CommonParams(region="ap-guangzhou"),
)
