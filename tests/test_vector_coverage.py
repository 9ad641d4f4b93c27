"""Every reason and every error code the spec names appears in some vector
(spec/README.md §Vector files), except a named, documented list of those that no vector
kind can produce today; that list is asserted too, so it can neither grow silently nor
keep a reason a vector has come to cover."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from describe_images import ErrorCode, _errors

SPEC = Path(__file__).resolve().parent.parent / "spec"
README = (SPEC / "README.md").read_text("utf-8")

# Reasons no vector kind can produce today, each with why. A reason leaves this list as
# soon as a vector covers it (the test below then fails until it is removed here).
EXEMPT_REASONS: dict[str, str] = {
    "wrong-type": (
        "a JSON value or a value built in code of the wrong type: no vector kind feeds "
        "from_dict or a built request and expects violations (the JSON-request vectors of "
        "the API 3.0 issue are that kind)"
    ),
    "nonce-store-full": (
        "needs a nonce store at its cap; a verification case uses a fresh, empty store "
        "(spec/README.md §Vector files, signing.json)"
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
    document = re.search(r"`DocumentError` \|.*?reasons ([^)]*)\)", README)
    assert document is not None
    for reason in re.findall(r"`([a-z0-9-]+)`", document.group(1)):
        named.setdefault(reason, set()).add("InternalError")
    return named


def _vectors(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPEC / "vectors" / name).read_text("utf-8"))
    return document


def vector_errors() -> list[tuple[str, str, str]]:
    """(file/id, code, reason) of every expected violation in every vector file."""
    found: list[tuple[str, str, str]] = []
    for case in _vectors("wire.json")["cases"]:
        # Every wire violation is InvalidParameter (spec/README.md §1.7).
        where = f"wire/{case['id']}"
        found += [(where, "InvalidParameter", e["reason"]) for e in case.get("errors", [])]
    for case in _vectors("validate.json")["cases"]:
        found += [(f"validate/{case['id']}", e["code"], e["reason"]) for e in case["errors"]]
    signing = _vectors("signing.json")
    for case in signing["signing"]:
        found += [(f"signing/{case['id']}", e["code"], e["reason"]) for e in case.get("errors", [])]
    for case in signing["verification"]:
        errors = case["expect"].get("errors", [])
        found += [(f"signing/{case['id']}", e["code"], e["reason"]) for e in errors]
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
