"""describe-images: the reference implementation of Tencent Cloud's legacy DescribeImages
request format (Version 2017-03-12): codec, typed model, validation, responses, signing
(legacy v1 and API 3.0's TC3-HMAC-SHA256), and API 3.0 JSON request bodies.

Public submodules: :mod:`describe_images.wire` (the schema-agnostic codec) and
:mod:`describe_images.server` (the WSGI reference server; imported on demand).
"""

from . import wire
from ._catalog import CatalogError, default_catalog, load_catalog, parse_catalog
from ._decode import decode_request
from ._encode import encode_query, encode_request
from ._errors import (
    AuthError,
    DescribeImagesError,
    DocumentError,
    ErrorCode,
    RequestError,
    ServiceError,
    UsageError,
    Violation,
    WireError,
)
from ._grammar import DEFAULT_LIMITS, WireLimits
from ._json import decode_json_request, encode_json
from ._model import CommonParams, DescribeImagesRequest, Filter
from ._nonces import NonceKey, NonceStoreUnavailable
from ._pairs import format_query, parse_query
from ._query import answer_request
from ._response import DescribeImagesResponse, Image, ResponseFormatError
from ._rules import validate
from ._signing import (
    MemoryNonceStore,
    NonceStore,
    NonceStoreFull,
    Verifier,
    make_verifier,
    sign,
    signed_query,
    string_to_sign,
    verify,
)
from ._spec import SPEC_VERSION
from ._tc3 import (
    Tc3Call,
    Tc3Verifier,
    make_tc3_verifier,
    tc3_authorization,
    tc3_canonical_request,
    tc3_sign,
    tc3_signing_key,
    tc3_string_to_sign,
    tc3_verify,
)
from ._tree import flatten, unflatten

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "SPEC_VERSION",
    "AuthError",
    "CatalogError",
    "CommonParams",
    "DescribeImagesError",
    "DescribeImagesRequest",
    "DescribeImagesResponse",
    "DocumentError",
    "ErrorCode",
    "Filter",
    "Image",
    "MemoryNonceStore",
    "NonceKey",
    "NonceStore",
    "NonceStoreFull",
    "NonceStoreUnavailable",
    "RequestError",
    "ResponseFormatError",
    "ServiceError",
    "Tc3Call",
    "Tc3Verifier",
    "UsageError",
    "Verifier",
    "Violation",
    "WireError",
    "WireLimits",
    "__version__",
    "answer_request",
    "decode_json_request",
    "decode_request",
    "default_catalog",
    "encode_json",
    "encode_query",
    "encode_request",
    "flatten",
    "format_query",
    "load_catalog",
    "make_tc3_verifier",
    "make_verifier",
    "parse_catalog",
    "parse_query",
    "sign",
    "signed_query",
    "string_to_sign",
    "tc3_authorization",
    "tc3_canonical_request",
    "tc3_sign",
    "tc3_signing_key",
    "tc3_string_to_sign",
    "tc3_verify",
    "unflatten",
    "validate",
    "verify",
    "wire",
]


def __dir__() -> list[str]:
    return sorted(__all__)
