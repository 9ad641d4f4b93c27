"""Hostile input inside the default caps: what the worst shapes cost, side by side.

    python bench/hostile.py [--repeat 7] [--number 5] [--only NAME]

For each shape (every one within DEFAULT_LIMITS: at most 65,536 bytes, 512 pairs,
128-character keys, 4,096-character values, 8 segments, index 9,999) it prints the query's
size, then the milliseconds per call of

- ``codec``: ``unflatten(parse_query(q))``, the general codec (spec/README.md Part 1);
- ``decode``: ``decode_request(q)``, which adds the request decoder (Part 2);
- ``qsl``: ``urllib.parse.parse_qsl(q, keep_blank_values=True)`` of the same query;

and the ratios codec/qsl and decode/qsl. Targets (issue 8): codec and decode each
<= 10 ms and <= 20x qsl for every shape. Each figure is the best of ``--repeat`` rounds of
``--number`` calls; the three alternate within every round, so that load on the machine
falls on all of them alike. The exit status is 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from pathlib import Path
from urllib.parse import parse_qsl, quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from describe_images import DescribeImagesError, decode_request
from describe_images.wire import DEFAULT_LIMITS, WireError, parse_query, unflatten

LIMITS = DEFAULT_LIMITS
PAIRS = LIMITS.max_pairs
KEY = LIMITS.max_key_length
VALUE = LIMITS.max_value_length
DEPTH = LIMITS.max_depth
MAX_INDEX = LIMITS.max_index
BYTES = LIMITS.max_query_bytes

# The codec's targets.
MAX_MS = 10.0
MAX_RATIO = 20.0


def _join(pairs: Iterator[str]) -> str:
    return "&".join(pairs)


def _fill(make: Callable[[int], str], budget: int = BYTES) -> str:
    """As many pairs ``make(0), make(1), ...`` as fit in ``budget`` bytes and max_pairs."""
    out: list[str] = []
    size = -1
    for i in range(PAIRS):
        pair = make(i)
        size += len(pair.encode("utf-8")) + 1
        if size > budget:
            break
        out.append(pair)
    return "&".join(out)


def _name(i: int, width: int) -> str:
    """A name of exactly ``width`` characters, distinct for each ``i``."""
    return f"K{i}".ljust(width, "x")


def _long_key(i: int) -> str:
    """A key of exactly max_key_length characters with max_depth segments."""
    width = (KEY - (DEPTH - 1)) // DEPTH
    key = ".".join(_name(i, width) for _ in range(DEPTH))
    return key + "y" * (KEY - len(key))


def shapes() -> dict[str, str | bytes]:
    """Each hostile shape: a name -> its query (text, or bytes that are not UTF-8)."""
    deep_zeros = "." + ".".join(["0"] * (DEPTH - 1))
    deep_names = "." + ".".join("abcdefgh"[: DEPTH - 1])
    value = "v" * VALUE
    return {
        # Valid, or nearly so: the tree is as large as the caps allow.
        "deep distinct lists": _join(f"A{i}{deep_zeros}=x" for i in range(PAIRS)),
        "deep distinct objects": _join(f"A{i}{deep_names}=x" for i in range(PAIRS)),
        "deep pairs (shared to max_depth)": _join(
            f"A{i // 2}{deep_zeros[:-2]}.{i % 2}=x" for i in range(PAIRS)
        ),
        "deep shared prefix": _join(f"A.B.C.D.E.F.G.K{i}=x" for i in range(PAIRS)),
        "keys at max_key_length": _fill(lambda i: f"{_long_key(i)}="),
        "512-element list": _join(f"A.{i}=x" for i in range(PAIRS)),
        "512-element list reversed": _join(f"A.{i}=x" for i in reversed(range(PAIRS))),
        "lists ending at max_index": _join(
            f"A{i}.{j}=x" for i in range(PAIRS // 2) for j in (MAX_INDEX - 1, MAX_INDEX)
        ),
        "values at max_value_length": _fill(lambda i: f"V{i}={value}"),
        "non-ASCII values (raw)": _fill(lambda i: f"V{i}=" + "é" * 62),
        "non-ASCII values (escaped)": _fill(lambda i: f"V{i}=" + quote("é") * 20),
        "escaped keys and values": _fill(
            lambda i: quote(f"A{i}", safe="").replace("A", "%41") + "=" + "%41" * 38
        ),
        "one value of 4096 escaped": _fill(lambda i: f"V{i}=" + "%C3%A9" * VALUE),
        "plus signs": _fill(lambda i: f"V{i}=" + "+" * 120),
        "empty segments": "&" * (BYTES - 3) + "A=x",
        # Refused: as many violations as the caps allow.
        "gaps: indexes 0 and 9999": _join(
            f"A{i}.{j}=x" for i in range(PAIRS // 2) for j in (0, MAX_INDEX)
        ),
        "deep gaps": _join(f"A{i // 2}{deep_zeros[:-2]}.{(i % 2) * 2}=x" for i in range(PAIRS)),
        "deep bad index start": _join(f"A{i}{deep_zeros[:-2]}.5=x" for i in range(PAIRS)),
        "duplicate keys": _join("A=x" for _ in range(PAIRS)),
        "duplicate bare keys": _join("A" for _ in range(PAIRS)),
        "duplicate deep keys": _join(f"A{deep_zeros}=x" for _ in range(PAIRS)),
        "shape conflicts (leaf, container)": _join(
            "A=x" if i == 0 else f"A.K{i}=x" for i in range(PAIRS)
        ),
        "shape conflicts (mixed children)": _join(
            f"A{i // 2}.{'0' if i % 2 else 'B'}=x" for i in range(PAIRS)
        ),
        "bad keys": _join("0" for _ in range(PAIRS)),
        "bad index (leading zero)": _join(f"A.0{i}=x" for i in range(PAIRS)),
        "index out of range": _join(f"A{i}.{MAX_INDEX + 1}=x" for i in range(PAIRS)),
        "too deep": _join(f"A{i}" + ".0" * DEPTH + "=x" for i in range(PAIRS)),
        "control characters": _join(f"A{i}=%00" for i in range(PAIRS)),
        "bad percent escapes": _join(f"A{i}=%" for i in range(PAIRS)),
        "bad UTF-8 escapes": _join(f"A{i}=%FF" for i in range(PAIRS)),
        "keys over max_key_length": _fill(lambda i: f"K{i}".ljust(KEY + 1, "k")),
        "values over max_value_length": _fill(lambda i: f"V{i}=" + "v" * (VALUE + 1)),
        "controls at the end of long values": _fill(lambda i: f"V{i}=" + "v" * 120 + "%7F"),
        # Refused by the request decoder: as many rule violations as the caps allow.
        "filters without values": _join(f"Filters.{i}.Name=image-type" for i in range(PAIRS)),
        "filters with unknown names": _join(
            f"Filters.{i // 2}.{'Name=Image-Type' if i % 2 == 0 else 'Values.0=x'}"
            for i in range(PAIRS)
        ),
        "bad filter values": _join(
            f"Filters.{i // 6}." + ("Name=image-id" if i % 6 == 0 else f"Values.{i % 6}=x")
            for i in range(PAIRS)
        ),
        "malformed image ids": _join(f"ImageIds.{i}=img-{i:07d}X" for i in range(PAIRS)),
        "misplaced keys (wrong shape)": _join(f"Limit.{i}=1" for i in range(PAIRS)),
        "unknown keys near the schema": _join(f"Filter.{i}.Value.0=x" for i in range(PAIRS)),
        "raw bytes that are not UTF-8": b"&".join(
            f"K{i}".encode() + b"\xff=\xfe" + b"v" * 100 for i in range(PAIRS)
        ).ljust(BYTES // 2, b"&"),
    }


def _codec(query: str | bytes) -> None:
    with suppress(WireError):
        unflatten(parse_query(query))


def _decode(query: str | bytes) -> None:
    with suppress(DescribeImagesError):
        decode_request(query)


def _qsl(query: str | bytes) -> None:
    # parse_qsl refuses bytes that are not ASCII: give it the text parse_query reads.
    text = query.decode("utf-8", "surrogateescape") if isinstance(query, bytes) else query
    parse_qsl(text, keep_blank_values=True)


def best_of(calls: tuple[Callable[[], None], ...], repeat: int, number: int) -> list[float]:
    """Milliseconds per call of each, best of ``repeat`` rounds; they alternate in a round."""
    best = [float("inf")] * len(calls)
    for _ in range(repeat):
        for i, call in enumerate(calls):
            best[i] = min(best[i], timeit.timeit(call, number=number) / number * 1e3)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=5)
    parser.add_argument("--only", help="run only the shapes whose name contains this")
    args = parser.parse_args()
    missed = []
    print(
        f"{'shape':<36}{'bytes':>7}{'codec':>9}{'decode':>9}{'qsl':>8}"
        f"{'codec/qsl':>11}{'decode/qsl':>11}"
    )
    for name, query in shapes().items():
        if args.only and args.only not in name:
            continue
        data = query if isinstance(query, bytes) else query.encode("utf-8")
        size = len(data)
        assert size <= BYTES and len([s for s in data.split(b"&") if s]) <= PAIRS, name
        codec, decode, qsl = best_of(
            (partial(_codec, query), partial(_decode, query), partial(_qsl, query)),
            args.repeat,
            args.number,
        )
        ok = all(t <= MAX_MS and t <= MAX_RATIO * qsl for t in (codec, decode))
        if not ok:
            missed.append(name)
        print(
            f"{name:<36}{size:>7}{codec:>9.2f}{decode:>9.2f}{qsl:>8.3f}"
            f"{codec / qsl:>10.1f}x{decode / qsl:>10.1f}x{'' if ok else '  MISSED'}"
        )
    print(
        f"targets: codec and decode <= {MAX_MS:g} ms and <= {MAX_RATIO:g}x qsl"
        " (milliseconds per call)"
    )
    if missed:
        print("missed:", ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
