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
from ._decode import decode_request
from ._encode import encode_query, encode_request
from ._model import CommonParams, DescribeImagesRequest, Filter
from ._rules import validate
from ._wire import DEFAULT_LIMITS, WireLimits, flatten, format_query, parse_query, unflatten

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "AuthError",
    "CommonParams",
    "DescribeImagesRequest",
    "DescribeImagesError",
    "ErrorCode",
    "Filter",
    "RequestError",
    "ServiceError",
    "Violation",
    "WireError",
    "WireLimits",
    "__version__",
    "decode_request",
    "encode_query",
    "encode_request",
    "flatten",
    "format_query",
    "parse_query",
    "unflatten",
    "validate",
    "wire",
]
