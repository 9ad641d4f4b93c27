"""Catalogs: the embedded default one (README.md#package-data), and users' JSON files
(spec/README.md §3.3).

A catalog file is a JSON array of Image objects in the wire spelling, or an object whose
``catalog`` member is such an array (so spec/vectors/query.json can be served as is).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from importlib import resources

from ._errors import DocumentError, Violation, violation
from ._response import Image, image_from_dict, json_type
from ._spec import IMAGE_ID_RE, IMAGE_TYPES


class CatalogError(DocumentError):
    """A catalog cannot be read or is not a valid catalog; carries every problem as a
    :class:`Violation` (its path inside the document), and ``str()`` names the file.

    ``source`` is the file name (or "catalog" for parsed data)."""

    def __init__(self, source: str, violations: list[Violation]) -> None:
        self.source = source
        super().__init__(violations, _summary(source, [v.message for v in violations]))


def _refuse(source: str, reason: str, message: str, path: str = "") -> CatalogError:
    return CatalogError(source, [violation(reason, path, message)])


def parse_catalog(data: object, *, source: str = "catalog") -> tuple[Image, ...]:
    """Check and build a catalog from parsed JSON; every problem is reported at once.

    Beyond the types, a catalog must be servable: every ImageId matches ``img-`` + 8 of
    ``[0-9a-z]`` and is unique (a request could not name it otherwise), every ImageType is
    one of the three the ``image-type`` filter accepts, and no member is unknown (in a
    file a person wrote, an unknown member is a typo).

    >>> parse_catalog({"catalog": [{"ImageId": "img-0"}]}, source="x.json")
    Traceback (most recent call last):
    ...
    describe_images._catalog.CatalogError: x.json: 7 problems: catalog.0.ImageOsName is missing; ...
    """
    items: object = data
    prefix = ""
    if isinstance(data, Mapping) and "catalog" in data:
        items, prefix = data["catalog"], "catalog"
    if not isinstance(items, list):
        where = prefix or "the catalog"
        raise _refuse(
            source,
            "wrong-member-type",
            f"{where} must be an array of images (or an object with a 'catalog' "
            f"array), not {json_type(items)}",
            prefix,
        )
    problems: list[Violation] = []
    images: list[Image] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        path = f"{prefix}.{i}" if prefix else str(i)
        image = image_from_dict(item, path, problems, strict=True)
        if image is None:
            continue
        where = f"{path}.ImageId"
        if not IMAGE_ID_RE.match(image.image_id):
            problems.append(
                violation(
                    "bad-document",
                    where,
                    f"{where} {image.image_id!r} is not an image ID (img- and 8 of 0-9, a-z)",
                )
            )
        elif image.image_id in seen:
            problems.append(
                violation(
                    "bad-document",
                    where,
                    f"{where} {image.image_id} repeats image {seen[image.image_id]}",
                )
            )
        else:
            seen[image.image_id] = i
        if image.image_type not in IMAGE_TYPES:
            where = f"{path}.ImageType"
            message = f"{where} {image.image_type!r} is not {_TYPES}"
            problems.append(violation("bad-document", where, message))
        images.append(image)
    if problems:
        raise CatalogError(source, problems)
    return tuple(images)


_TYPES = ", ".join(IMAGE_TYPES[:-1]) + " or " + IMAGE_TYPES[-1]
# A catalog with a thousand broken images should not print a thousand lines.
MAX_LISTED_PROBLEMS = 10


def _summary(source: str, messages: list[str]) -> str:
    if len(messages) == 1:
        return f"{source}: {messages[0]}"
    shown = "; ".join(messages[:MAX_LISTED_PROBLEMS])
    rest = len(messages) - MAX_LISTED_PROBLEMS
    tail = f"; and {rest} more" if rest > 0 else ""
    return f"{source}: {len(messages)} problems: {shown}{tail}"


def load_catalog(path: str | os.PathLike[str]) -> tuple[Image, ...]:
    """Read a catalog file (UTF-8 JSON); raises :class:`CatalogError` with the file name."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise _refuse(
            name, "bad-document", f"cannot read catalog: {exc.strerror or exc}"
        ) from None
    return parse_catalog(_json(raw, name), source=name)


def _json(raw: bytes, source: str) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _refuse(source, "not-json", f"not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _refuse(
            source, "not-json", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise _refuse(source, "not-json", f"not JSON: {exc}") from None


@functools.cache
def default_catalog() -> tuple[Image, ...]:
    """The embedded catalog (package data ``describe_images/data/catalog.json``).

    >>> [i.image_id for i in default_catalog()][:1]
    ['img-pmqg1cw7']
    """
    raw = (resources.files("describe_images") / "data" / "catalog.json").read_bytes()
    return parse_catalog(_json(raw, "embedded catalog"), source="embedded catalog")
