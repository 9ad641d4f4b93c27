"""describe-images: the reference implementation of Tencent Cloud's legacy DescribeImages
request format (Version 2017-03-12): codec, typed model, validation, server, signing.
"""

from . import wire
from ._errors import (
    AuthError,
    DescribeImagesError,
    ErrorCode,
    RequestError,
    ServiceError,
    Violation,
    WireError,
)
from ._wire import DEFAULT_LIMITS, WireLimits, flatten, format_query, parse_query, unflatten

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "AuthError",
    "DescribeImagesError",
    "ErrorCode",
    "RequestError",
    "ServiceError",
    "Violation",
    "WireError",
    "WireLimits",
    "__version__",
    "flatten",
    "format_query",
    "parse_query",
    "unflatten",
    "wire",
]
