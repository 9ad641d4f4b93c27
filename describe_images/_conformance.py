"""The conformance runner: send the spec's vectors to a live endpoint and check its answers.

:func:`run_conformance` returns a :class:`ConformanceReport` and prints nothing; the
``describe-images conformance`` command prints it (describe_images/_cli/conformance.py).
Each vector is translated into a :class:`Call` of the run's style (legacy, API 3.0 GET or
API 3.0 JSON POST), or found to have no faithful form in it (:class:`NotExpressible`:
reported, never sent), then signed when the run has credentials (v1 or TC3).

The vectors ship as package data (``describe_images/data/vectors/``, byte-identical copies
of spec/vectors/, which stays their source of truth: README.md#package-data). See
spec/README.md §3.5.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import math
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from ._catalog import CatalogError, parse_catalog
from ._errors import DescribeImagesError, ServiceError, UsageError, WireError
from ._grammar import is_utf8
from ._json import HEADER_PARAMETERS, V1_PARAMETERS
from ._pairs import format_query, parse_query
from ._response import DescribeImagesResponse, Image, ResponseFormatError
from ._signing import sign
from ._spec import ACTION, METHODS, SPEC_VERSION, TC3_CONTENT_TYPES, VERSION
from ._tc3 import tc3_authorization
from ._tree import unflatten

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

Method = Literal["GET", "POST"]
Style = Literal["legacy", "api3-get", "api3-post"]
Kind = Literal["validate", "query", "json", "server"]
#: How the vectors can be sent (spec/README.md §3.5): as legacy calls (the query string or
#: form body carries every parameter), as API 3.0 GETs (the business parameters in the
#: query, the common ones in X-TC-* headers) or as API 3.0 JSON POSTs.
STYLES: Final = ("legacy", "api3-get", "api3-post")
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
class JsonVector:
    """A json.json case: a body, the common parameters its X-TC-* headers carry, whether it
    needs caps other than the defaults, and the Code a server answers (None: success)."""

    id: str
    description: str
    body: bytes
    common: tuple[tuple[str, str], ...]
    limits: bool
    code: str | None


@dataclass(frozen=True, slots=True)
class ServerVector:
    """A server.json case: one HTTP request (method, path, headers beyond Host and
    Content-Length, query string, body) and what the answer must be: its status, exact
    Content-Type and required headers, and for an API answer the envelope's Code (None: a
    success, with ``total_count`` and ``image_ids``)."""

    id: str
    description: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    query: str
    body: bytes
    status: int
    content_type: str
    required_headers: tuple[tuple[str, str], ...] = ()
    code: str | None = None
    total_count: int | None = None
    image_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vectors:
    """The validate, query, JSON-body and server vectors, and the catalogs of the query
    and the server vectors."""

    validate: tuple[ValidateVector, ...]
    query: tuple[QueryVector, ...]
    catalog: tuple[Image, ...]
    json: tuple[JsonVector, ...] = ()
    server: tuple[ServerVector, ...] = ()
    server_catalog: tuple[Image, ...] = ()


def load_vectors(directory: str | os.PathLike[str] | Traversable | None = None) -> Vectors:
    """Read ``validate.json``, ``query.json``, ``json.json`` and ``server.json`` from
    ``directory`` (default: the package's copy of spec/vectors/); each must be of this
    package's :data:`SPEC_VERSION`."""
    if directory is None:
        root: Traversable = resources.files("describe_images") / "data" / "vectors"
    elif isinstance(directory, (str, os.PathLike)):
        root = Path(directory)
    else:
        root = directory
    validate = _read(root, "validate.json")
    query = _read(root, "query.json")
    bodies = _read(root, "json.json")
    server = _read(root, "server.json")
    try:
        catalog = parse_catalog(query, source="query.json")
        return Vectors(
            validate=tuple(_validate_vector(case) for case in _cases(validate, "validate.json")),
            query=tuple(_query_vector(case) for case in _cases(query, "query.json")),
            catalog=catalog,
            json=tuple(_json_vector(case) for case in _cases(bodies, "json.json")),
            server=tuple(_server_vector(case) for case in _cases(server, "server.json")),
            server_catalog=parse_catalog(server, source="server.json"),
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
    # spec/README.md, "Vector files": a runner reads the files of the version it
    # implements, and refuses others (the format may differ).
    version = data.get("spec_version")
    if version != SPEC_VERSION:
        raise VectorError(
            f"{name} in {root} is of spec_version {version!r:.40}; this runner reads "
            f"{SPEC_VERSION}"
        )
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


def _generated(value: object) -> str:
    # A vector string: literal, or {prefix?, repeat, times, suffix?} (spec/README.md,
    # "Vector files").
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"a vector string is a string or an object, not {value!r:.40}")
    times = value["times"]
    if type(times) is not int or not 0 <= times <= 1 << 20:
        raise ValueError(f"times must be an integer from 0 to 2**20, not {times!r:.40}")
    parts = (value.get("prefix", ""), value["repeat"], value.get("suffix", ""))
    if not all(isinstance(part, str) for part in parts):
        raise TypeError("prefix, repeat and suffix are strings")
    prefix, repeat, suffix = parts
    return f"{prefix}{repeat * times}{suffix}"


def _json_vector(case: Mapping[str, object]) -> JsonVector:
    errors = case.get("errors", [])
    if not isinstance(errors, list):
        raise TypeError(f"case {case.get('id')!r}: errors must be an array")
    if "body_hex" in case:
        body = bytes.fromhex(_text(case, "body_hex"))
    else:
        body = _generated(case["body"]).encode("utf-8", "surrogatepass")
    common = case.get("common", {})
    if not isinstance(common, Mapping) or not all(isinstance(v, str) for v in common.values()):
        raise TypeError(f"case {case.get('id')!r}: common must be an object of strings")
    return JsonVector(
        _text(case, "id"),
        _text(case, "description"),
        body,
        tuple((str(k), str(v)) for k, v in common.items()),
        "limits" in case,
        _text(errors[0], "code") if errors else None,
    )


def _server_vector(case: Mapping[str, object]) -> ServerVector:
    request, response = case["request"], case["response"]
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        raise TypeError(f"case {case.get('id')!r}: request and response must be objects")
    status, errors = response["status"], response.get("errors", [])
    if type(status) is not int or not isinstance(errors, list):
        raise TypeError(f"case {case.get('id')!r}: status or errors has a wrong type")
    total, ids = response.get("total_count"), response.get("image_ids", [])
    if not (total is None or type(total) is int) or not isinstance(ids, list):
        raise TypeError(f"case {case.get('id')!r}: total_count or image_ids has a wrong type")
    return ServerVector(
        _text(case, "id"),
        _text(case, "description"),
        _text(request, "method"),
        _text(request, "path"),
        _header_pairs(request["headers"]),
        _text(request, "query"),
        _text(request, "body").encode("utf-8", "surrogatepass"),
        status,
        _text(response, "content_type"),
        _header_pairs(response.get("headers", [])),
        _text(errors[0], "code") if errors else None,
        total,
        tuple(str(i) for i in ids),
    )


def _header_pairs(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in value
    ):
        raise TypeError("headers must be an array of [name, value] string pairs")
    return tuple((name, text) for name, text in value)


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
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call of a run, before signing: the query string (wire-safe), the headers
    beyond Host, and the body (None: a GET)."""

    method: Method
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None


class NotExpressible(Exception):
    """A vector that has no form in the chosen style: its message says why (§3.5)."""


# --- translating a vector into a call (spec/README.md §3.5, "What is sent") -------------

# A common parameter's value becomes a header's: printable ASCII, no space at either end
# (what an HTTP header value keeps as is), or empty.
_HEADER_TEXT_RE: Final = re.compile(r"(?:[!-~](?:[ -~]*[!-~])?)?")
_ESCAPED_RE: Final = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_INTEGER_RE: Final = re.compile(r"-?[0-9]{1,4000}")
_TOP_INTEGERS: Final = ("Offset", "Limit")


def legacy_call(query: str, method: Method) -> Call:
    """A vector's query as a legacy call: the query string of a GET, or a form body.

    >>> legacy_call("https://h/?Action=DescribeImages&Limit=5#x", "POST").body
    b'Action=DescribeImages&Limit=5'
    """
    text = query_part(query)
    if method == "GET":
        return Call("GET", _wire_safe(text), (), None)
    return Call("POST", "", (("Content-Type", FORM_TYPE),), text.encode("utf-8", "surrogatepass"))


def _split_common(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The query's common parameters as (name, header value), and its other segments,
    each kept as written."""
    common: list[tuple[str, str]] = []
    rest: list[str] = []
    for segment in text.split("&") if text else []:
        key, _, value = segment.partition("=")
        head = key.partition(".")[0]
        if head in V1_PARAMETERS:
            raise NotExpressible(f"it carries {head}, a parameter of the v1 signature only")
        if head not in HEADER_PARAMETERS:
            rest.append(segment)
            continue
        if key != head:
            raise NotExpressible(f"{key[:40]}: a common parameter with a shape no header has")
        if any(name == key for name, _ in common):
            raise NotExpressible(f"{key} twice: a header is sent once")
        # Decoded as the codec decodes it (every % starts an escape, + is a space).
        header = urllib.parse.unquote_plus(value, errors="surrogateescape")
        if not (_ESCAPED_RE.fullmatch(value) and _HEADER_TEXT_RE.fullmatch(header)):
            raise NotExpressible(f"{key}={value[:40]}: no header carries that text as is")
        common.append((key, header))
    if not any(name == "Action" for name, _ in common):
        raise NotExpressible("no Action: an API 3.0 call is known by its X-TC-Action header")
    version = dict(common).get("Version", VERSION)
    if version != VERSION:
        # The legacy vector expects InvalidParameterValue; API 3.0's gateway answers
        # NoSuchVersion (MissingParameter when empty) before any parameter (§3.4).
        raise NotExpressible(f"Version {version[:40]!r}: API 3.0 answers it with its own code")
    return common, rest


def _headers(common: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((f"X-TC-{name}", value) for name, value in common)


def api3_get_call(query: str) -> Call:
    """A vector's query as an API 3.0 GET: the business parameters stay in the query as
    written, the common ones move to X-TC-* headers.

    >>> call = api3_get_call("Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7")
    >>> call.query, call.headers[1:]
    ('ImageIds.0=img-pmqg1cw7', (('X-TC-Action', 'DescribeImages'), ('X-TC-Version', '2017-03-12')))
    """
    common, rest = _split_common(query_part(query))
    content = ("Content-Type", TC3_CONTENT_TYPES["GET"])
    return Call("GET", _wire_safe("&".join(rest)), (content, *_headers(common)), None)


def _json_value(node: object, path: str) -> object:
    if isinstance(node, dict):
        return {key: _json_value(child, f"{path}{key}.") for key, child in node.items()}
    if isinstance(node, list):
        return [_json_value(child, f"{path}{i}.") for i, child in enumerate(node)]
    if path.rstrip(".") in _TOP_INTEGERS and isinstance(node, str):
        # A JSON body writes Offset and Limit as numbers; text that is not a decimal
        # integer has no such form (a JSON string there is a different case: wrong-type).
        if not _INTEGER_RE.fullmatch(node):
            raise NotExpressible(f"{path.rstrip('.')}={node[:40]!r} is no JSON integer")
        return int(node)
    return node


def api3_post_call(query: str) -> Call:
    """A vector's query as an API 3.0 JSON POST: the business parameters as the JSON body
    (the tree their dotted keys build, Offset and Limit as integers), the common ones in
    X-TC-* headers. A query that does not parse, or builds no tree, is a wire-level case
    with no JSON form.

    >>> api3_post_call("Action=DescribeImages&Filters.1.Name=image-type&Limit=05").body
    b'{"Filters": [{"Name": "image-type"}], "Limit": 5}'
    """
    common, rest = _split_common(query_part(query))
    try:
        tree = unflatten(parse_query("&".join(rest)))
    except WireError as exc:
        reason = exc.violations[0].reason
        raise NotExpressible(f"a wire-level case ({reason}) that JSON cannot write") from None
    body = json.dumps(_json_value(tree, "")).encode("ascii")
    content = ("Content-Type", TC3_CONTENT_TYPES["POST"])
    return Call("POST", "", (content, *_headers(common)), body)


def json_call(vector: JsonVector) -> Call:
    """A json.json vector as an API 3.0 POST: its body, its common parameters as headers."""
    if vector.limits:
        raise NotExpressible("it needs caps other than the defaults a server has")
    common = [("Action", ACTION), ("Version", VERSION)]
    for name, value in vector.common:
        common = [(n, v) for n, v in common if n != name] + [(name, value)]
    content = ("Content-Type", TC3_CONTENT_TYPES["POST"])
    return Call("POST", "", (content, *_headers(common)), vector.body)


# --- signing ---------------------------------------------------------------------------------

_V1_SET: Final = ("Timestamp", "Nonce", "SecretId", "Signature")


@dataclass(frozen=True, slots=True)
class _Signer:
    """Signs each call as it is sent (a fresh Timestamp, and for v1 a fresh Nonce)."""

    secret_id: str
    secret_key: str
    host: str
    path: str

    def sign(self, call: Call, style: Style) -> Call:
        now = int(time.time())
        if style == "legacy":
            return self._v1(call, now)
        names = {name for name, _ in call.headers}
        if "X-TC-Timestamp" in names:
            raise NotExpressible("it sets its own Timestamp; a TC3 signature needs the current one")
        headers = [("Host", self.host), *call.headers, ("X-TC-Timestamp", str(now))]
        authorization = tc3_authorization(
            call.method, self.host, self.path, call.query, headers, call.body or b"",
            secret_id=self.secret_id, secret_key=self.secret_key,
        )  # fmt: skip
        return Call(call.method, call.query, (*headers[1:], ("Authorization", authorization)),
                    call.body)  # fmt: skip

    def _v1(self, call: Call, now: int) -> Call:
        raw = call.query if call.body is None else call.body.decode("utf-8", "surrogatepass")
        added = [("Timestamp", str(now)), ("Nonce", str(secrets.randbelow(2**31 - 1) + 1)),
                 ("SecretId", self.secret_id)]  # fmt: skip
        try:
            # What the signature covers: the parsed pairs, each name once (§4.1).
            pairs = parse_query(raw)
            for name in _V1_SET:
                if any(key == name for key, _ in pairs):
                    raise NotExpressible(f"it sets its own {name}, which the v1 signature writes")
            signature = sign(call.method, self.host, self.path, [*pairs, *added], self.secret_key)
        except WireError as exc:
            reason = exc.violations[0].reason
            raise NotExpressible(f"a wire-level case ({reason}): no signature covers it") from None
        tail = format_query([*added, ("Signature", signature)])
        text = f"{raw}&{tail}" if raw else tail
        if call.body is None:
            return Call(call.method, text, call.headers, None)
        return Call(call.method, "", call.headers, text.encode("utf-8", "surrogatepass"))


class _Client:
    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.opener = _opener(url)
        self.request_ids: set[str] = set()

    def send(self, call: Call) -> _Answer:
        """One call; raises ``OSError`` (``URLError`` included) when there is no answer,
        ``HTTPException`` when it is not HTTP."""
        target = f"{self.url}?{call.query}" if call.query else self.url
        request = urllib.request.Request(
            target, data=call.body, headers=dict(call.headers), method=call.method
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as reply:
                return _Answer(reply.status, reply.headers.get("Content-Type"), reply.read())
        except urllib.error.HTTPError as exc:
            # Any status but 200 (a 3xx too: redirects are not followed) fails the case,
            # whatever the answer carries.
            with exc:
                return _Answer(exc.code, None, b"")

    def call(self, call: Call) -> DescribeImagesResponse | ServiceError | str:
        """The answer as a response or a ServiceError, or a string saying what is wrong."""
        try:
            answer = self.send(call)
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


# --- server vectors (spec/README.md, "Vector files", server.json) --------------------------


def _send_server(url: str, vector: ServerVector, timeout: float) -> _Answer | str:
    """One server vector's request, exactly as written, to the URL's host: its method,
    path, query and headers, Host and Content-Length added (http.client adds no other
    header that changes the answer; urllib would add a Content-Type to every POST)."""
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    target = vector.path + (f"?{_wire_safe(vector.query)}" if vector.query else "")
    body = vector.body if vector.body or vector.method == "POST" else None
    try:
        connection.request(vector.method, target, body=body, headers=dict(vector.headers))
        reply = connection.getresponse()
        data = reply.read()
    except (OSError, http.client.HTTPException) as exc:
        return _no_answer(exc)
    finally:
        connection.close()
    headers = tuple(reply.getheaders())
    return _Answer(reply.status, reply.getheader("Content-Type"), data, headers)


def _check_server(vector: ServerVector, answer: _Answer, client: _Client, compare: bool) -> str:
    if answer.status != vector.status:
        return f"HTTP status {answer.status}, expected {vector.status}"
    if answer.content_type != vector.content_type:
        return f"Content-Type {answer.content_type!r}, expected exactly {vector.content_type!r}"
    for name, value in vector.required_headers:
        found = [text for key, text in answer.headers if key.lower() == name.lower()]
        if found != [value]:
            return f"{name} {found!r:.80}, expected [{value!r}]"
    if vector.status != 200:
        return ""
    got = client.read(answer)
    if isinstance(got, str):
        return got
    if vector.code is not None or isinstance(got, ServiceError):
        return _check_validate(vector, got)
    return _check_results(vector, got) if compare else ""


# --- the run -------------------------------------------------------------------------------


def _check_validate(
    vector: ValidateVector | JsonVector | ServerVector, got: DescribeImagesResponse | ServiceError
) -> str:
    code = got.code if isinstance(got, ServiceError) else None
    if code == vector.code:
        return ""
    want = vector.code or "success"
    if isinstance(got, ServiceError):
        return f"expected {want}, got {code} ({got.message})"
    return f"expected {want}, got success (TotalCount {got.total_count})"


def _check_results(vector: QueryVector | ServerVector, got: DescribeImagesResponse) -> str:
    """What differs between a success and the TotalCount and ImageIds a vector expects."""
    ids = tuple(image.image_id for image in got.image_set)
    problems = []
    if got.total_count != vector.total_count:
        problems.append(f"TotalCount {got.total_count}, expected {vector.total_count}")
    if ids != vector.image_ids:
        problems.append(f"ImageIds {list(ids)}, expected {list(vector.image_ids)}")
    return "; ".join(problems)


def _check_query(
    vector: QueryVector, got: DescribeImagesResponse | ServiceError, compare: bool
) -> str:
    if isinstance(got, ServiceError):
        return f"expected success, got {got.code} ({got.message})"
    return _check_results(vector, got) if compare else ""


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One vector's outcome: ``problem`` says what differed ("" when it passed)."""

    kind: Kind
    id: str
    problem: str

    @property
    def passed(self) -> bool:
        return not self.problem


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """What a run found: one :class:`CaseResult` per vector sent, in the order sent.

    ``unreachable`` says why the probe got no HTTP answer ("" when it got one); then no
    vector was sent, and the run counts as one failure. ``style`` is how the vectors were
    sent, ``signed_as`` the SecretId that signed them ("": unsigned), ``json_count`` the
    number of json.json vectors, and ``not_expressible`` one :class:`CaseResult` per vector
    that has no form in the style (``problem`` says why), never sent and never counted as
    passed or failed. ``server_count`` is the number of server.json vectors sent (0 unless
    asked for) and ``server_compared`` whether their TotalCount and ImageIds were checked
    (the server holds their catalog). The other ``*_count`` fields
    count the vectors loaded; ``sent`` counts, per kind, those sent.
    """

    url: str
    method: Method
    validate_count: int
    query_count: int
    compared: bool  # whether TotalCount and ImageIds of the query vectors were checked
    results: tuple[CaseResult, ...]
    unreachable: str = ""
    style: Style = "legacy"
    signed_as: str = ""
    json_count: int = 0
    not_expressible: tuple[CaseResult, ...] = ()
    server_count: int = 0
    server_compared: bool = False

    def sent(self, kind: Kind) -> int:
        """How many vectors of ``kind`` were sent."""
        return sum(result.kind == kind for result in self.results)

    def skipped(self, kind: Kind) -> int:
        """How many vectors of ``kind`` were not expressible in the style."""
        return sum(result.kind == kind for result in self.not_expressible)

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed + (1 if self.unreachable else 0)


# README.md#conformance-runner: the endpoint is http(s)://host[:port][/path], written in printable
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


def _style_method(style: object, method: object) -> Method:
    if style not in STYLES:
        raise UsageError(f"style must be one of {', '.join(STYLES)}, not {style!r:.40}")
    if style == "legacy":
        if method is None:
            return "GET"
        if method not in METHODS:
            raise UsageError(f"method must be GET or POST, not {method!r:.40}")
        return "POST" if method == "POST" else "GET"
    implied: Method = "GET" if style == "api3-get" else "POST"
    if method not in (None, implied):
        raise UsageError(f"style {style} sends {implied}; leave method out")
    return implied


def _credentials(value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(part, str) and part and is_utf8(part) for part in value)
    ):
        return value[0], value[1]
    raise UsageError("credentials are a (SecretId, SecretKey) pair of non-empty UTF-8 strings")


def run_conformance(
    url: str,
    *,
    vectors: Vectors | None = None,
    method: Method | None = None,
    style: Style = "legacy",
    credentials: tuple[str, str] | None = None,
    compare_results: bool | None = None,
    timeout: float = 10.0,
    server: bool = False,
) -> ConformanceReport:
    """Send every validate and query vector (and, for ``api3-post``, every json.json
    vector; with ``server``, every server.json vector) to ``url`` and report what each
    answer got.

    ``style`` (spec/README.md §3.5): ``"legacy"`` sends each query as it is, by ``method``
    (GET, the default, or POST); ``"api3-get"`` and ``"api3-post"`` send API 3.0 calls (GET
    and POST; ``method``, if given, must agree). ``credentials`` (SecretId, SecretKey) signs
    every call: v1 for legacy, TC3-HMAC-SHA256 for API 3.0 (None: unsigned). A vector with
    no form in the style is not sent; the report lists it as not expressible.
    ``compare_results``: also compare TotalCount and ImageIds of the query vectors
    (``None``: when the server holds the query vectors' catalog, found by one probe).
    ``server``: also send the server.json vectors, each to the URL's host with the case's
    own method, path, headers, query and body (they describe the reference server's paths
    and a server that requires no signature, so they are asked for, and never signed).
    Raises :class:`UsageError` for a URL that is not ``http(s)://host[:port][/path]``, an
    unknown style, a method other than GET or POST (or other than the style's), bad
    credentials, ``server`` with credentials or not a bool, or a timeout that is not a
    finite number > 0.
    """
    _check_url(url)
    chosen = _style_method(style, method)
    keys = _credentials(credentials)
    if type(server) is not bool:
        raise UsageError(f"server must be True or False, not {server!r:.40}")
    if server and keys is not None:
        raise UsageError("the server vectors are for a server that requires no signature")
    if type(timeout) not in (int, float) or not 0 < timeout < math.inf:
        raise UsageError(f"timeout must be a finite number of seconds > 0, not {timeout!r}")
    loaded = load_vectors() if vectors is None else vectors
    parts = urllib.parse.urlsplit(url)
    signer = None if keys is None else _Signer(*keys, parts.netloc, parts.path or "/")
    client = _Client(url, timeout)
    bodies = loaded.json if style == "api3-post" else ()
    counts = (len(loaded.validate), len(loaded.query))
    signed_as = keys[0] if keys else ""

    def build(kind: Kind, source: str | JsonVector) -> Call:
        # The call for a vector in this style, signed; NotExpressible when it has none.
        if isinstance(source, JsonVector):
            call = json_call(source)
        elif style == "legacy":
            call = legacy_call(source, chosen)
        elif style == "api3-get":
            call = api3_get_call(source)
        else:
            call = api3_post_call(source)
        return call if signer is None else signer.sign(call, style)

    # The probe: is anything answering HTTP there, and does it hold the vectors' catalog?
    try:
        probe = client.read(client.send(build("query", PROBE_QUERY)))
    except (OSError, http.client.HTTPException) as exc:
        return ConformanceReport(
            url, chosen, *counts, False, (), _no_answer(exc), style, signed_as, len(bodies)
        )

    def holds(catalog: tuple[Image, ...]) -> bool:
        return (
            isinstance(probe, DescribeImagesResponse)
            and probe.total_count == len(catalog)
            and probe.image_set == catalog
        )

    compare = holds(loaded.catalog) if compare_results is None else compare_results
    # The server vectors describe a server that requires no signature, holding their own
    # catalog: their results are compared when the probe's answer is that catalog.
    servers = loaded.server if server else ()
    server_compare = holds(loaded.server_catalog) if compare_results is None else compare_results
    # A string from the client says why there is no usable answer; else check the answer.
    results: list[CaseResult] = []
    skipped: list[CaseResult] = []
    cases: list[tuple[Kind, ValidateVector | QueryVector | JsonVector]] = [
        *(("validate", case) for case in loaded.validate),
        *(("query", case) for case in loaded.query),
        *(("json", case) for case in bodies),
    ]
    for kind, case in cases:
        try:
            call = build(kind, case if isinstance(case, JsonVector) else case.query)
        except NotExpressible as exc:
            skipped.append(CaseResult(kind, case.id, f"not expressible: {exc}"))
            continue
        got = client.call(call)
        if isinstance(got, str):
            problem = got
        elif isinstance(case, QueryVector):
            problem = _check_query(case, got, compare)
        else:
            problem = _check_validate(case, got)
        results.append(CaseResult(kind, case.id, problem))
    for vector in servers:
        answer = _send_server(url, vector, timeout)
        if not isinstance(answer, str):
            answer = _check_server(vector, answer, client, server_compare)
        results.append(CaseResult("server", vector.id, answer))
    return ConformanceReport(
        url, chosen, *counts, compare, tuple(results), "", style, signed_as, len(bodies),
        tuple(skipped), len(servers), bool(servers) and server_compare,
    )  # fmt: skip
