"""The reference server's in-process cost against decode_request, side by side, in one run.

    python bench/bench_server.py [--repeat 9] [--number 1000] [--baseline FILE]

One call of the WSGI app is what a WSGI server pays for it: building the environ dict (and,
for a POST, its ``wsgi.input``), the app with a ``start_response`` that keeps what it is
given, and joining the body. Target (issue 8): the app on the 10-filter GET (the request of
bench/bench.py: 10 Filters x 5 Values + Offset + Limit) costs at most 3x ``decode_request``
of the same query bytes. The other rows (a POST form body, a signed GET, 100 ImageIds) are
informative. The signed rows verify with ``make_verifier`` over a nonce store that accepts
every nonce, so one signed query can be sent again and again.

``--baseline FILE`` loads another ``server.py`` as a module of this package and times its
app in the same rounds (before/after)::

    git show main:describe_images/server.py > /tmp/server_main.py
    python bench/bench_server.py --baseline /tmp/server_main.py

Each figure is the best of ``--repeat`` rounds of ``--number`` calls; within a round every
candidate runs in turn, so load on the machine falls on all alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import filters_request, image_ids_request
from describe_images import decode_request, encode_query, make_verifier, signed_query
from describe_images import server as current_server
from describe_images._signing import NonceKey

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

HOST = "image.api.qcloud.com"
PATH = "/v2/index.php"
FORM = "application/x-www-form-urlencoded"
TARGET = 3.0
CREDENTIALS = {"AKIDbench": "bench-secret-key"}


class AcceptingNonces:
    """A nonce store that has never seen any nonce: the replay check always passes."""

    def add(self, key: NonceKey, *, now: float, expires_at: float) -> bool:
        return True


def load_baseline(path: str) -> Any:
    """``path`` (a server.py) as the module ``describe_images._baseline_server``."""
    name = "describe_images._baseline_server"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def get_environ(query: str) -> Callable[[], WSGIEnvironment]:
    """A fresh GET environ per call (an app may write into it)."""

    def build() -> WSGIEnvironment:
        return {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": PATH,
            "QUERY_STRING": query,
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "HTTP_HOST": HOST,
            "wsgi.url_scheme": "http",
        }

    return build


def post_environ(body: bytes) -> Callable[[], WSGIEnvironment]:
    """A fresh POST environ per call, with its own ``wsgi.input``."""
    length = str(len(body))

    def build() -> WSGIEnvironment:
        return {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": PATH,
            "QUERY_STRING": "",
            "CONTENT_TYPE": FORM,
            "CONTENT_LENGTH": length,
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "HTTP_HOST": HOST,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
        }

    return build


def one_call(app: WSGIApplication, environ: Callable[[], WSGIEnvironment]) -> Callable[[], bytes]:
    """What a WSGI server pays for one answer: environ, app, start_response, body join."""

    def call() -> bytes:
        seen: list[object] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            seen.append((status, headers))
            return seen.append

        return b"".join(app(environ(), start_response))

    return call


def without_request_id(body: bytes) -> object:
    data = json.loads(body)
    data["Response"].pop("RequestId")
    return data


def best_of(candidates: list[Callable[[], object]], repeat: int, number: int) -> list[float]:
    """Seconds per call of each candidate, best of ``repeat`` alternating rounds."""
    best = [float("inf")] * len(candidates)
    for _ in range(repeat):
        for i, candidate in enumerate(candidates):
            best[i] = min(best[i], timeit.timeit(candidate, number=number) / number)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--number", type=int, default=1000)
    parser.add_argument("--baseline", metavar="FILE", help="another server.py to time alongside")
    args = parser.parse_args()
    servers: list[tuple[str, Any]] = [("app", current_server)]
    if args.baseline:
        servers.append(("baseline", load_baseline(args.baseline)))

    filters = filters_request()
    signed_text = signed_query(
        filters, secret_id="AKIDbench", secret_key=CREDENTIALS["AKIDbench"], host=HOST, path=PATH
    )
    cases: list[tuple[str, str, Callable[[], WSGIEnvironment], bool, bool]] = [
        # label, query bytes, environ, signed, has a target
        ("10 filters, GET", encode_query(filters), get_environ(encode_query(filters)), False, True),
        (
            "10 filters, POST form",
            encode_query(filters),
            post_environ(encode_query(filters).encode()),
            False,
            False,
        ),
        ("10 filters, signed GET", signed_text, get_environ(signed_text), True, False),
        (
            "100 image ids, GET",
            encode_query(image_ids_request()),
            get_environ(encode_query(image_ids_request())),
            False,
            False,
        ),
    ]

    head = f"{'case':<26}{'decode':>10}" + "".join(f"{name:>10}{'ratio':>7}" for name, _ in servers)
    print(head + "  target")
    failed = False
    for label, query, environ, is_signed, has_target in cases:
        raw = query.encode("ascii")
        decode_request(raw)  # the request is valid: every app answers it with a success
        calls: list[Callable[[], object]] = [partial(decode_request, raw)]
        answers: list[Any] = []
        for _, module in servers:
            verify = make_verifier(CREDENTIALS, nonces=AcceptingNonces()) if is_signed else None
            call = one_call(module.make_app(verify=verify), environ)
            answers.append(without_request_id(call()))
            calls.append(call)
        assert all(a == answers[0] for a in answers), f"{label}: the apps answer differently"
        assert "Error" not in answers[0]["Response"], f"{label}: {answers[0]}"
        times = best_of(calls, args.repeat, args.number)
        line = f"{label:<26}{times[0] * 1e6:>8.1f}us"
        for t in times[1:]:
            line += f"{t * 1e6:>8.1f}us{t / times[0]:>7.2f}"
        if has_target:
            ok = times[1] / times[0] <= TARGET
            failed |= not ok
            line += f"  app <= {TARGET:.1f}x decode {'ok' if ok else 'MISSED'}"
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
