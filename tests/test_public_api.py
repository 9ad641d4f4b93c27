"""The public API is exactly ``__all__``: every name in it exists and is documented, and
nothing else public is reachable by accident (spec/README.md §2.8)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

import describe_images
from describe_images import wire

PUBLIC = {
    "DEFAULT_LIMITS", "AuthError", "CatalogError", "CommonParams", "DescribeImagesError",
    "DescribeImagesRequest", "DescribeImagesResponse", "DocumentError", "ErrorCode", "Filter",
    "Image", "MemoryNonceStore", "NonceStore", "NonceStoreFull", "RequestError",
    "ResponseFormatError", "ServiceError", "UsageError", "Violation", "WireError", "WireLimits",
    "__version__", "answer_request", "decode_request", "default_catalog", "encode_query",
    "encode_request", "flatten", "format_query", "load_catalog", "make_verifier",
    "parse_catalog", "parse_query", "sign", "signed_query", "string_to_sign", "unflatten",
    "validate", "verify", "wire",
    # 0.2.0
    "NonceKey", "Verifier", "decode_json_request", "encode_json", "Tc3Call", "Tc3Verifier",
    "make_tc3_verifier", "tc3_authorization", "tc3_canonical_request", "tc3_sign",
    "tc3_signing_key", "tc3_string_to_sign", "tc3_verify", "NonceStoreUnavailable",
    # spec 2.0.0: the version of spec/ this package implements
    "SPEC_VERSION",
}  # fmt: skip


def test_all_is_the_public_api() -> None:
    # The whole public API, no more and no less: a new name is added here on purpose.
    assert set(describe_images.__all__) == PUBLIC
    for name in describe_images.__all__:
        assert hasattr(describe_images, name), name
    assert dir(describe_images) == sorted(describe_images.__all__)
    assert dir(wire) == sorted(wire.__all__)


def test_every_public_name_is_documented() -> None:
    for name in describe_images.__all__:
        value = getattr(describe_images, name)
        if isinstance(value, (types.FunctionType, type, types.ModuleType)):
            assert value.__doc__, name


def test_every_error_is_a_library_error() -> None:
    for name in describe_images.__all__:
        value = getattr(describe_images, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, describe_images.DescribeImagesError), name


def test_removed_names_are_gone() -> None:
    # Renamed in 0.2.0 (CHANGELOG.md): run -> answer_request.
    assert not hasattr(describe_images, "run")


def test_the_readme_library_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})  # the documented example, as written
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Action=DescribeImages&Version=2017-03-12"
        "&Filters.0.Name=image-type&Filters.0.Values.0=PRIVATE_IMAGE"
    )
    assert out[1:3] == [
        "InvalidParameterValue invalid-offset Offset",
        "InvalidParameterValue.InvalidParameterValueLimit invalid-limit Limit",
    ]
    assert "too-many-filters" in out[3]
