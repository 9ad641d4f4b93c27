"""The official Tencent Cloud Python SDK against ``describe-images serve`` over a real
socket (spec/README.md §3.4, "API 3.0 calls"; issue 9).

``tencentcloud.cvm.v20170312.cvm_client.CvmClient.DescribeImages`` in its default profile
(TC3-HMAC-SHA256, POST with a JSON body), in TC3 + GET, and with both v1 signatures
(HmacSHA1, HmacSHA256) over GET and POST, against a ``python -m describe_images serve
--port 0`` process without and with ``--credentials``: one server per credentials mode
for the module, stopped with Ctrl-C (SIGINT) in teardown. Every answer the SDK parses is
compared with what :func:`answer_request` (or the rules) give for the same request.
"""

from __future__ import annotations

import importlib
import json
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from describe_images import DescribeImagesRequest, RequestError, validate
from describe_images._catalog import default_catalog
from describe_images._http import DEFAULT_READ_TIMEOUT
from describe_images._query import answer_request
from tests.seed import SEED_1_IMAGE_API3, SEED_1_QUERY

ROOT = Path(__file__).resolve().parent.parent
# The README's keys, so that its SDK example runs against the signed server as written.
SECRET_ID = "AKIDexample"
SECRET_KEY = "example-key"
START_TIMEOUT = 15.0
# On Ctrl-C, serve lets the workers finish the requests they hold for at most
# read_timeout (README.md#the-serve-http-server): the wait allows that, plus the exit on a
# loaded machine.
STOP_TIMEOUT = DEFAULT_READ_TIMEOUT + 10.0
_LISTENING_RE = re.compile(r"on http://127\.0\.0\.1:(\d+)/v2/index\.php ")

# The SDK has no type information (as in tests/test_tc3.py).
credential: Any = importlib.import_module("tencentcloud.common.credential")
sdk_errors: Any = importlib.import_module(
    "tencentcloud.common.exception.tencent_cloud_sdk_exception"
)
ClientProfile: Any = importlib.import_module(
    "tencentcloud.common.profile.client_profile"
).ClientProfile
HttpProfile: Any = importlib.import_module("tencentcloud.common.profile.http_profile").HttpProfile
cvm_client: Any = importlib.import_module("tencentcloud.cvm.v20170312.cvm_client")
models: Any = importlib.import_module("tencentcloud.cvm.v20170312.models")

# The SDK's Image members our answers fill, and the Image attribute each is read from
# (spec/README.md §3.1, API 3.0 names): the SDK leaves a member it cannot find as None.
SDK_IMAGE_MEMBERS = {
    "ImageId": "image_id",
    "OsName": "image_os_name",
    "ImageType": "image_type",
    "CreatedTime": "image_create_time",
    "ImageName": "image_name",
    "ImageDescription": "image_description",
    "ImageState": "image_status",
    "ImageCreator": "creator",
    "Platform": "platform",
    "Architecture": "architecture",
}

# (signature method, HTTP method): the SDK's default first.
PROFILES = [
    ("TC3-HMAC-SHA256", "POST"),
    ("TC3-HMAC-SHA256", "GET"),
    ("HmacSHA1", "GET"),
    ("HmacSHA1", "POST"),
    ("HmacSHA256", "GET"),
    ("HmacSHA256", "POST"),
]
PROFILE_IDS = [f"{sign}-{method}" for sign, method in PROFILES]

# The SDK model's parameters (its JSON shape), sent as they are: the SDK checks no rule.
CASES: dict[str, dict[str, Any]] = {
    "seed-example-1": {"ImageIds": ["img-pmqg1cw7"]},
    "filter": {
        "Filters": [
            {"Name": "image-type", "Values": ["PUBLIC_IMAGE"]},
            {"Name": "image-name", "Values": ["CentOS 7.2 64-bit", "Centos 6.8 64-bit"]},
        ],
        "Offset": 1,
        "Limit": 5,
    },
    "limit-101": {"Limit": 101},
    "ids-with-filters": {
        "ImageIds": ["img-pmqg1cw7"],
        "Filters": [{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}],
    },
    "eleven-filters": {
        "Filters": [{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]} for _ in range(11)]
    },
}


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    signed: bool


def _start(directory: Path, *options: str) -> Server:
    log_path = directory / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "describe_images", "serve", "--port", "0", *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=ROOT,
        )
    # Port 0: the start line names the port the server bound.
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        found = _LISTENING_RE.search(log_path.read_text("utf-8"))
        if found:
            return Server(process, int(found.group(1)), log_path, bool(options))
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(STOP_TIMEOUT)
            pytest.fail(f"serve did not start: {log_path.read_text('utf-8')!r}")
        time.sleep(0.05)


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)  # Ctrl-C: serve stops and exits 0
    try:
        assert server.process.wait(STOP_TIMEOUT) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(STOP_TIMEOUT)


