"""The dotted-array query-string codec (public submodule).

Schema-agnostic: ``parse_query`` (bytes -> pairs), ``unflatten`` (pairs -> tree),
``flatten`` (tree -> pairs) and ``format_query`` (pairs -> str). See spec/README.md Part 1.
"""

from ._errors import WireError
from ._grammar import DEFAULT_LIMITS, Node, Pairs, WireLimits
from ._pairs import format_query, parse_query, quote
from ._tree import flatten, unflatten

__all__ = [
    "DEFAULT_LIMITS",
    "Node",
    "Pairs",
    "WireError",
    "WireLimits",
    "flatten",
    "format_query",
    "parse_query",
    "quote",
    "unflatten",
]


def __dir__() -> list[str]:
    return sorted(__all__)
