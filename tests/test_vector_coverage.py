"""Every reason and every error code the spec names appears in some vector
(spec/README.md §Vector files), except a named, documented list of those that no vector
kind can produce today; that list is asserted too, so it can neither grow silently nor
keep a reason a vector has come to cover."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images import SPEC_VERSION, ErrorCode, RequestError, _errors, _grammar, decode_request

from . import vectorfiles

SPEC = vectorfiles.SPEC
README = (SPEC / "README.md").read_text("utf-8")

# Reasons no vector kind can produce today, each with why. A reason leaves this list as
# soon as a vector covers it (the test below then fails until it is removed here).
EXEMPT_REASONS: dict[str, str] = {
    "nonce-store-full": (
        "needs a nonce store at its cap; a verification case uses a fresh, empty store "
        "(spec/README.md §Vector files, signing.json)"
    ),
    "nonce-store-unavailable": (
        "needs a shared store (Redis) that cannot be reached; a verification case uses an "
        "in-memory store, always reachable (tests/test_redis_nonces.py covers it for real)"
    ),
    "not-json": "a malformed response or catalog document: no vector kind reads documents",
    "missing-member": "a malformed response or catalog document: no vector kind reads documents",
    "wrong-member-type": (
        "a malformed response or catalog document: no vector kind reads documents"
    ),
    "bad-document": "a malformed response or catalog document: no vector kind reads documents",
}
# Codes only exempt reasons (or the server's own failure) produce.
EXEMPT_CODES: dict[str, str] = {
    "RequestLimitExceeded": "only nonce-store-full has it",
    "InternalError": "the document reasons and a server's own failure (spec/README.md §3.4)",
}


def _section(heading: str) -> str:
    """The text of one section of spec/README.md, up to the next heading."""
    start = README.index(f"\n{heading}\n")
    end = README.find("\n#", start + len(heading) + 2)
    return README[start : end if end >= 0 else len(README)]


def spec_reasons() -> dict[str, set[str]]:
    """Each reason named in the README's tables, with the codes the tables give it."""
    named: dict[str, set[str]] = {}
    for reason in re.findall(r"^\| `([a-z0-9-]+)` \|", _section("### 1.7 Reasons"), re.M):
        named.setdefault(reason, set()).add("InvalidParameter")
    rules = _section("### 2.3 Rules")
    rule_row = r"^\| \d+ \| .* \| ([A-Za-z.]+) \| ([a-z0-9-]+) \| "
    for code, reason in re.findall(rule_row, rules, re.M):
        if reason != "the":  # row 0: "the codec's reason"
            named.setdefault(reason, set()).add(code)
    checks = _section("### 4.3 Verification")
    check_row = r"^\| \d+[a-z]? \| `([A-Za-z.]+)` \| `([a-z0-9-]+)` \|"
    for code, reason in re.findall(check_row, checks, re.M):
        named.setdefault(reason, set()).add(code)
    tc3 = _section("#### 4.7.4 Verification")
    tc3_row = r"^\| \d+[a-z]? \| `([A-Za-z.]+)` \| ((?:`[a-z0-9-]+`(?: / )?)+) \|"
    for code, reasons in re.findall(tc3_row, tc3, re.M):
        for reason in re.findall(r"`([a-z0-9-]+)`", reasons):
            named.setdefault(reason, set()).add(code)
    json_reasons = _section("### 2.10 JSON requests (API 3.0)")
    for reason, code in re.findall(r"^\| `([a-z0-9-]+)` \| ([A-Za-z.]+) \|", json_reasons, re.M):
        named.setdefault(reason, set()).add(code)
    server = _section("#### API 3.0 calls")
    for reason, code in re.findall(r"^\| `([a-z0-9-]+)` \| `([A-Za-z.]+)` \|", server, re.M):
        named.setdefault(reason, set()).add(code)
    document = re.search(r"`DocumentError` \|.*?reasons ([^)]*)\)", README)
    assert document is not None
    for reason in re.findall(r"`([a-z0-9-]+)`", document.group(1)):
        named.setdefault(reason, set()).add("InternalError")
    return named


