"""The answer: ``Image`` and ``DescribeImagesResponse``, and their wire JSON.

Reading is strict about types and liberal about extras (spec/README.md §3.1
shape): a value of the wrong JSON type is refused with :class:`ResponseFormatError`
naming its path, while members this library does not know are ignored, so a server that
adds fields (API 3.0 adds many) can still be read. An error envelope is raised as
:class:`ServiceError`.

An Image has two sets of member names: the legacy API's (the seed's) and API 3.0's (the
official SDKs' ``Image`` model). Writing takes ``names="legacy"`` (the default) or
``names="api3"``; reading takes either (spec/README.md §3.1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import DocumentError, ServiceError, UsageError, Violation, violation
from ._grammar import shown_argument


class ResponseFormatError(DocumentError):
    """A response is not the documented JSON shape; carries every problem as a
    :class:`Violation` whose path is dotted, like ``Response.ImageSet.0.ImageId``.
    ``str()`` is the first message, with a count of the rest."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        found = tuple(violations)
        super().__init__(found, found[0].message + _more(len(found) - 1) if found else None)


def _more(count: int) -> str:
    return f" (and {count} more problem{'s' if count > 1 else ''})" if count else ""


def missing(path: str) -> Violation:
    return violation("missing-member", path, f"{path} is missing")


# Wire name -> attribute, in the order the seed's example response shows them; the two
# optional ones (Platform, Architecture, from the Chinese edition of the page) come last.
IMAGE_FIELDS: dict[str, str] = {
    "ImageId": "image_id",
    "ImageOsName": "image_os_name",
    "ImageType": "image_type",
    "ImageCreateTime": "image_create_time",
    "ImageStatus": "image_status",
    "ImageName": "image_name",
    "ImageDescription": "image_description",
    "Creator": "creator",
    "Platform": "platform",
    "Architecture": "architecture",
}
# API 3.0's names for the same values, in the order of its output table (and of the
# official SDKs' Image model). API 3.0 has more members (ImageSize, ImageSource, Tags, ...);
# the catalog does not hold them, so an answer leaves them out (spec/README.md §3.1).
API3_IMAGE_FIELDS: dict[str, str] = {
    "ImageId": "image_id",
    "OsName": "image_os_name",
    "ImageType": "image_type",
    "CreatedTime": "image_create_time",
    "ImageName": "image_name",
    "ImageDescription": "image_description",
    "Architecture": "architecture",
    "ImageState": "image_status",
    "Platform": "platform",
    "ImageCreator": "creator",
}
OPTIONAL_IMAGE_FIELDS = frozenset({"Platform", "Architecture"})
ImageNames = Literal["legacy", "api3"]
_FIELDS: dict[str, dict[str, str]] = {"legacy": IMAGE_FIELDS, "api3": API3_IMAGE_FIELDS}


def _fields(names: object) -> dict[str, str]:
    fields = _FIELDS.get(names) if isinstance(names, str) else None
    if fields is None:
        raise UsageError(f'names must be "legacy" or "api3", not {shown_argument(names)}')
    return fields


@dataclass(frozen=True, slots=True)
class Image:
    """One image, as an element of ``ImageSet``.

    >>> Image.from_dict({"ImageId": "img-pmqg1cw7", "ImageOsName": "centos6.6x86_32",
    ...     "ImageType": "PUBLIC_IMAGE", "ImageCreateTime": "1970-01-01T00:00:00+00:00",
    ...     "ImageStatus": "NORMAL", "ImageName": "Centos 6.6 32-bit",
    ...     "ImageDescription": "Centos 6.6 32-bit", "Creator": "PUBLIC"}).image_name
    'Centos 6.6 32-bit'
    """

    image_id: str
    image_os_name: str
    image_type: str
    image_create_time: str
    image_status: str
    image_name: str
    image_description: str
    creator: str
    platform: str | None = None
    architecture: str | None = None

    def to_dict(self, names: ImageNames = "legacy") -> dict[str, str]:
        """The wire object in the legacy API's member names, or API 3.0's with
        ``names="api3"``; ``Platform`` and ``Architecture`` only when set.

        >>> image = Image("img-1", "centos", "PUBLIC_IMAGE", "1970-01-01T00:00:00+00:00",
        ...               "NORMAL", "c", "c", "PUBLIC")
        >>> image.to_dict("api3")["OsName"], image.to_dict()["ImageOsName"]
        ('centos', 'centos')
        """
        out: dict[str, str] = {}
        for wire, attr in _fields(names).items():
            value = getattr(self, attr)
            if value is not None:
                out[wire] = value
        return out

    @classmethod
    def from_dict(cls, data: object) -> Image:
        """Read one wire object; raises :class:`ResponseFormatError` on a wrong type."""
        problems: list[Violation] = []
        image = image_from_dict(data, "", problems)
        if image is None:
            raise ResponseFormatError(problems)
        return image


