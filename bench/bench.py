"""Side-by-side timings: describe_images against urllib.parse and two peers, in one run.

    python bench/bench.py [--repeat 9] [--number 2000]

Targets, each a ratio of two timings taken side by side (alternating, best of --repeat
rounds of --number calls; the minimum is the least noisy estimate):

- decode_request (decode + validate) <= 0.5x parse_qsl alone, for a 10 x 5 filters request,
  a 100-ID request and an escape-free 10 x 5 request; a key layout never seen (the decoder
  keeps a plan per layout, spec/README.md §2.2: the row clears them before each call), in
  the encoder's order as every SDK sends it, <= 0.7x parse_qsl; the same in the order a v1
  signer sorts the keys is shown too, without a target (its lists sort in the encoder's
  order for the filter requests, so their layouts are recognised whole too; 100 sorted IDs
  are not, ImageIds.10 sorts before ImageIds.2, and that layout is looked at key by key);
- encode_query <= 0.5x urlencode of the pre-flattened pairs;
- the official Tencent Cloud SDK's flatten + urlencode (tencentcloud-sdk-python-common,
  ``AbstractClient._fix_params`` then ``copy.deepcopy`` and ``urlencode``, as its GET path
  does) >= 5x encode_query;
- botocore's EC2 client-side work for the same request (``ParamValidator`` + the ``ec2``
  query serializer + ``urlencode`` of the body; EC2 has no Offset/Limit: MaxResults and
  NextToken carry them) >= 10x ours for the same request: ``validate`` (the type and text
  checks of every value, and every DescribeImages rule, which botocore does not have) then
  ``encode_query``.

The peers are optional (``pip install '.[bench]'``); without them their rows are skipped.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from describe_images import (
    DescribeImagesRequest,
    Filter,
    decode_request,
    encode_query,
    encode_request,
    format_query,
    validate,
)
from describe_images._fast import plan

NAMES = ("image-type", "image-id", "image-name")
IMAGE_TYPES: tuple[str, ...] = (
    "PRIVATE_IMAGE",
    "PUBLIC_IMAGE",
    "SHARED_IMAGE",
    "PRIVATE_IMAGE",
    "PUBLIC_IMAGE",
)


def filters_request() -> DescribeImagesRequest:
    """10 Filters x 5 Values + Offset + Limit: 64 pairs with Action and Version."""
    filters = []
    for i in range(10):
        name = NAMES[i % 3]
        if name == "image-type":
            values = IMAGE_TYPES
        elif name == "image-id":
            values = tuple(f"img-{i}{j}abcdef"[:12] for j in range(5))
        else:
            values = tuple(f"Ubuntu Server 22.04 LTS {i}{j}/64bit" for j in range(5))
        filters.append(Filter(name, values))
    return DescribeImagesRequest(filters=tuple(filters), offset=40, limit=100)


def image_ids_request() -> DescribeImagesRequest:
    return DescribeImagesRequest(image_ids=tuple(f"img-{i:08d}" for i in range(100)))


def escape_free_request() -> DescribeImagesRequest:
    """10 image-name Filters x 5 plain Values + Offset + Limit: nothing to percent-decode."""
    filters = (
        Filter("image-name", tuple(f"ubuntu-22-04-lts-{5 * i + j}" for j in range(5)))
        for i in range(10)
    )
    return DescribeImagesRequest(filters=tuple(filters), offset=40, limit=100)


def _cold_decode(query: str) -> object:
    """decode_request as if this key layout had never been seen (its plan rebuilt)."""
    plan.cache_clear()
    return decode_request(query)


def _validate_and_encode(request: DescribeImagesRequest) -> str:
    """What botocore's row does for its request: check it, then write its query."""
    if validate(request):
        raise ValueError("the benchmark request must be valid")
    return encode_query(request)


def _peer(name: str) -> Any:
    """A peer's module, or None when it is not installed (the bench extra)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def tencent_encoder() -> Callable[[dict[str, Any]], str] | None:
    """The Tencent SDK's flatten + urlencode of a request's JSON shape, as its GET path
    does (abstract_client._build_req_with_tc3_signature: deepcopy(_fix_params), urlencode);
    Action and Version are added after flattening, as there."""
    module = _peer("tencentcloud.common.abstract_client")
    if module is None:
        return None
    client = module.AbstractClient.__new__(module.AbstractClient)  # no credentials needed

    def encode(params: dict[str, Any]) -> str:
        flat: dict[str, Any] = copy.deepcopy(client._fix_params(params))
        flat["Action"] = "DescribeImages"
        flat["Version"] = "2017-03-12"
        return urlencode(flat)

    return encode


def botocore_encoder() -> Callable[[dict[str, Any]], str] | None:
    """botocore's client-side work for an EC2 DescribeImages call, offline: validate the
    parameters, serialize them with the ec2 query serializer, percent-encode the body."""
    session_module = _peer("botocore.session")
    if session_module is None:
        return None
    validate = importlib.import_module("botocore.validate")
    serialize = importlib.import_module("botocore.serialize")
    operation = (
        session_module.get_session().get_service_model("ec2").operation_model("DescribeImages")
    )
    validator = validate.ParamValidator()
    serializer = serialize.create_serializer("ec2")

    def encode(params: dict[str, Any]) -> str:
        report = validator.validate(params, operation.input_shape)
        if report.has_errors():
            raise ValueError(report.generate_report())
        body: dict[str, str] = serializer.serialize_to_request(params, operation)["body"]
        return urlencode(body)

    return encode


def ec2_params(request: DescribeImagesRequest) -> dict[str, Any]:
    """The same request in EC2's shape (MaxResults and NextToken for Limit and Offset)."""
    params: dict[str, Any] = {}
    if request.image_ids:
        params["ImageIds"] = list(request.image_ids)
    if request.filters:
        params["Filters"] = [{"Name": f.name, "Values": list(f.values)} for f in request.filters]
    if request.limit is not None:
        params["MaxResults"] = request.limit
    if request.offset is not None:
        params["NextToken"] = str(request.offset)
    return params