def _vectors(name: str) -> dict[str, Any]:
    return vectorfiles.load(name)


def vector_errors() -> list[tuple[str, str, str]]:
    """(file/id, code, reason) of every expected violation in every vector file: one
    shape everywhere, {code, reason, path} in a case's "errors" (spec/README.md §Vector files)."""
    found: list[tuple[str, str, str]] = []
    for path in vectorfiles.vector_files():
        for case in _vectors(path.name)["cases"]:
            where = f"{path.stem}/{case['id']}"
            # A server case's violations are those behind its answer's envelope.
            errors = case.get("response", case).get("errors", [])
            found += [(where, e["code"], e["reason"]) for e in errors]
    return found


def test_the_spec_tables_name_the_library_vocabulary() -> None:
    named = spec_reasons()
    assert set(named) == set(_errors.REASONS)
    for reason, codes in named.items():
        assert codes == {_errors.REASONS[reason].value}, reason


def test_every_reason_is_in_a_vector_or_exempt() -> None:
    seen = {reason for _, _, reason in vector_errors()}
    assert seen <= set(_errors.REASONS)
    assert set(_errors.REASONS) - seen == set(EXEMPT_REASONS)
    assert not seen & set(EXEMPT_REASONS)  # a covered reason is no longer exempt


def test_every_code_is_in_a_vector_or_exempt() -> None:
    every = {code.value for code in ErrorCode} | {c.value for c in _errors.REASONS.values()}
    seen = {code for _, code, _ in vector_errors()}
    assert every - seen == set(EXEMPT_CODES)
    assert not seen & set(EXEMPT_CODES)
    # An exempt code is produced only by exempt reasons (or by no reason at all).
    for reason, code in _errors.REASONS.items():
        if code.value in EXEMPT_CODES:
            assert reason in EXEMPT_REASONS, reason


def test_every_vector_gives_a_reason_its_own_code() -> None:
    wrong = [
        (where, code, reason)
        for where, code, reason in vector_errors()
        if _errors.REASONS[reason].value != code
    ]
    assert wrong == []


# --- one format for every vector file (spec/README.md §Vector files) ---------------------

# Each file's fixtures, between its description and its cases.
FIXTURES = {
    "wire.json": ["limits"],
    "query.json": ["catalog"],
    "signing.json": ["credentials"],
    "tc3.json": ["credentials"],
    "server.json": ["catalog"],
}
# The files whose cases are of several kinds, and those kinds.
KINDS = {
    "wire.json": {"query", "flatten", "format"},
    "signing.json": {"sign", "verify"},
    "tc3.json": {"sign", "verify"},
}
COMMON = "common.schema.json"


@pytest.mark.parametrize("path", vectorfiles.vector_files(), ids=lambda path: path.name)
def test_vector_file_matches_its_schema(path: Path) -> None:
    document = json.loads(path.read_text("utf-8"))
    schema_path = vectorfiles.schema_path(path, document)
    assert schema_path == vectorfiles.SCHEMAS / f"{path.stem}.schema.json"
    schema = vectorfiles.schemas()[schema_path.name]
    assert vectorfiles.schema_problems(document, schema) == []
    ids = [case["id"] for case in document["cases"]]
    assert [i for i in ids if ids.count(i) > 1] == []


@pytest.mark.parametrize("path", vectorfiles.vector_files(), ids=lambda path: path.name)
def test_vector_file_top_level(path: Path) -> None:
    document = json.loads(path.read_text("utf-8"))
    members = ["$schema", "spec_version", "description", *FIXTURES.get(path.name, []), "cases"]
    assert list(document) == members
    assert document["spec_version"] == SPEC_VERSION
    kinds = {case.get("kind") for case in document["cases"]}
    assert kinds == KINDS.get(path.name, {None})