def json_type(value: object) -> str:
    """The JSON name of a Python value's type, for messages ("a number", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def wrong(path: str, expected: str, value: object) -> Violation:
    where = path or "the document"
    message = f"{where} must be {expected}, not {json_type(value)}"
    return violation("wrong-member-type", path, message)


def image_from_dict(
    data: object, path: str, problems: list[Violation], *, strict: bool = False
) -> Image | None:
    """Read one Image at ``path``, appending every problem; None when there were any.

    The object is read in API 3.0's names when it has ``OsName`` and no ``ImageOsName``,
    in the legacy names otherwise. ``strict`` reads the legacy names only and also refuses
    members outside :data:`IMAGE_FIELDS` (a catalog file, where an unknown member is a
    typo, not a newer server).
    """
    if not isinstance(data, Mapping):
        problems.append(wrong(path, "an object", data))
        return None
    before = len(problems)
    fields = IMAGE_FIELDS
    if not strict and "OsName" in data and "ImageOsName" not in data:
        fields = API3_IMAGE_FIELDS
    text: dict[str, str] = {}
    for wire, attr in fields.items():
        where = _join(path, wire)
        value = data.get(wire)
        if isinstance(value, str):
            text[attr] = value
        elif value is None and wire in OPTIONAL_IMAGE_FIELDS:
            pass
        elif value is None and wire not in data:
            problems.append(missing(where))
        else:
            problems.append(wrong(where, "a string", value))
    if strict:
        for key in data:
            if key not in IMAGE_FIELDS:
                where = _join(path, str(key))
                message = f"{where} is not an Image field"
                problems.append(violation("bad-document", where, message))
    if len(problems) > before:
        return None
    return Image(**text)


@dataclass(frozen=True, slots=True)
class DescribeImagesResponse:
    """A successful answer: one page of images, the number of all matches, the request ID.

    >>> r = DescribeImagesResponse.from_json(
    ...     '{"Response": {"ImageSet": [], "TotalCount": 0, "RequestID": "r-1"}}')
    >>> r.to_dict()
    {'Response': {'ImageSet': [], 'TotalCount': 0, 'RequestId': 'r-1'}}
    """

    image_set: tuple[Image, ...]
    total_count: int
    request_id: str

    def __post_init__(self) -> None:
        if type(self.image_set) is not tuple:
            object.__setattr__(self, "image_set", tuple(self.image_set))

    def to_dict(self, names: ImageNames = "legacy") -> dict[str, Any]:
        """The Tencent success envelope (``RequestId`` spelled as the output table does),
        each Image in the legacy member names or, with ``names="api3"``, API 3.0's."""
        _fields(names)  # a wrong ``names`` is refused even for an empty ImageSet
        return {
            "Response": {
                "ImageSet": [image.to_dict(names) for image in self.image_set],
                "TotalCount": self.total_count,
                "RequestId": self.request_id,
            }
        }

    def to_json(self, names: ImageNames = "legacy") -> str:
        """The envelope as compact, ASCII-only JSON (what the reference server sends)."""
        return json.dumps(self.to_dict(names), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: object) -> DescribeImagesResponse:
        """Read a success envelope, or raise the error envelope as :class:`ServiceError`.

        Raises :class:`ResponseFormatError` (with every problem) when the JSON is neither.
        """
        return _read_envelope(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> DescribeImagesResponse:
        """:meth:`from_dict` on JSON text; text that is not JSON is a
        :class:`ResponseFormatError` too."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            # ValueError covers JSONDecodeError, bad UTF-8 in bytes, and the int digit cap.
            raise ResponseFormatError(
                [violation("not-json", "", f"the response is not JSON: {exc}")]
            ) from None
        return _read_envelope(data)


def _read_envelope(data: object) -> DescribeImagesResponse:
    if not isinstance(data, Mapping):
        raise ResponseFormatError([wrong("", "an object", data)])
    body = data.get("Response")
    if not isinstance(body, Mapping):
        if body is None and "Response" not in data:
            raise ResponseFormatError([missing("Response")])
        raise ResponseFormatError([wrong("Response", "an object", body)])
    # Each reader returns None exactly when it recorded a problem.
    problems: list[Violation] = []
    request_id = _request_id(body, problems)
    if "Error" in body:
        error = _error(body["Error"], problems)
        if error is None or request_id is None:
            raise ResponseFormatError(problems)
        raise ServiceError(error[0], error[1], request_id)
    images = _image_set(body, problems)
    total = _total_count(body, problems)
    if images is None or total is None or request_id is None:
        raise ResponseFormatError(problems)
    return DescribeImagesResponse(images, total, request_id)


def _total_count(body: Mapping[str, object], problems: list[Violation]) -> int | None:
    total = body.get("TotalCount")
    if isinstance(total, int) and not isinstance(total, bool):
        if total >= 0:
            return total
        problems.append(
            violation(
                "bad-document", "Response.TotalCount", f"Response.TotalCount is negative ({total})"
            )
        )
    elif total is None and "TotalCount" not in body:
        problems.append(missing("Response.TotalCount"))
    else:
        problems.append(wrong("Response.TotalCount", "an integer", total))
    return None


def _request_id(body: Mapping[str, object], problems: list[Violation]) -> str | None:
    # The seed's example response spells RequestID, its output table RequestId: read both,
    # and refuse two that disagree rather than pick one (spec/README.md §3.1).
    found = [(name, body[name]) for name in ("RequestId", "RequestID") if name in body]
    if not found:
        problems.append(missing("Response.RequestId"))
        return None
    ids: list[str] = []
    for name, value in found:
        if not isinstance(value, str):
            problems.append(wrong(f"Response.{name}", "a string", value))
            return None
        ids.append(value)
    if len(set(ids)) > 1:
        problems.append(
            violation(
                "bad-document",
                "Response.RequestId",
                "Response has both RequestId and RequestID, and they differ",
            )
        )
        return None
    return ids[0]


def _error(error: object, problems: list[Violation]) -> tuple[str, str] | None:
    if not isinstance(error, Mapping):
        problems.append(wrong("Response.Error", "an object", error))
        return None
    code = error.get("Code")
    message = error.get("Message", "")
    if isinstance(code, str) and isinstance(message, str):
        return code, message
    if code is None and "Code" not in error:
        problems.append(missing("Response.Error.Code"))
    elif not isinstance(code, str):
        problems.append(wrong("Response.Error.Code", "a string", code))
    if not isinstance(message, str):
        problems.append(wrong("Response.Error.Message", "a string", message))
    return None


def _image_set(
    body: Mapping[str, object], problems: list[Violation]
) -> tuple[Image, ...] | None:
    raw = body.get("ImageSet")
    if not isinstance(raw, list):
        if raw is None and "ImageSet" not in body:
            problems.append(missing("Response.ImageSet"))
        else:
            problems.append(wrong("Response.ImageSet", "an array", raw))
        return None
    before = len(problems)
    images = [
        image_from_dict(item, f"Response.ImageSet.{i}", problems) for i, item in enumerate(raw)
    ]
    if len(problems) > before:
        return None
    return tuple(image for image in images if image is not None)
