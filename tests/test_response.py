"""The response model (describe_images._response) and catalogs (describe_images._catalog)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from describe_images._catalog import (
    MAX_LISTED_PROBLEMS,
    CatalogError,
    default_catalog,
    load_catalog,
    parse_catalog,
)
from describe_images._errors import (
    DescribeImagesError,
    DocumentError,
    ErrorCode,
    ServiceError,
    UsageError,
    violation,
)
from describe_images._response import (
    API3_IMAGE_FIELDS,
    IMAGE_FIELDS,
    DescribeImagesResponse,
    Image,
    ResponseFormatError,
)
from describe_images._spec import IMAGE_ID_RE, IMAGE_TYPES
from tests.seed import SEED_1_RESPONSE

ROOT = Path(__file__).resolve().parent.parent

# The seed's example response, character for character (spec/seed/).
SEED_RESPONSE_TEXT = SEED_1_RESPONSE
SEED_IMAGE = Image(
    image_id="img-pmqg1cw7",
    image_os_name="centos6.6x86_32",
    image_type="PUBLIC_IMAGE",
    image_create_time="1970-01-01T00:00:00+00:00",
    image_status="NORMAL",
    image_name="Centos 6.6 32-bit",
    image_description="Centos 6.6 32-bit",
    creator="PUBLIC",
)
SEED_REQUEST_ID = "5920380e-277a-420a-a221-0caac3eb7159"
FULL_IMAGE = dataclasses.replace(
    SEED_IMAGE, image_id="img-gvbnzy6f", platform="CentOS", architecture="x86_64"
)


def seed_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_RESPONSE_TEXT)
    return data


def envelope(**body: object) -> dict[str, Any]:
    return {"Response": body}


def pairs(error: DocumentError) -> tuple[tuple[str, str], ...]:
    return tuple((v.path, v.message) for v in error.violations)


def problems_of(data: object) -> tuple[tuple[str, str], ...]:
    with pytest.raises(ResponseFormatError) as info:
        DescribeImagesResponse.from_dict(data)
    assert {v.code for v in info.value.violations} == {"InternalError"}
    return pairs(info.value)


# --- The seed --------------------------------------------------------------------------


def test_seed_response_parses_to_exactly_its_content() -> None:
    parsed = DescribeImagesResponse.from_json(SEED_RESPONSE_TEXT)
    assert parsed == DescribeImagesResponse((SEED_IMAGE,), 1, SEED_REQUEST_ID)
    # Back to JSON: the same content, with RequestId spelled as the output table does.
    expected = seed_dict()
    expected["Response"]["RequestId"] = expected["Response"].pop("RequestID")
    assert parsed.to_dict() == expected
    assert list(parsed.to_dict()["Response"]["ImageSet"][0]) == list(
        expected["Response"]["ImageSet"][0]
    )


def test_both_request_id_spellings_are_read() -> None:
    for name in ("RequestId", "RequestID"):
        data = envelope(ImageSet=[], TotalCount=0, **{name: "r-1"})
        assert DescribeImagesResponse.from_dict(data).request_id == "r-1"
    both = envelope(ImageSet=[], TotalCount=0, RequestId="r-1", RequestID="r-1")
    assert DescribeImagesResponse.from_dict(both).request_id == "r-1"


# --- Image -----------------------------------------------------------------------------


def test_image_to_dict_uses_wire_names_in_seed_order() -> None:
    assert list(SEED_IMAGE.to_dict()) == list(IMAGE_FIELDS)[:8]
    assert FULL_IMAGE.to_dict()["Platform"] == "CentOS"
    assert list(FULL_IMAGE.to_dict()) == list(IMAGE_FIELDS)


@pytest.mark.parametrize("image", [SEED_IMAGE, FULL_IMAGE], ids=["seed", "optional-fields"])
def test_image_round_trip(image: Image) -> None:
    assert Image.from_dict(image.to_dict()) == image


def test_image_optional_fields_may_be_null() -> None:
    data: dict[str, object] = {**SEED_IMAGE.to_dict(), "Platform": None, "Architecture": None}
    assert Image.from_dict(data) == SEED_IMAGE


def test_image_unknown_members_are_ignored() -> None:
    # API 3.0 servers add ImageSize, ImageSource, ...: a newer server must still be readable.
    data = {**SEED_IMAGE.to_dict(), "ImageSize": 50, "IsSupportCloudinit": True}
    assert Image.from_dict(data) == SEED_IMAGE


# The seed's image under API 3.0's names, in the order of API 3.0's output table (the
# official SDK's Image model): written out, not derived from API3_IMAGE_FIELDS.
SEED_IMAGE_API3 = {
    "ImageId": "img-pmqg1cw7",
    "OsName": "centos6.6x86_32",
    "ImageType": "PUBLIC_IMAGE",
    "CreatedTime": "1970-01-01T00:00:00+00:00",
    "ImageName": "Centos 6.6 32-bit",
    "ImageDescription": "Centos 6.6 32-bit",
    "ImageState": "NORMAL",
    "ImageCreator": "PUBLIC",
}


def test_image_to_dict_in_api3_names() -> None:
    assert SEED_IMAGE.to_dict("api3") == SEED_IMAGE_API3
    assert list(SEED_IMAGE.to_dict("api3")) == list(SEED_IMAGE_API3)
    full = FULL_IMAGE.to_dict("api3")
    assert list(full) == [
        "ImageId", "OsName", "ImageType", "CreatedTime", "ImageName", "ImageDescription",
        "Architecture", "ImageState", "Platform", "ImageCreator",
    ]  # fmt: skip
    assert (full["Platform"], full["Architecture"]) == ("CentOS", "x86_64")
    assert list(API3_IMAGE_FIELDS) == list(full)
    assert SEED_IMAGE.to_dict("legacy") == SEED_IMAGE.to_dict()


@pytest.mark.parametrize("image", [SEED_IMAGE, FULL_IMAGE], ids=["seed", "optional-fields"])
def test_image_round_trip_in_api3_names(image: Image) -> None:
    assert Image.from_dict(image.to_dict("api3")) == image


def test_image_names_are_chosen_by_os_name() -> None:
    # OsName without ImageOsName: API 3.0's names, and every one of them is then required.
    partial = {key: value for key, value in SEED_IMAGE_API3.items() if key != "ImageState"}
    answer = envelope(ImageSet=[partial], TotalCount=1, RequestId="r")
    assert problems_of(answer) == (
        ("Response.ImageSet.0.ImageState", "Response.ImageSet.0.ImageState is missing"),
    )
    # Both OsName and ImageOsName: the legacy names; OsName is an unknown, ignored member.
    both = {**SEED_IMAGE.to_dict(), "OsName": "other"}
    assert Image.from_dict(both) == SEED_IMAGE
    # Neither: the legacy names, each missing one reported.
    bare = envelope(ImageSet=[{"ImageId": "img-pmqg1cw7"}], TotalCount=1, RequestId="r")
    assert [path for path, _ in problems_of(bare)] == [
        f"Response.ImageSet.0.{name}" for name in list(IMAGE_FIELDS)[1:8]
    ]


@pytest.mark.parametrize("names", ["API3", "", "3.0", None, 3, ["api3"]])
def test_image_names_other_than_the_two_are_a_usage_error(names: Any) -> None:
    with pytest.raises(UsageError, match='names must be "legacy" or "api3"'):
        SEED_IMAGE.to_dict(names)
    response = DescribeImagesResponse((), 0, "r")
    with pytest.raises(UsageError, match='names must be "legacy" or "api3"'):
        response.to_dict(names)
    with pytest.raises(UsageError, match='names must be "legacy" or "api3"'):
        response.to_json(names)


def test_a_catalog_is_read_in_legacy_names_only() -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog([SEED_IMAGE_API3])
    found = {(v.reason, v.path) for v in caught.value.violations}
    assert ("missing-member", "0.ImageOsName") in found
    assert ("bad-document", "0.OsName") in found


def test_image_is_hashable_and_frozen() -> None:
    assert len({SEED_IMAGE, dataclasses.replace(SEED_IMAGE)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        SEED_IMAGE.image_name = "x"  # type: ignore[misc]  # the point: it is frozen


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"ImageId": None}, "ImageId", "ImageId must be a string, not null"),
        ({"ImageName": 7}, "ImageName", "ImageName must be a string, not a number"),
        ({"Creator": True}, "Creator", "Creator must be a string, not a boolean"),
        ({"ImageType": ["PUBLIC_IMAGE"]}, "ImageType", "ImageType must be a string, not an array"),
        ({"Platform": {"a": 1}}, "Platform", "Platform must be a string, not an object"),
        ({"Architecture": 1.5}, "Architecture", "Architecture must be a string, not a number"),
        ({"ImageName": b"x"}, "ImageName", "ImageName must be a string, not a bytes"),
    ],
    ids=["null", "number", "bool", "array", "object", "float", "bytes"],
)
def test_image_wrong_types(change: dict[str, object], path: str, message: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        Image.from_dict({**SEED_IMAGE.to_dict(), **change})
    assert pairs(info.value) == ((path, message),)
    assert [v.reason for v in info.value.violations] == ["wrong-member-type"]
    assert info.value.path == path
    assert str(info.value) == message


def test_image_reports_every_problem() -> None:
    data = SEED_IMAGE.to_dict()
    del data["ImageOsName"]
    data["ImageStatus"] = 0  # type: ignore[assignment]  # a wrong type on purpose
    with pytest.raises(ResponseFormatError) as info:
        Image.from_dict(data)
    assert [v.reason for v in info.value.violations] == ["missing-member", "wrong-member-type"]
    assert pairs(info.value) == (
        ("ImageOsName", "ImageOsName is missing"),
        ("ImageStatus", "ImageStatus must be a string, not a number"),
    )
    assert str(info.value) == "ImageOsName is missing (and 1 more problem)"


def test_image_from_non_object() -> None:
    with pytest.raises(ResponseFormatError) as info:
        Image.from_dict(["img-pmqg1cw7"])
    assert str(info.value) == "the document must be an object, not an array"


def test_response_format_error_is_a_library_error() -> None:
    assert issubclass(ResponseFormatError, DescribeImagesError)
    assert issubclass(ResponseFormatError, DocumentError)
    many = ResponseFormatError(
        [violation("bad-document", name, f"{name} is wrong") for name in ("a", "b", "c")]
    )
    assert str(many) == "a is wrong (and 2 more problems)"
    assert many.code == "InternalError"


# --- Success envelope ------------------------------------------------------------------


def test_response_to_dict_and_json() -> None:
    response = DescribeImagesResponse((FULL_IMAGE,), 7, "r-1")
    assert response.to_dict() == {
        "Response": {"ImageSet": [FULL_IMAGE.to_dict()], "TotalCount": 7, "RequestId": "r-1"}
    }
    text = response.to_json()
    assert text.isascii()
    assert ", " not in text
    assert json.loads(text) == response.to_dict()


def test_response_to_json_escapes_non_ascii() -> None:
    image = dataclasses.replace(SEED_IMAGE, image_name="数据库")
    text = DescribeImagesResponse((image,), 1, "r").to_json()
    assert "\\u6570\\u636e\\u5e93" in text
    assert DescribeImagesResponse.from_json(text).image_set[0].image_name == "数据库"


def test_response_image_set_becomes_a_tuple() -> None:
    response = DescribeImagesResponse([SEED_IMAGE], 1, "r")  # type: ignore[arg-type]  # a list on purpose
    assert response.image_set == (SEED_IMAGE,)
    assert hash(response) == hash(DescribeImagesResponse((SEED_IMAGE,), 1, "r"))


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        ([], (("", "the document must be an object, not an array"),)),
        ({}, (("Response", "Response is missing"),)),
        ({"Response": "x"}, (("Response", "Response must be an object, not a string"),)),
        ({"Response": None}, (("Response", "Response must be an object, not null"),)),
        (
            envelope(),
            (
                ("Response.RequestId", "Response.RequestId is missing"),
                ("Response.ImageSet", "Response.ImageSet is missing"),
                ("Response.TotalCount", "Response.TotalCount is missing"),
            ),
        ),
        (
            envelope(ImageSet={}, TotalCount="1", RequestId=5),
            (
                ("Response.RequestId", "Response.RequestId must be a string, not a number"),
                ("Response.ImageSet", "Response.ImageSet must be an array, not an object"),
                ("Response.TotalCount", "Response.TotalCount must be an integer, not a string"),
            ),
        ),
        (
            envelope(ImageSet=[], TotalCount=True, RequestID=None),
            (
                ("Response.RequestID", "Response.RequestID must be a string, not null"),
                ("Response.TotalCount", "Response.TotalCount must be an integer, not a boolean"),
            ),
        ),
        (
            envelope(ImageSet=None, TotalCount=1.0, RequestId="r"),
            (
                ("Response.ImageSet", "Response.ImageSet must be an array, not null"),
                ("Response.TotalCount", "Response.TotalCount must be an integer, not a number"),
            ),
        ),
        (
            envelope(ImageSet=[], TotalCount=-1, RequestId="r"),
            (("Response.TotalCount", "Response.TotalCount is negative (-1)"),),
        ),
        (
            envelope(ImageSet=[], TotalCount=0, RequestId="a", RequestID="b"),
            (
                (
                    "Response.RequestId",
                    "Response has both RequestId and RequestID, and they differ",
                ),
            ),
        ),
        (
            envelope(ImageSet=[SEED_IMAGE.to_dict(), 3, {}], TotalCount=3, RequestId="r"),
            (
                ("Response.ImageSet.1", "Response.ImageSet.1 must be an object, not a number"),
                *(
                    (f"Response.ImageSet.2.{name}", f"Response.ImageSet.2.{name} is missing")
                    for name in list(IMAGE_FIELDS)[:8]
                ),
            ),
        ),
    ],
    ids=[
        "array",
        "no-response",
        "response-string",
        "response-null",
        "empty-response",
        "all-wrong-types",
        "bool-count-null-id",
        "null-set-float-count",
        "negative-count",
        "two-request-ids",
        "bad-images",
    ],
)
def test_success_envelope_problems(data: object, problems: tuple[tuple[str, str], ...]) -> None:
    assert problems_of(data) == problems


def test_never_a_key_error_or_type_error() -> None:
    hostile: list[object] = [None, 1, "x", [], {"Response": []}, {"Response": {"Error": []}}]
    for data in hostile:
        with pytest.raises(DescribeImagesError):
            DescribeImagesResponse.from_dict(data)


# --- Error envelope --------------------------------------------------------------------


def test_error_envelope_raises_service_error() -> None:
    data = envelope(
        Error={"Code": "InvalidFilter", "Message": "Filters.1.Name is 'x'"}, RequestId="r-9"
    )
    with pytest.raises(ServiceError) as info:
        DescribeImagesResponse.from_dict(data)
    error = info.value
    assert (error.code, error.message, error.request_id) == (
        "InvalidFilter",
        "Filters.1.Name is 'x'",
        "r-9",
    )
    assert error.code == ErrorCode.INVALID_FILTER
    assert type(error.code) is str
    assert error.to_response() == data


def test_error_envelope_with_seed_spelling_and_unknown_code() -> None:
    data = envelope(Error={"Code": "ResourceNotFound.Something", "Message": "m"}, RequestID="r")
    with pytest.raises(ServiceError) as info:
        DescribeImagesResponse.from_json(json.dumps(data))
    assert info.value.code not in set(ErrorCode)
    assert info.value.request_id == "r"
    assert str(info.value) == "ResourceNotFound.Something: m (RequestId r)"


def test_error_envelope_without_message() -> None:
    with pytest.raises(ServiceError) as info:
        DescribeImagesResponse.from_dict(envelope(Error={"Code": "InternalError"}, RequestId="r"))
    assert info.value.message == ""


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (
            envelope(Error="InvalidFilter", RequestId="r"),
            (("Response.Error", "Response.Error must be an object, not a string"),),
        ),
        (
            envelope(Error={"Message": "m"}, RequestId="r"),
            (("Response.Error.Code", "Response.Error.Code is missing"),),
        ),
        (
            envelope(Error={"Code": 400, "Message": None}, RequestId="r"),
            (
                ("Response.Error.Code", "Response.Error.Code must be a string, not a number"),
                ("Response.Error.Message", "Response.Error.Message must be a string, not null"),
            ),
        ),
        (
            envelope(Error={"Code": "InternalError", "Message": 5}, RequestId="r"),
            (("Response.Error.Message", "Response.Error.Message must be a string, not a number"),),
        ),
        (
            envelope(Error={"Code": "InternalError", "Message": "m"}),
            (("Response.RequestId", "Response.RequestId is missing"),),
        ),
    ],
    ids=["error-string", "no-code", "wrong-types", "message-only", "no-request-id"],
)
def test_error_envelope_problems(data: object, problems: tuple[tuple[str, str], ...]) -> None:
    assert problems_of(data) == problems


# --- JSON text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("", "the response is not JSON: Expecting value"),
        ("{'Response': 1}", "the response is not JSON: Expecting property name"),
        (b"\xff\xfe\x00", "the response is not JSON: "),
        ("[" * 100_000 + "]" * 100_000, "the response is not JSON: "),
        ("1" * 5000, "the response is not JSON: "),
    ],
    ids=["empty", "single-quotes", "bad-bytes", "deep", "huge-int"],
)
def test_from_json_refuses_non_json(text: str | bytes, start: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        DescribeImagesResponse.from_json(text)
    assert str(info.value).startswith(start)
    assert info.value.path == ""


def test_from_json_accepts_bytes() -> None:
    parsed = DescribeImagesResponse.from_json(SEED_RESPONSE_TEXT.encode("utf-8"))
    assert parsed.image_set == (SEED_IMAGE,)


_field_text = st.text(max_size=12)
images = st.builds(
    Image,
    image_id=st.from_regex(IMAGE_ID_RE.pattern.replace("\\Z", ""), fullmatch=True),
    image_os_name=_field_text,
    image_type=st.sampled_from(IMAGE_TYPES),
    image_create_time=_field_text,
    image_status=_field_text,
    image_name=_field_text,
    image_description=_field_text,
    creator=_field_text,
    platform=st.none() | _field_text,
    architecture=st.none() | _field_text,
)


@given(
    st.lists(images, max_size=5),
    st.integers(min_value=0, max_value=2**63),
    st.text(min_size=1, max_size=40),
)
def test_json_round_trip(image_set: list[Image], total: int, request_id: str) -> None:
    response = DescribeImagesResponse(tuple(image_set), total, request_id)
    assert DescribeImagesResponse.from_json(response.to_json()) == response
    assert DescribeImagesResponse.from_dict(response.to_dict()) == response
    assert DescribeImagesResponse.from_json(response.to_json("api3")) == response
    assert DescribeImagesResponse.from_dict(response.to_dict("api3")) == response


# --- Catalogs --------------------------------------------------------------------------


def test_default_catalog_is_realistic() -> None:
    catalog = default_catalog()
    assert len(catalog) >= 40
    assert catalog[0] == SEED_IMAGE
    assert {image.image_type for image in catalog} == set(IMAGE_TYPES)
    ids = [image.image_id for image in catalog]
    assert len(set(ids)) == len(ids)
    assert all(IMAGE_ID_RE.match(i) for i in ids)
    platforms = {image.platform for image in catalog}
    assert {"CentOS", "Ubuntu", "Debian", "TencentOS", "Windows"} <= platforms
    assert default_catalog() is catalog  # loaded once


def test_default_catalog_file_is_the_wire_spelling() -> None:
    path = ROOT / "describe_images" / "data" / "catalog.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == [image.to_dict() for image in default_catalog()]


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "images.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_load_catalog_array_and_object(tmp_path: Path) -> None:
    images_ = [SEED_IMAGE.to_dict(), FULL_IMAGE.to_dict()]
    assert load_catalog(write(tmp_path, json.dumps(images_))) == (SEED_IMAGE, FULL_IMAGE)
    wrapped = {"description": "mine", "catalog": images_}
    assert load_catalog(str(write(tmp_path, json.dumps(wrapped)))) == (SEED_IMAGE, FULL_IMAGE)
    assert load_catalog(write(tmp_path, "[]")) == ()


def test_the_query_vectors_file_is_a_catalog() -> None:
    path = ROOT / "spec" / "vectors" / "query.json"
    catalog = load_catalog(path)
    raw = json.loads(path.read_text(encoding="utf-8"))["catalog"]
    assert [image.to_dict() for image in catalog] == raw


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff[]", "not UTF-8 (byte 0)"),
        (
            "[\n{,]",
            "not JSON: Expecting property name enclosed in double quotes at line 2 column 2",
        ),
        ("[" * 100_000, "not JSON: "),
        ("1" * 5000, "not JSON: "),
        ('{"images": []}', "the catalog must be an array of images (or an object with a "),
        ('{"catalog": {}}', "catalog must be an array of images (or an object with a 'catalog' "),
    ],
    ids=["bad-utf8", "bad-json", "deep", "huge-int", "object", "catalog-object"],
)
def test_load_catalog_unreadable(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_load_catalog_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path / "nope.json")
    assert (
        str(info.value)
        == f"{tmp_path / 'nope.json'}: cannot read catalog: No such file or directory"
    )
    assert [(v.code, v.reason, v.path) for v in info.value.violations] == [
        ("InternalError", "bad-document", "")
    ]


def _bad(**change: object) -> dict[str, object]:
    return {**SEED_IMAGE.to_dict(), **change}


@pytest.mark.parametrize(
    ("images_", "message"),
    [
        (
            [_bad(ImageId="img-PMQG1CW7")],
            "0.ImageId 'img-PMQG1CW7' is not an image ID (img- and 8 of 0-9, a-z)",
        ),
        ([_bad(), _bad()], "1.ImageId img-pmqg1cw7 repeats image 0"),
        (
            [_bad(ImageType="public")],
            "0.ImageType 'public' is not PRIVATE_IMAGE, PUBLIC_IMAGE or SHARED_IMAGE",
        ),
        ([_bad(ImageID="img-pmqg1cw7")], "0.ImageID is not an Image field"),
        ([_bad(ImageName=None)], "0.ImageName must be a string, not null"),
        (["img-pmqg1cw7"], "0 must be an object, not a string"),
    ],
    ids=["malformed-id", "duplicate-id", "bad-type", "unknown-field", "null-name", "string"],
)
def test_parse_catalog_one_problem(images_: list[object], message: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_catalog(images_, source="mine.json")
    assert str(info.value) == f"mine.json: {message}"
    assert info.value.source == "mine.json"
    (only,) = info.value.violations
    assert only.path == message.split(" ")[0]


def test_parse_catalog_reports_every_problem_up_to_a_cap() -> None:
    two = [_bad(ImageId="img-1"), _bad(ImageType="X")]
    with pytest.raises(CatalogError) as info:
        parse_catalog({"catalog": two}, source="c")
    assert str(info.value) == (
        "c: 2 problems: catalog.0.ImageId 'img-1' is not an image ID (img- and 8 of 0-9, a-z); "
        "catalog.1.ImageType 'X' is not PRIVATE_IMAGE, PUBLIC_IMAGE or SHARED_IMAGE"
    )
    many = [_bad(ImageId=f"bad-{i}") for i in range(MAX_LISTED_PROBLEMS + 3)]
    with pytest.raises(CatalogError) as info:
        parse_catalog(many)
    text = str(info.value)
    assert text.startswith(f"catalog: {MAX_LISTED_PROBLEMS + 3} problems: 0.ImageId 'bad-0'")
    assert text.endswith("; and 3 more")
    assert text.count("is not an image ID") == MAX_LISTED_PROBLEMS


def test_catalog_error_is_a_library_error() -> None:
    assert issubclass(CatalogError, DescribeImagesError)
