"""DescribeImages 2017-03-12 as named data: parameters, limits, rules, codes.

Every number and name here also lives in spec/describe_images.json; a test asserts that
the two agree (tests/test_spec.py).
"""

from __future__ import annotations

import re
from typing import Final

# The version of the specification in spec/ (semantic versioning): every vector file and
# spec/describe_images.json carry it as "spec_version" (spec/README.md, Vector files).
SPEC_VERSION: Final = "2.0.0"

ACTION: Final = "DescribeImages"
VERSION: Final = "2017-03-12"
HOST: Final = "image.api.qcloud.com"
PATH: Final = "/v2/index.php"
METHODS: Final = ("GET", "POST")
ENDPOINT: Final = f"https://{HOST}{PATH}"

# Limits (seed: "The maximum number is 10 for Filters, and is 5 for Filters.Values";
# "Default is 20, and maximum is 100"; "Offset. Default is 0").
MAX_FILTERS: Final = 10
MAX_FILTER_VALUES: Final = 5
MAX_IMAGE_IDS: Final = 100
MIN_LIMIT: Final = 1
MAX_LIMIT: Final = 100
DEFAULT_LIMIT: Final = 20
DEFAULT_OFFSET: Final = 0
MIN_OFFSET: Final = 0
MAX_OFFSET: Final = 2**63 - 1

FILTER_IMAGE_ID: Final = "image-id"
FILTER_IMAGE_TYPE: Final = "image-type"
FILTER_IMAGE_NAME: Final = "image-name"
FILTER_NAMES: Final = (FILTER_IMAGE_ID, FILTER_IMAGE_TYPE, FILTER_IMAGE_NAME)
IMAGE_TYPES: Final = ("PRIVATE_IMAGE", "PUBLIC_IMAGE", "SHARED_IMAGE")
SIGNATURE_METHODS: Final = ("HmacSHA1", "HmacSHA256")

# An image ID: "img-" and 8 lower-case letters or digits (img-pmqg1cw7).
IMAGE_ID_RE: Final = re.compile(r"img-[0-9a-z]{8}\Z")
# An image-name value: any non-empty text (the rules refuse an empty one).
IMAGE_NAME_RE: Final = re.compile(r".+\Z", re.DOTALL)
# An integer in a value: ASCII digits only; leading zeros allowed (spec/README.md §2.1).
DIGITS_RE: Final = re.compile(r"[0-9]+\Z")

# Wire names of the business parameters, in encoding order.
BUSINESS_PARAMETERS: Final = ("ImageIds", "Filters", "Offset", "Limit")
# Common parameters: wire name -> CommonParams attribute, in encoding order
# (Action and Version come first; Signature comes last, as it signs the rest).
COMMON_PARAMETERS: Final = {
    "Action": "action",
    "Region": "region",
    "Timestamp": "timestamp",
    "Nonce": "nonce",
    "SecretId": "secret_id",
    "SignatureMethod": "signature_method",
    "Token": "token",
    "RequestClient": "request_client",
    "Language": "language",
    "Signature": "signature",
}
SCALAR_PARAMETERS: Final = frozenset({*COMMON_PARAMETERS, "Version", "Offset", "Limit"})
ALL_PARAMETERS: Final = frozenset({*SCALAR_PARAMETERS, "ImageIds", "Filters"})
REQUIRED_PARAMETERS: Final = ("Action", "Version")
# Every parameter's type, in the order spec/describe_images.json lists them.
PARAMETER_TYPES: Final = {
    "Action": "string",
    "Version": "string",
    "ImageIds": "array<string>",
    "Filters": "array<Filter>",
    "Offset": "integer",
    "Limit": "integer",
    "Region": "string",
    "Timestamp": "unsigned-integer-string",
    "Nonce": "unsigned-integer-string",
    "SecretId": "string",
    "SignatureMethod": "string",
    "Token": "string",
    "RequestClient": "string",
    "Language": "string",
    "Signature": "string",
}
FILTER_FIELDS: Final = ("Name", "Values")

