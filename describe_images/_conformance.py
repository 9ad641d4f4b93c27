"""The conformance runner: send the spec's vectors to a live endpoint and check its answers.

:func:`run_conformance` returns a :class:`ConformanceReport` and prints nothing; the
``describe-images conformance`` command prints it (describe_images/_cli/conformance.py).

The vectors ship as package data (``describe_images/data/vectors/``, byte-identical copies
of spec/vectors/, which stays their source of truth). See spec/README.md §3.5.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from ._catalog import CatalogError, parse_catalog
from ._errors import DescribeImagesError, ServiceError, UsageError
from ._response import DescribeImagesResponse, Image, ResponseFormatError
from ._spec import ACTION, METHODS, VERSION

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

Method = Literal["GET", "POST"]
FORM_TYPE: Final = "application/x-www-form-urlencoded"
JSON_TYPE: Final = "application/json"
# The probe asks for the whole catalog (up to 100 images): its answer tells whether the
# server holds the query vectors' catalog, and whether it can be reached at all.
PROBE_QUERY: Final = f"Action={ACTION}&Version={VERSION}&Limit=100"


class VectorError(DescribeImagesError):
    """A vector file is missing or not in the documented shape."""


@dataclass(frozen=True, slots=True)
class ValidateVector:
    """A validate case: a query, and the Code a server answers (None: it succeeds)."""

    id: str
    description: str
    query: str
    code: str | None


@dataclass(frozen=True, slots=True)
class QueryVector:
    """A query case: a valid query and the TotalCount and ImageIds its answer holds."""

    id: str
    description: str
    query: str
    total_count: int
    image_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vectors:
    """The validate and query vectors, and the query vectors' catalog."""

    validate: tuple[ValidateVector, ...]
    query: tuple[QueryVector, ...]
    catalog: tuple[Image, ...]


def load_vectors(directory: str | os.PathLike[str] | Traversable | None = None) -> Vectors:
    """Read ``validate.json`` and ``query.json`` from ``directory`` (default: the package's
    copy of spec/vectors/)."""
    if directory is None:
        root: Traversable = resources.files("describe_images") / "data" / "vectors"
    elif isinstance(directory, (str, os.PathLike)):
        root = Path(directory)
    else:
        root = directory
    validate = _read(root, "validate.json")
    query = _read(root, "query.json")
    try:
        catalog = parse_catalog(query, source="query.json")
        return Vectors(
            validate=tuple(_validate_vector(case) for case in _cases(validate, "validate.json")),
            query=tuple(_query_vector(case) for case in _cases(query, "query.json")),
            catalog=catalog,
        )
    except (CatalogError, KeyError, TypeError, ValueError) as exc:
        # Strategy: the shape checks below index and convert freely; any slip becomes one
        # error naming the file, never a bare KeyError.
        raise VectorError(f"vectors in {root}: {exc!r}") from None


def _read(root: Traversable, name: str) -> Mapping[str, object]:
    try:
        data = json.loads((root / name).read_bytes())
    except (OSError, ValueError) as exc:
        raise VectorError(f"cannot read {name} in {root}: {exc}") from None
    if not isinstance(data, Mapping):
        raise VectorError(f"{name} in {root} is not a JSON object")
    return data


def _cases(data: Mapping[str, object], name: str) -> list[Mapping[str, object]]:
    cases = data["cases"]
    if not isinstance(cases, list) or not all(isinstance(c, Mapping) for c in cases):
        raise ValueError(f"{name}: cases must be an array of objects")
    return cases


def _text(case: Mapping[str, object], key: str) -> str:
    value = case[key]
    if not isinstance(value, str):
        raise TypeError(f"case {case.get('id')!r}: {key} must be a string")
    return value


def _validate_vector(case: Mapping[str, object]) -> ValidateVector:
    errors = case["errors"]
    if not isinstance(errors, list):
        raise TypeError(f"case {case.get('id')!r}: errors must be an array")
    code = _text(errors[0], "code") if errors else None
    return ValidateVector(_text(case, "id"), _text(case, "description"), _text(case, "query"), code)


