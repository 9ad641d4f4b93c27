"""The vectors ship with the package: describe_images/data/vectors/ is a byte-identical copy
of spec/vectors/, the source of truth (README.md#package-data).

After editing spec/vectors/, refresh the copy with
    cp spec/vectors/*.json describe_images/data/vectors/
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC_VECTORS = ROOT / "spec" / "vectors"
PACKAGE_VECTORS = ROOT / "describe_images" / "data" / "vectors"
SPEC_FILES = sorted(p.name for p in SPEC_VECTORS.iterdir() if p.is_file())


def test_the_same_files() -> None:
    assert SPEC_FILES, "spec/vectors/ is empty"
    assert sorted(p.name for p in PACKAGE_VECTORS.iterdir() if p.is_file()) == SPEC_FILES


@pytest.mark.parametrize("name", SPEC_FILES)
def test_byte_identical(name: str) -> None:
    copy = PACKAGE_VECTORS / name
    assert copy.is_file(), f"describe_images/data/vectors/{name} is missing"
    assert copy.read_bytes() == (SPEC_VECTORS / name).read_bytes(), (
        f"describe_images/data/vectors/{name} differs from spec/vectors/{name}; "
        "run: cp spec/vectors/*.json describe_images/data/vectors/"
    )


@pytest.mark.parametrize("name", ["validate.json", "query.json"])
def test_reachable_as_package_data(name: str) -> None:
    packaged = resources.files("describe_images") / "data" / "vectors" / name
    assert packaged.read_bytes() == (SPEC_VECTORS / name).read_bytes()


def test_catalog_is_package_data() -> None:
    catalog = resources.files("describe_images") / "data" / "catalog.json"
    assert catalog.read_bytes().startswith(b"[\n")