def test_every_schema_is_used_and_refs_the_common_one() -> None:
    used = {
        vectorfiles.schema_path(path, json.loads(path.read_text("utf-8"))).name
        for path in vectorfiles.vector_files()
    }
    assert set(vectorfiles.schemas()) == used | {COMMON}
    for name in used:
        schema = vectorfiles.schemas()[name]
        assert schema["$id"].endswith(f"/spec/schema/{name}")
        assert schema["properties"]["$schema"] == {
            "description": "This file's schema, relative to the file.",
            "const": f"../schema/{name}",
        }
        assert schema["properties"]["spec_version"] == {"$ref": f"{COMMON}#/$defs/spec_version"}
        assert schema["required"][:3] == ["$schema", "spec_version", "description"]


def test_the_common_schema_is_the_library_vocabulary() -> None:
    defs = vectorfiles.schemas()[COMMON]["$defs"]
    assert defs["code"]["enum"] == [code.value for code in ErrorCode]
    assert set(defs["code"]["enum"]) >= {"RequestLimitExceeded", "InternalError"}
    assert defs["reason"]["enum"] == list(_errors.REASONS)
    assert defs["spec_version"] == {
        "description": defs["spec_version"]["description"],
        "const": SPEC_VERSION,
    }


def _common(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one definition of the common schema."""
    root = vectorfiles.schemas()[COMMON]["$id"]
    return vectorfiles.validator({"$ref": f"{root}#/$defs/{name}"})


def test_the_common_schema_refuses_what_it_should() -> None:
    check = _common("errors")
    good = {"code": "InvalidParameter", "reason": "bad-key", "path": "A..B"}
    long_path = {**good, "path": {"prefix": "A", "repeat": "b", "times": 200}}
    assert check.is_valid([]) and check.is_valid([good, long_path])
    for bad in (
        {**good, "code": "NoSuchCode"},
        {**good, "reason": "no-such-reason"},
        {"reason": "bad-key", "key": "A..B"},  # the 1.x wire shape
        {key: value for key, value in good.items() if key != "path"},
        {**good, "message": "not part of the contract"},
    ):
        assert not check.is_valid([bad]), bad
    assert not _common("failure").is_valid([])
    version = _common("spec_version")
    assert version.is_valid(SPEC_VERSION) and not version.is_valid("1.0.0")


# --- statements of the spec checked against the code ------------------------------------


def shown_as_spec_says(raw: bytes) -> str:
    """spec/README.md §1.7, "Showing a key that is not UTF-8", from bytes, written from the
    text alone: left to right, a well-formed UTF-8 sequence is its character, any other
    byte is \\xNN (lower-case hex)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        for size in (1, 2, 3, 4):
            try:
                out.append(raw[i : i + size].decode("utf-8"))  # strict: well-formed only
            except UnicodeDecodeError:
                continue
            i += size
            break
        else:
            out.append(f"\\x{raw[i]:02x}")
            i += 1
    return "".join(out)


@given(st.binary(max_size=40))
def test_bad_bytes_are_shown_as_the_spec_says(raw: bytes) -> None:
    key = raw.replace(b"&", b"").replace(b"=", b"").replace(b"%", b"")
    got = _grammar.printable(key.decode("utf-8", "surrogateescape"), from_bytes=True)
    assert got == shown_as_spec_says(key)
    got.encode("utf-8")  # always printable as UTF-8


@given(st.text(alphabet=st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=20))
def test_lone_surrogates_are_shown_as_the_spec_says(text: str) -> None:
    expected = "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    assert _grammar.printable(text, from_bytes=False) == expected


def test_a_url_as_text_and_as_bytes_is_read_alike_at_the_slack() -> None:
    # spec/README.md §2.2: the slack counts UTF-8 bytes for text too (regression: it
    # counted code points, so this URL was searched as text and refused as bytes).
    for case in _vectors("validate.json")["cases"]:
        if case["id"].startswith(("url-slack", "url-over-slack", "url-at-slack")):
            query: str = case["query"]
            assert _outcome(query) == _outcome(query.encode("utf-8")) == case["errors"]


def _outcome(query: str | bytes) -> list[dict[str, str]]:
    try:
        decode_request(query)
    except RequestError as exc:
        return [{"code": v.code, "reason": v.reason, "path": v.path} for v in exc.violations]
    return []