def _query_vector(case: Mapping[str, object]) -> QueryVector:
    total, ids = case["total_count"], case["image_ids"]
    if type(total) is not int or not isinstance(ids, list):
        raise TypeError(f"case {case.get('id')!r}: total_count or image_ids has a wrong type")
    return QueryVector(
        _text(case, "id"),
        _text(case, "description"),
        _text(case, "query"),
        total,
        tuple(str(i) for i in ids),
    )


# --- HTTP ----------------------------------------------------------------------------------


def query_part(query: str) -> str:
    """The query of a vector written as a URL (after ``?``, before ``#``), else ``query``,
    as :func:`decode_request` reads it.

    >>> query_part("https://image.api.qcloud.com/v2/index.php?Limit=5#Limit=500")
    'Limit=5'
    """
    if query[:8].lower().startswith(("http://", "https://")) or query.startswith("/"):
        return query.partition("?")[2].partition("#")[0]
    return query


def _wire_safe(query: str) -> str:
    # An HTTP request line cannot carry controls, spaces, non-ASCII or '#'. Percent-encoding
    # exactly those keeps the meaning: the codec decodes %XX to the same bytes it would
    # have read raw. '%', '+', '&' and '=' are left alone, as they carry the meaning.
    out = []
    for ch in query:
        if "!" <= ch <= "~" and ch != "#":
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is not an answer: report the 3xx instead of following it.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener(url: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlsplit(url).hostname or ""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if _is_loopback(host):
        # A proxy from the environment cannot reach this machine's loopback.
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    content_type: str | None
    body: bytes


class _Client:
    def __init__(self, url: str, method: Method, timeout: float) -> None:
        self.url, self.method, self.timeout = url, method, timeout
        self.opener = _opener(url)
        self.request_ids: set[str] = set()

    def send(self, query: str) -> _Answer:
        """One call; raises ``OSError`` (``URLError`` included) when there is no answer,
        ``HTTPException`` when it is not HTTP."""
        text = query_part(query)
        # urllib sends a GET without data, a POST with it.
        if self.method == "GET":
            request = urllib.request.Request(f"{self.url}?{_wire_safe(text)}")
        else:
            request = urllib.request.Request(
                self.url,
                data=text.encode("utf-8", "surrogatepass"),
                headers={"Content-Type": FORM_TYPE},
            )
        try:
            with self.opener.open(request, timeout=self.timeout) as reply:
                return _Answer(reply.status, reply.headers.get("Content-Type"), reply.read())
        except urllib.error.HTTPError as exc:
            # Any status but 200 (a 3xx too: redirects are not followed) fails the case,
            # whatever the answer carries.
            with exc:
                return _Answer(exc.code, None, b"")

    def call(self, query: str) -> DescribeImagesResponse | ServiceError | str:
        """The answer as a response or a ServiceError, or a string saying what is wrong."""
        try:
            answer = self.send(query)
        except (OSError, http.client.HTTPException) as exc:
            return _no_answer(exc)
        return self.read(answer)

    def read(self, answer: _Answer) -> DescribeImagesResponse | ServiceError | str:
        if answer.status != 200:
            return f"HTTP status {answer.status}, expected 200"
        if answer.content_type != JSON_TYPE:
            return f"Content-Type {answer.content_type!r}, expected exactly {JSON_TYPE!r}"
        try:
            result: DescribeImagesResponse | ServiceError = DescribeImagesResponse.from_json(
                answer.body
            )
        except ServiceError as exc:
            result = exc
        except ResponseFormatError as exc:
            return f"not a DescribeImages envelope: {exc}"
        if result.request_id in self.request_ids:
            return f"RequestId {result.request_id!r} was already used; each answer needs a new one"
        self.request_ids.add(result.request_id)
        return result


def _no_answer(exc: OSError | http.client.HTTPException) -> str:
    if isinstance(exc, OSError):
        return f"no answer: {getattr(exc, 'reason', exc)}"
    return f"not an HTTP answer: {exc!r}"


# --- the run -------------------------------------------------------------------------------


def _check_validate(vector: ValidateVector, got: DescribeImagesResponse | ServiceError) -> str:
    code = got.code if isinstance(got, ServiceError) else None
    if code == vector.code:
        return ""
    want = vector.code or "success"
    if isinstance(got, ServiceError):
        return f"expected {want}, got {code} ({got.message})"
    return f"expected {want}, got success (TotalCount {got.total_count})"


def _check_query(
    vector: QueryVector, got: DescribeImagesResponse | ServiceError, compare: bool
) -> str:
    if isinstance(got, ServiceError):
        return f"expected success, got {got.code} ({got.message})"
    if not compare:
        return ""
    ids = tuple(image.image_id for image in got.image_set)
    problems = []
    if got.total_count != vector.total_count:
        problems.append(f"TotalCount {got.total_count}, expected {vector.total_count}")
    if ids != vector.image_ids:
        problems.append(f"ImageIds {list(ids)}, expected {list(vector.image_ids)}")
    return "; ".join(problems)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One vector's outcome: ``problem`` says what differed ("" when it passed)."""

    kind: Literal["validate", "query"]
    id: str
    problem: str

    @property
    def passed(self) -> bool:
        return not self.problem


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """What a run found: one :class:`CaseResult` per vector sent, in the order sent.

    ``unreachable`` says why the probe got no HTTP answer ("" when it got one); then no
    vector was sent, and the run counts as one failure.
    """

    url: str
    method: Method
    validate_count: int
    query_count: int
    compared: bool  # whether TotalCount and ImageIds of the query vectors were checked
    results: tuple[CaseResult, ...]
    unreachable: str = ""

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed + (1 if self.unreachable else 0)


# spec/README.md §3.5: the endpoint is http(s)://host[:port][/path], written in printable
# ASCII (what a request line carries), without user information, a query or a fragment.
_URL_TEXT_RE: Final = re.compile(r"[!-~]+")


def _check_url(url: str) -> None:
    if not isinstance(url, str):
        raise UsageError(f"the URL is a str, not {type(url).__name__}")
    refusal = UsageError(f"{url[:200]!r} is not an http(s)://host[:port][/path] URL")
    if not _URL_TEXT_RE.fullmatch(url):
        raise refusal
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # ValueError for a port that is not 0 to 65535 in ASCII digits
    except ValueError:
        raise refusal from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise refusal


def run_conformance(
    url: str,
    *,
    vectors: Vectors | None = None,
    method: Method = "GET",
    compare_results: bool | None = None,
    timeout: float = 10.0,
) -> ConformanceReport:
    """Send every validate and query vector to ``url`` and report what each answer got.

    ``compare_results``: also compare TotalCount and ImageIds of the query vectors
    (``None``: when the server holds the query vectors' catalog, found by one probe).
    Raises :class:`UsageError` for a URL that is not ``http(s)://host[:port][/path]``, a
    method other than GET or POST, or a timeout that is not a finite number > 0.
    """
    _check_url(url)
    if method not in METHODS:
        raise UsageError(f"method must be GET or POST, not {method!r}")
    if type(timeout) not in (int, float) or not 0 < timeout < math.inf:
        raise UsageError(f"timeout must be a finite number of seconds > 0, not {timeout!r}")
    loaded = load_vectors() if vectors is None else vectors
    client = _Client(url, method, timeout)
    counts = (len(loaded.validate), len(loaded.query))

    # The probe: is anything answering HTTP there, and does it hold the vectors' catalog?
    try:
        probe = client.read(client.send(PROBE_QUERY))
    except (OSError, http.client.HTTPException) as exc:
        return ConformanceReport(url, method, *counts, False, (), _no_answer(exc))
    holds_catalog = (
        isinstance(probe, DescribeImagesResponse)
        and probe.total_count == len(loaded.catalog)
        and probe.image_set == loaded.catalog
    )
    compare = holds_catalog if compare_results is None else compare_results
    # A string from the client says why there is no usable answer; else check the answer.
    results: list[CaseResult] = []
    for case in loaded.validate:
        got = client.call(case.query)
        problem = got if isinstance(got, str) else _check_validate(case, got)
        results.append(CaseResult("validate", case.id, problem))
    for query_case in loaded.query:
        got = client.call(query_case.query)
        problem = got if isinstance(got, str) else _check_query(query_case, got, compare)
        results.append(CaseResult("query", query_case.id, problem))
    return ConformanceReport(url, method, *counts, compare, tuple(results))
