"""Command-line text -> values: option types, ``-`` for stdin, JSON, credentials files.

Every refusal here is a usage error (exit 2, README.md#text-in-text-out), except JSON whose
strings are not text (a lone surrogate): that is a request the rules refuse (exit 1).
Numbers are read from ASCII digits only: ``str.isdigit``, ``int`` and ``float`` also take
other scripts' digits (``٨٠٠٠``), spaces and underscores, which no option means.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from typing import Any, Final, TextIO
from urllib.parse import SplitResult, urlsplit

from .._errors import RequestError, UsageError, Violation, violation
from .._grammar import is_utf8, printable, quoted
from .._model import DescribeImagesRequest

# ASCII-only on purpose: in a str pattern, \d and str.isdigit() match every script's digits.
PORT_RE: Final = re.compile(r"[0-9]{1,5}")
NUMBER_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
BASE_RE: Final = re.compile(r"[01]")
# A host to listen on is a name or an IP address: printable ASCII (empty: every interface).
HOST_RE: Final = re.compile(r"[!-~]*")
MAX_PORT: Final = 65535


def port(text: str) -> int:
    if not PORT_RE.fullmatch(text) or int(text) > MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is 0 to {MAX_PORT}, not {text[:20]!r}")
    return int(text)


def _number(text: str) -> float:
    # NUMBER_RE first: float() alone also reads "nan", " 1", "1_0" and non-ASCII digits.
    return float(text) if NUMBER_RE.fullmatch(text) else math.nan


def seconds(text: str) -> float:
    value = _number(text)
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"seconds must be a finite number >= 0, not {text[:20]!r}")
    return value


def unix_time(text: str) -> float:
    value = _number(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"a Unix time is a finite number, not {text[:20]!r}")
    return value


def base(text: str) -> int:
    if not BASE_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"the list base is 0 or 1, not {text[:20]!r}")
    return int(text)


def host(text: str) -> str:
    if not HOST_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"a host is a name or an IP address in printable ASCII, not {text[:40]!r}"
        )
    return text


def path(text: str) -> str:
    """A file name the system can open: no NUL, and encodable (lone surrogates only as
    undecodable bytes, which is how the system hands them over)."""
    try:
        if "\0" not in text and os.fsencode(text):
            return text
    except UnicodeEncodeError:
        pass
    raise argparse.ArgumentTypeError(f"not a file name: {text[:40]!r}")


def argument(text: str, stdin: TextIO) -> str:
    """The argument itself, or stdin's text for ``-`` (its trailing newline dropped)."""
    if text == "-":
        return stdin.read().rstrip("\r\n")
    return text


def http_url(url: str) -> SplitResult:
    """``url`` split, if it is an http(s) URL without user information (``sign``'s
    endpoint, ``verify``'s URL)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # ValueError for a port that is not 0 to 65535 in ASCII digits
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{url[:200]!r} is not an http(s) URL")
    if "@" in parts.netloc:  # the Host header never carries user information
        raise UsageError(f"{url[:200]!r}: the URL must not carry user information (user@)")
    return parts


# --- JSON ----------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise UsageError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _integer(digits: str) -> int:
    # Python refuses to read an int of more digits than this (its int<->str limit); say so
    # plainly rather than with its advice about sys.set_int_max_str_digits.
    # (0: no limit, as on a Python before 3.10.7, which has no get_int_max_str_digits.)
    limit: int = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if limit and len(digits.lstrip("-")) > limit:
        count = len(digits.lstrip("-"))
        raise UsageError(f"an integer of {count} digits; at most {limit} are read")
    return int(digits)


def load_json(text: str, refusal: str) -> Any:
    """``text`` parsed as JSON; :class:`UsageError` starting with ``refusal`` if it is not
    JSON (``"the request is not valid JSON"``)."""
    try:
        return json.loads(text, parse_int=_integer, parse_constant=_refuse_constant)
    except UsageError as exc:
        raise UsageError(f"{refusal}: {exc}") from None
    except RecursionError:
        raise UsageError(f"{refusal}: it is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError
        raise UsageError(f"{refusal}: {exc}") from None


def _lone_surrogates(request: dict[str, object]) -> list[Violation]:
    # JSON text may escape a lone surrogate ("\ud800"), and argv or stdin carry undecodable
    # bytes as lone surrogates: such a string is not text, as in a query (bad-utf8, §1.2).
    # Iterative, in document order (each key before its value): JSON may nest as deep as
    # json.loads allows, deeper than the stack left to a recursive walk.
    found: list[Violation] = []
    stack = _members("", request)[::-1]
    while stack:
        where, value, is_key = stack.pop()
        if isinstance(value, str):
            if not is_utf8(value):
                what = "the key" if is_key else "the value of"
                message = f"{what} {quoted(where)} is not valid UTF-8"
                found.append(violation("bad-utf8", printable(where, False), message))
        elif isinstance(value, dict):
            stack += _members(f"{where}.", value)[::-1]
        elif isinstance(value, list):
            stack += [(f"{where}.{i}", item, False) for i, item in enumerate(value)][::-1]
    return found


def _members(prefix: str, members: dict[str, object]) -> list[tuple[str, object, bool]]:
    """Each key, then its value, with its path: (path, key or value, whether a key)."""
    out: list[tuple[str, object, bool]] = []
    for key, value in members.items():
        out += [(prefix + key, key, True), (prefix + key, value, False)]
    return out


def request_from_json(text: str) -> DescribeImagesRequest:
    """The request written as JSON (PascalCase, as ``DescribeImagesRequest.from_dict``)."""
    data = load_json(text, "the request is not valid JSON")
    # Only an object is a request; from_dict says so for anything else.
    found = _lone_surrogates(data) if isinstance(data, dict) else []
    if found:
        raise RequestError(found)
    return DescribeImagesRequest.from_dict(data)


def load_credentials(file_name: str) -> dict[str, str]:
    """A credentials file, JSON ``{SecretId: SecretKey}`` (``verify``, ``serve``)."""
    try:
        with open(file_name, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read credentials {file_name!r}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"credentials {file_name!r} are not UTF-8 (byte {exc.start})") from None
    data = load_json(text, f"credentials {file_name!r} are not valid JSON")
    if not (
        isinstance(data, dict)
        and all(isinstance(v, str) and is_utf8(k) and is_utf8(v) for k, v in data.items())
    ):
        raise UsageError(f"credentials {file_name!r} must be a JSON object {{SecretId: SecretKey}}")
    return data