@pytest.fixture(scope="module", params=["unsigned", "credentials"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp(f"sdk-{request.param}")
    options: tuple[str, ...] = ()
    if request.param == "credentials":
        path = directory / "credentials.json"
        path.write_text(json.dumps({SECRET_ID: SECRET_KEY}), "utf-8")
        options = ("--credentials", str(path))
    served = _start(directory, *options)
    try:
        yield served
    finally:
        _stop(served)


def client(server: Server, sign_method: str, method: str, key: str = SECRET_KEY) -> Any:
    http = HttpProfile(
        endpoint=f"127.0.0.1:{server.port}", protocol="http", reqMethod=method, reqTimeout=10
    )
    profile = ClientProfile(signMethod=sign_method, httpProfile=http)
    return cvm_client.CvmClient(credential.Credential(SECRET_ID, key), "ap-guangzhou", profile)


Images = list[dict[str, str | None]]


def sdk_call(sdk: Any, params: dict[str, Any]) -> tuple[int, Images] | str:
    """The SDK's parsed answer (TotalCount, each Image's members), or its exception's
    code. The SDK warns "... fileds are useless" about members its model lacks: an
    answer in API 3.0's names has none, so any warning fails the call."""
    request = models.DescribeImagesRequest()
    request.from_json_string(json.dumps(params))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            response = sdk.DescribeImages(request)
        except sdk_errors.TencentCloudSDKException as exc:
            return str(exc.code)
    assert [str(warning.message) for warning in caught] == []
    images = [
        {name: getattr(image, name) for name in SDK_IMAGE_MEMBERS} for image in response.ImageSet
    ]
    return response.TotalCount, images


def expected(params: dict[str, Any]) -> tuple[int, Images] | str:
    """What the library answers for the same request."""
    request = DescribeImagesRequest.from_dict(params)
    problems = validate(request)
    if problems:
        return problems[0].code
    try:
        response = answer_request(request, default_catalog(), request_id="x")
    except RequestError as exc:  # pragma: no cover - every case is valid or refused above
        return exc.code
    images = [
        {name: getattr(image, attr) for name, attr in SDK_IMAGE_MEMBERS.items()}
        for image in response.image_set
    ]
    return response.total_count, images


def test_the_cases_cover_answers_and_refusals() -> None:
    seed_1 = {name: SEED_1_IMAGE_API3.get(name) for name in SDK_IMAGE_MEMBERS}
    assert expected(CASES["seed-example-1"]) == (1, [seed_1])
    found = expected(CASES["filter"])
    assert not isinstance(found, str)
    assert (found[0], [image["ImageId"] for image in found[1]]) == (2, ["img-gvbnzy6f"])
    assert expected(CASES["limit-101"]) == "InvalidParameterValue.InvalidParameterValueLimit"
    assert expected(CASES["ids-with-filters"]) == (
        "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
    )
    assert expected(CASES["eleven-filters"]) == "InvalidFilter"
    assert "ImageIds.0=img-pmqg1cw7" in SEED_1_QUERY


@pytest.mark.parametrize(("sign_method", "method"), PROFILES, ids=PROFILE_IDS)
@pytest.mark.parametrize("case", list(CASES))
def test_official_sdk(server: Server, sign_method: str, method: str, case: str) -> None:
    params = CASES[case]
    assert sdk_call(client(server, sign_method, method), params) == expected(params)


@pytest.mark.parametrize(("sign_method", "method"), PROFILES, ids=PROFILE_IDS)
def test_official_sdk_wrong_key(server: Server, sign_method: str, method: str) -> None:
    params = CASES["seed-example-1"]
    got = sdk_call(client(server, sign_method, method, key="not-the-key"), params)
    # Without --credentials nothing is verified: the call is answered.
    assert got == ("AuthFailure.SignatureFailure" if server.signed else expected(params))


def test_official_sdk_default_profile_is_tc3_post() -> None:
    # What "the default profile" means: the SDK signs TC3-HMAC-SHA256 and POSTs JSON.
    profile = ClientProfile()
    assert (profile.signMethod, profile.httpProfile.reqMethod) == ("TC3-HMAC-SHA256", "POST")


def _readme_sdk_example() -> tuple[str, str]:
    """The README's SDK script (its heredoc) and the output the README shows for it."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("### The official Tencent Cloud SDK\n", 1)[1].split("\n### ", 1)[0]
    script = section.split("<<'SDK'\n", 1)[1].split("\nSDK\n", 1)[0]
    shown = section.split("It prints:\n\n```text\n", 1)[1].split("```", 1)[0]
    return script, shown


def test_the_readme_sdk_example_runs(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    script, shown = _readme_sdk_example()
    assert 'endpoint="127.0.0.1:8000"' in script
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the SDK warns of members it lacks: there are none
        exec(compile(script, "README.md", "exec"), {})  # the documented example, as written
    assert capsys.readouterr().out == shown
