"""The seed page's examples, read from spec/seed/ (the one copy every test uses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SEED_FILE = (
    Path(__file__).resolve().parent.parent / "spec" / "seed" / "DescribeImages-2017-03-12.txt"
)
SEED_1_QUERY = "Action=DescribeImages&Version=2017-03-12&ImageIds.0=img-pmqg1cw7"
SEED_2_QUERY = (
    "Action=DescribeImages&Version=2017-03-12"
    "&Filters.1.Name=image-type&Filters.1.Values.1=PRIVATE_IMAGE"
)


def _example_1_response() -> str:
    text = SEED_FILE.read_text(encoding="utf-8")
    example = text.partition("Example 1")[2].partition("Example 2")[0]
    body = example.partition("Response Parameters")[2]
    return body[body.index("{") : body.rindex("}") + 1]


#: Example 1's response, exactly as the seed prints it (it spells ``RequestID``).
SEED_1_RESPONSE = _example_1_response()
#: Its one image, as a dict in wire spelling.
SEED_1_IMAGE: dict[str, Any] = json.loads(SEED_1_RESPONSE)["Response"]["ImageSet"][0]
#: The same image as an API 3.0 answer names it (the official SDK's ``Image`` model, in
#: its order), written out by hand as an oracle independent of the package's table.
SEED_1_IMAGE_API3: dict[str, Any] = {
    "ImageId": SEED_1_IMAGE["ImageId"],
    "OsName": SEED_1_IMAGE["ImageOsName"],
    "ImageType": SEED_1_IMAGE["ImageType"],
    "CreatedTime": SEED_1_IMAGE["ImageCreateTime"],
    "ImageName": SEED_1_IMAGE["ImageName"],
    "ImageDescription": SEED_1_IMAGE["ImageDescription"],
    "ImageState": SEED_1_IMAGE["ImageStatus"],
    "ImageCreator": SEED_1_IMAGE["Creator"],
}
