"""Import-body validation details not visible through one HTTP round trip."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simulator.errors import ApiError
from simulator.import_body import is_absolute_http_url, validate_import

VALID: dict[str, Any] = {
    "data": {
        "version": "v1",
        "name": "(SUB) Test",
        "triggerEvents": ["domain.chat.pending"],
        "actions": [
            {
                "name": "request",
                "params": {
                    "url": "https://h.example/x",
                    "method": "post",
                    "json": True,
                    "data": {},
                },
            }
        ],
    }
}


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/t/abc?key=1",
        "http://127.0.0.1:8080/hook",
        "http://[::1]:9000/",
        "https://receiver-xyz-uc.a.run.app/texter",
    ],
)
def test_absolute_http_urls_are_accepted(url):
    assert is_absolute_http_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/relative",
        "hooks.example.com/x",
        "ftp://h.example/x",
        "https://",
        "https:///path",
        "http://h.example:99999/",
        "http://h.example:port/",
        "https://h.example/with space",
        None,
        42,
    ],
)
def test_non_absolute_or_non_http_urls_are_rejected(url):
    assert not is_absolute_http_url(url)


def test_defaults_are_active_and_no_author():
    parsed = validate_import(copy.deepcopy(VALID), lenient=False)

    assert parsed.as_status == "active"
    assert parsed.author_uid is None
    assert parsed.data == VALID["data"]


def test_the_returned_data_is_a_copy():
    body = copy.deepcopy(VALID)

    parsed = validate_import(body, lenient=False)
    parsed.data["name"] = "changed"

    assert body["data"]["name"] == "(SUB) Test"


def test_placeholders_are_found_in_nested_loader_params():
    body = copy.deepcopy(VALID)
    body["data"]["loaders"] = {
        "afterConditions": [{"name": "chat", "alias": "chat", "params": {"id": "{{chatId}}"}}]
    }

    with pytest.raises(ApiError) as raised:
        validate_import(body, lenient=False)

    assert raised.value.message == (
        "data.loaders.afterConditions[0].params.id: contains the unfilled placeholder {{chatId}}"
    )


def test_non_request_actions_need_only_name_and_params():
    body = copy.deepcopy(VALID)
    body["data"]["actions"].append({"name": "assignChat", "params": {"agent": "a"}})

    assert validate_import(body, lenient=False).data["actions"][1]["name"] == "assignChat"


def test_lenient_mode_drops_unknown_top_level_and_data_fields():
    body = copy.deepcopy(VALID)
    body["extra"] = 1
    body["data"]["folder"] = "x"

    parsed = validate_import(body, lenient=True)

    assert "folder" not in parsed.data


# The revision fields of contract §5 that an import body may carry besides the template's.
DOCUMENTED_EXTRAS: dict[str, Any] = {
    "loops": [{"loop": {"over": "%chat:labels%", "actions": []}}],
    "tags": ["billing", "vip"],
    "attachedData": {"team": "support", "priority": 2},
}


@pytest.mark.parametrize("lenient", [False, True])
def test_loops_tags_and_attached_data_are_accepted_and_kept(lenient):
    body = copy.deepcopy(VALID)
    body["data"].update(copy.deepcopy(DOCUMENTED_EXTRAS))

    parsed = validate_import(body, lenient=lenient)

    assert {key: parsed.data[key] for key in DOCUMENTED_EXTRAS} == DOCUMENTED_EXTRAS


def test_a_request_action_without_data_is_valid():
    body = copy.deepcopy(VALID)
    del body["data"]["actions"][0]["params"]["data"]

    parsed = validate_import(body, lenient=False)

    assert "data" not in parsed.data["actions"][0]["params"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("loops", {}, "data.loops: must be a list"),
        ("loops", ["x"], "data.loops[0]: must be a JSON object"),
        ("loops", [{}], "data.loops[0].loop: is required"),
        ("loops", [{"loop": []}], "data.loops[0].loop: must be a JSON object"),
        ("loops", [{"loop": {}, "extra": 1}], "data.loops[0].extra: unknown field"),
        ("tags", "vip", "data.tags: must be a list of strings"),
        ("tags", ["ok", 3], "data.tags[1]: must be a string"),
        ("attachedData", [], "data.attachedData: must be a JSON object"),
        ("loops", [{"loop": {"url": "{{x}}"}}], "data.loops[0].loop.url: contains the unfilled"),
    ],
)
def test_malformed_loops_tags_and_attached_data_are_rejected(key, value, expected):
    body = copy.deepcopy(VALID)
    body["data"][key] = value

    with pytest.raises(ApiError) as raised:
        validate_import(body, lenient=False)

    assert expected in raised.value.message


def test_lenient_mode_still_enforces_the_documented_rules():
    body = copy.deepcopy(VALID)
    body["data"]["actions"][0]["params"]["url"] = "not a url"

    with pytest.raises(ApiError, match="params.url: must be an absolute http"):
        validate_import(body, lenient=True)
