"""Reading spec/vectors/ for the tests: one loader, the long-string form, and a JSON Schema
validator that resolves every file schema's ``$ref`` into spec/schema/common.schema.json
(spec/README.md, "Vector files")."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

SPEC = Path(__file__).resolve().parent.parent / "spec"
VECTORS = SPEC / "vectors"
SCHEMAS = SPEC / "schema"


def vector_files() -> list[Path]:
    return sorted(VECTORS.glob("*.json"))


@cache
def _load(name: str) -> str:
    return (VECTORS / name).read_text("utf-8")


def load(name: str) -> dict[str, Any]:
    """A vector file, freshly parsed (callers may change it)."""
    document: dict[str, Any] = json.loads(_load(name))
    return document


def cases(name: str, kind: str | None = None) -> list[dict[str, Any]]:
    """A file's ``cases``, or only those of one ``kind``."""
    found: list[dict[str, Any]] = load(name)["cases"]
    return found if kind is None else [case for case in found if case["kind"] == kind]


def text(value: str | dict[str, Any]) -> str:
    """A vector's *text*: a string, or {prefix?, repeat, times, suffix?}."""
    if isinstance(value, str):
        return value
    prefix: str = value.get("prefix", "")
    suffix: str = value.get("suffix", "")
    repeated: str = value["repeat"] * value["times"]
    return prefix + repeated + suffix


def schema_path(path: Path, document: dict[str, Any]) -> Path:
    """A vector file's schema: the one its "$schema" names, relative to the file."""
    named: str = document["$schema"]
    return (path.parent / named).resolve()


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every schema of spec/schema/, by file name."""
    return {path.name: json.loads(path.read_text("utf-8")) for path in SCHEMAS.glob("*.json")}


@cache
def _registry() -> Registry[Any]:
    resources = [(s["$id"], Resource.from_contents(s)) for s in schemas().values()]
    return Registry().with_resources(resources)


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A draft 2020-12 validator for ``schema`` that resolves references to the others."""
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def schema_problems(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every way ``document`` breaks ``schema`` ([]: it validates)."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in validator(schema).iter_errors(document)
    ]