def side_by_side(
    ours: Callable[[], object], theirs: Callable[[], object], repeat: int, number: int
) -> tuple[float, float]:
    """Seconds per call of each, best of ``repeat`` rounds of ``number`` calls. Within a
    round the two alternate every _CHUNK calls, so that load on the machine (other
    processes) falls on both alike, and the best rounds of both are the quiet ones."""
    chunks = max(1, number // _CHUNK)
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        t_ours = t_theirs = 0.0
        for _ in range(chunks):
            t_ours += timeit.timeit(ours, number=_CHUNK)
            t_theirs += timeit.timeit(theirs, number=_CHUNK)
        best_ours = min(best_ours, t_ours / (chunks * _CHUNK))
        best_theirs = min(best_theirs, t_theirs / (chunks * _CHUNK))
    return best_ours, best_theirs


_CHUNK = 20


# A row: label, ours, theirs, the target (None: shown only), and whether the ratio is
# ours/theirs (at most the target) or theirs/ours (a peer at least that many times slower).
Row = tuple[str, Callable[[], object], Callable[[], object], float | None, bool]

# What each row times, ours against theirs (printed with the table).
LEGEND = (
    ("decode+validate vs parse_qsl", "decode_request(query) / urllib.parse.parse_qsl(query)"),
    ("layout never seen", "the same, the decoder's plans cleared before each call"),
    ("  keys sorted", "the same, the query's keys sorted as a v1 signer sorts them"),
    ("encode vs urlencode", "encode_query(request) / urlencode(the request's pairs)"),
    ("tencent SDK / encode", "the Tencent SDK's flatten + urlencode / encode_query(request)"),
    ("botocore EC2 / check+encode", "botocore validate + serialize + urlencode / "
     "validate(request) + encode_query(request)"),
)


def rows(request: DescribeImagesRequest, peers: dict[str, Any]) -> list[Row]:
    query = encode_query(request)
    pairs = encode_request(request)
    assert decode_request(query) == request, "the benchmark request must round-trip"
    assert query == urlencode(pairs)
    decode = partial(decode_request, query)
    sorted_query = format_query(sorted(pairs))
    out: list[Row] = [
        ("decode+validate vs parse_qsl", decode, partial(parse_qsl, query), 0.5, True),
        ("  layout never seen", partial(_cold_decode, query), partial(parse_qsl, query), 0.7, True),
        (
            "    keys sorted",
            partial(_cold_decode, sorted_query),
            partial(parse_qsl, sorted_query),
            None,
            True,
        ),
        (
            "encode vs urlencode",
            partial(encode_query, request),
            partial(urlencode, pairs),
            0.5,
            True,
        ),
    ]
    tencent, boto = peers.get("tencent"), peers.get("botocore")
    if tencent is not None:
        params = request.to_dict()
        params.pop("Action", None)  # the SDK adds Action (and Version) after flattening
        assert sorted(parse_qsl(tencent(params))) == sorted(pairs)
        out.append(
            (
                "tencent SDK / encode",
                partial(encode_query, request),
                partial(tencent, params),
                5.0,
                False,
            )
        )
    if boto is not None:
        boto(ec2_params(request))
        out.append(
            (
                "botocore EC2 / check+encode",
                partial(_validate_and_encode, request),
                partial(boto, ec2_params(request)),
                10.0,
                False,
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    peers = {"tencent": tencent_encoder(), "botocore": botocore_encoder()}
    for name, found in peers.items():
        if found is None:
            print(f"note: {name} is not installed (pip install '.[bench]'): its rows are skipped")
    failed = False
    for name, what in LEGEND:
        print(f"{name.strip():<28} {what}")
    print(f"{'case':<32}{'ours':>9}{'theirs':>10}{'ratio':>8}  target")
    cases = (
        ("10 filters x 5 values", filters_request()),
        ("100 image ids", image_ids_request()),
        ("escape-free 10 x 5", escape_free_request()),
    )
    for label, request in cases:
        query = encode_query(request)
        print(f"{label}: {len(encode_request(request))} pairs, {len(query)} bytes")
        for name, ours, theirs, target, at_most in rows(request, peers):
            t_ours, t_theirs = side_by_side(ours, theirs, args.repeat, args.number)
            ratio = t_ours / t_theirs if at_most else t_theirs / t_ours
            verdict = "(shown only)"
            if target is not None:
                ok = ratio <= target if at_most else ratio >= target
                failed |= not ok
                sign = "<=" if at_most else ">="
                verdict = f"{sign} {target:.2f} {'ok' if ok else 'MISSED'}"
            print(
                f"  {name:<30}{t_ours * 1e6:>7.1f}us{t_theirs * 1e6:>8.1f}us{ratio:>8.2f}"
                f"  {verdict}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