# Where each rule reports (spec/README.md §2.3), as the spec data describes it.
RULE_PATHS: Final = {
    "wrong-shape": "the key as sent",
    "wrong-type": "the JSON path (from_dict only)",
    "missing-parameter": "Action | Version",
    "unsupported-action": "Action",
    "unknown-parameter": "the key as sent",
    "unsupported-version": "Version",
    "not-an-integer": "Timestamp | Nonce",
    "unsupported-signature-method": "SignatureMethod",
    "coexist-imageids-filters": "",
    "too-many-filters": "Filters",
    "missing-filter-name": "Filters.<n>",
    "unknown-filter-name": "Filters.<n>.Name",
    "missing-filter-values": "Filters.<n>",
    "too-many-filter-values": "Filters.<n>.Values",
    "empty-filter-value": "Filters.<n>.Values.<m>",
    "invalid-filter-value": "Filters.<n>.Values.<m>",
    "malformed-image-id": "ImageIds.<n>",
    "too-many-image-ids": "ImageIds",
    "invalid-offset": "Offset",
    "invalid-limit": "Limit",
}
VIOLATION_ORDER: Final = (
    "codec problems alone (a query the codec refuses has no tree to check); otherwise by "
    "the order of 'rules', then by the position in the query of the first key under the "
    "violation's path"
)

# The rules in reporting order, and their codes, live with the rest of the reason
# vocabulary in _errors (spec/README.md §2.3).

# Suggestions for unknown parameters (spec/README.md §2.5): lower-cased name ->
# the parameter meant, covering case slips and the AWS EC2 spellings people carry over.
AWS_SUGGESTIONS: Final = {
    "filter": "Filters",
    "imageid": "ImageIds",
    "maxresults": "Limit",
    "nexttoken": "Offset",
}
TOP_LEVEL_SUGGESTIONS: Final = {
    **{name.lower(): name for name in ALL_PARAMETERS},
    **AWS_SUGGESTIONS,
}
FILTER_FIELD_SUGGESTIONS: Final = {"name": "Name", "values": "Values", "value": "Values"}


# --- Wire keys, pre-built ------------------------------------------------------------------
# Every key a valid request can use, for base 0 and base 1, and one element more per list
# (so the 1-based form of every valid request is here too). The encoder writes these and
# the decoder's fast path recognises them (spec/README.md §2.2, §2.7).


def _list_keys(count: int, template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of a list's first ``count`` elements, from base 0 and from base 1."""
    zero = tuple(template.format(i) for i in range(count))
    one = tuple(template.format(i) for i in range(1, count + 1))
    return zero, one


IMAGE_KEYS: Final = _list_keys(MAX_IMAGE_IDS + 1, "ImageIds.{}")
NAME_KEYS: Final = _list_keys(MAX_FILTERS + 1, "Filters.{}.Name")
# VALUE_KEYS[i][base]: the value keys of the filter sent with index i.
VALUE_KEYS: Final = tuple(
    _list_keys(MAX_FILTER_VALUES + 1, f"Filters.{i}.Values.{{}}") for i in range(MAX_FILTERS + 2)
)


# --- API 3.0 and TC3-HMAC-SHA256 (spec/README.md §4.7) -------------------------------------
# FACTS "API 3.0 calls": the same action and version at cvm.tencentcloudapi.com, path "/".
API3_HOST: Final = "cvm.tencentcloudapi.com"
API3_PATH: Final = "/"
# The service in the credential scope: the official SDK's CvmClient fixes it ("cvm"),
# whatever endpoint it is pointed at (it is also the first label of API3_HOST).
SERVICE: Final = "cvm"
TC3_ALGORITHM: Final = "TC3-HMAC-SHA256"
TC3_TERMINATOR: Final = "tc3_request"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
# The Content-Type the official SDK sends with each method (and signs).
TC3_CONTENT_TYPES: Final = {"GET": "application/x-www-form-urlencoded", "POST": "application/json"}
# Headers every TC3 signature must cover (spec/README.md §4.7.4).
TC3_REQUIRED_SIGNED_HEADERS: Final = ("content-type", "host")
