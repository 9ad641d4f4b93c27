"""``describe-images sign`` and ``describe-images verify``: plain functions the CLI wires.

Credentials for signing come only from the environment (``TENCENTCLOUD_SECRET_ID``,
``TENCENTCLOUD_SECRET_KEY``), never from the command line, where they would land in shell
history and process listings. Exit codes: 0 done / valid, 1 invalid request or signature,
2 usage (bad arguments, JSON or credentials).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import SplitResult, urlsplit

from ._errors import RequestError, UsageError
from ._model import DescribeImagesRequest
from ._pairs import parse_query
from ._signing import DEFAULT_MAX_SKEW, signed_query, verify
from ._spec import HOST, PATH

ENV_SECRET_ID = "TENCENTCLOUD_SECRET_ID"
ENV_SECRET_KEY = "TENCENTCLOUD_SECRET_KEY"
DEFAULT_URL = f"https://{HOST}{PATH}"
METHODS = ("GET", "POST")


def _endpoint(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{url[:200]!r} is not an http(s) URL")
    if "@" in parts.netloc:  # the Host header never carries user information
        raise UsageError(f"{url[:200]!r}: the URL must not carry user information (user@)")
    return parts


def _method(method: str) -> str:
    upper = method.upper()
    if upper not in METHODS:
        raise UsageError(f"method {method[:20]!r} is not GET or POST")
    return upper


def sign_main(
    request_json: str,
    *,
    region: str | None = None,
    method: str = "GET",
    base_url: str = DEFAULT_URL,
    signature_method: str = "HmacSHA256",
    environ: Mapping[str, str] = os.environ,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the signed request for ``request_json`` (the JSON shape of the request).

    With GET it prints the URL (``base_url?query``); with POST it prints the form body to
    send to ``base_url``. The host and path signed are the URL's, exactly as written
    (``host[:port]``; an empty path is ``/``). Returns the exit code.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        secret_id = environ.get(ENV_SECRET_ID, "")
        secret_key = environ.get(ENV_SECRET_KEY, "")
        if not secret_id or not secret_key:
            raise UsageError(f"set {ENV_SECRET_ID} and {ENV_SECRET_KEY} in the environment")
        verb = _method(method)
        endpoint = _endpoint(base_url)
        if endpoint.query or endpoint.fragment:
            raise UsageError(f"{base_url[:200]!r}: the base URL has no query or fragment")
        try:
            data = json.loads(request_json)
        except ValueError as exc:  # json.JSONDecodeError, or a lone surrogate
            raise UsageError(f"the request is not valid JSON: {exc}") from None
        request = DescribeImagesRequest.from_dict(data)
        query = signed_query(
            request,
            secret_id=secret_id,
            secret_key=secret_key,
            region=region,
            method=verb,
            host=endpoint.netloc,
            path=endpoint.path or "/",
            signature_method=signature_method,
        )
    except UsageError as exc:
        print(f"describe-images sign: {exc}", file=err)
        return 2
    except RequestError as exc:
        for violation in exc.violations:
            print(
                f"{violation.code} ({violation.reason}) {violation.path}: "
                f"{violation.message}",
                file=err,
            )
        return 1
    print(query if verb == "POST" else f"{base_url}?{query}", file=out)
    return 0


def load_credentials(path: str) -> dict[str, str]:
    """Read a credentials file, JSON ``{SecretId: SecretKey}``; :class:`UsageError` if bad.

    Shared by ``verify`` and ``serve --credentials`` (with :func:`make_verifier`).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read credentials {path!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"credentials {path!r} are not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise UsageError(f"credentials {path!r} must be a JSON object {{SecretId: SecretKey}}")
    return data


def verify_main(
    url: str,
    credentials_path: str,
    *,
    method: str = "GET",
    data: str | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
    now: float | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Verify the signature of a request and print the verdict as one JSON object.

    With GET the parameters are the URL's query; with POST they are ``data`` (the form
    body) and the URL's query is ignored, as the API does. No nonce store is used: a single
    run cannot see a replay. Returns 0 when valid, 1 when not, 2 on a usage problem.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        verb = _method(method)
        endpoint = _endpoint(url.strip())
        if verb == "POST" and data is None:
            raise UsageError("POST needs the form body (--data)")
        if verb == "GET" and data is not None:
            raise UsageError("--data is only for POST; a GET request is signed in its URL")
        credentials = load_credentials(credentials_path)
    except UsageError as exc:
        print(f"describe-images verify: {exc}", file=err)
        return 2
    verdict: dict[str, Any]
    try:
        pairs = parse_query(endpoint.query if data is None else data)
        verify(
            verb,
            endpoint.netloc,
            endpoint.path or "/",
            pairs,
            secrets=credentials.get,
            now=now,
            max_skew=max_skew,
        )
    except RequestError as exc:
        verdict = {
            "valid": False,
            "code": exc.code,
            "message": exc.message,
            "violations": [v.to_dict() for v in exc.violations],
        }
    else:
        secret_id = dict(pairs)["SecretId"]
        verdict = {"valid": True, "secret_id": secret_id}
    print(json.dumps(verdict), file=out)
    return 0 if verdict["valid"] else 1
