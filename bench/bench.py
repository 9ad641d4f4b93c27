"""Side-by-side timings: describe_images against urllib.parse, in one run.

    python bench/bench.py [--repeat 7] [--number 2000]

Targets (issue 3): decode_request (decode + validate) <= 0.5x parse_qsl alone;
encode_query <= 0.5x urlencode of the pre-flattened pairs. The decoder keeps a plan per
key layout (clients repeat their layouts); the "layout never seen" row shows a decode
that has to build its plan first (informative, no target). Each figure is the best of
``--repeat`` runs of ``--number`` calls (the minimum is the least noisy estimate).
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from describe_images import (
    DescribeImagesRequest,
    Filter,
    decode_request,
    encode_query,
    encode_request,
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


def _cold_decode(query: str) -> object:
    """decode_request as if this key layout had never been seen (its plan rebuilt)."""
    plan.cache_clear()
    return decode_request(query)


def side_by_side(
    ours: Callable[[], object], theirs: Callable[[], object], repeat: int, number: int
) -> tuple[float, float]:
    """Seconds per call of each, best of ``repeat`` rounds; the two alternate within every
    round, so that load on the machine falls on both alike."""
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, timeit.timeit(ours, number=number) / number)
        best_theirs = min(best_theirs, timeit.timeit(theirs, number=number) / number)
    return best_ours, best_theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    failed = False
    print(f"{'case':<28}{'ours':>10}{'stdlib':>10}{'ratio':>8}  target")
    cases = (("10 filters x 5 values", filters_request()), ("100 image ids", image_ids_request()))
    for label, request in cases:
        query = encode_query(request)
        pairs = encode_request(request)
        assert decode_request(query) == request, "the benchmark request must round-trip"
        assert encode_query(request) == urlencode(pairs)
        rows = (
            ("decode+validate", partial(decode_request, query), partial(parse_qsl, query)),
            ("  (layout never seen)", partial(_cold_decode, query), partial(parse_qsl, query)),
            ("encode", partial(encode_query, request), partial(urlencode, pairs)),
        )
        print(f"{label}: {len(pairs)} pairs, {len(query)} bytes")
        for name, ours, theirs in rows:
            t_ours, t_theirs = side_by_side(ours, theirs, args.repeat, args.number)
            ratio = t_ours / t_theirs
            if name.startswith(" "):  # informative: no target
                print(f"  {name:<26}{t_ours * 1e6:>8.1f}us{t_theirs * 1e6:>8.1f}us{ratio:>8.2f}")
                continue
            ok = ratio <= 0.5
            failed |= not ok
            print(
                f"  {name:<26}{t_ours * 1e6:>8.1f}us{t_theirs * 1e6:>8.1f}us{ratio:>8.2f}"
                f"  <= 0.50 {'ok' if ok else 'MISSED'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
