"""Strict JSON parsing and field-path problem reporting."""

from __future__ import annotations

import pytest

from simulator.errors import ApiError
from simulator.validation import Problems, find_placeholders, parse_json


def test_empty_optional_body_is_none():
    assert parse_json(b"  ", None, required=False) is None


def test_json_with_charset_is_accepted():
    assert parse_json(b'{"a": 1}', "application/json; charset=utf-8", required=True) == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        (b"", "application/json", "a JSON object is required"),
        (b'{"a": 1}', None, "Content-Type must be application/json"),
        (b'{"a": 1}', "application/x-www-form-urlencoded", "Content-Type"),
        (b'{"a": 1, "a": 2}', "application/json", "duplicate key"),
        (b'{"a": NaN}', "application/json", "NaN is not valid JSON"),
        (b"\xff\xfe", "application/json", "invalid JSON"),
    ],
)
def test_strict_parsing_rejects(raw, content_type, expected):
    with pytest.raises(ApiError) as raised:
        parse_json(raw, content_type, required=True)

    assert raised.value.status == 400
    assert expected in raised.value.message


def test_problems_join_every_message():
    problems = Problems()
    problems.add("a", "is required")
    problems.add("b[0]", "must be a string")

    with pytest.raises(ApiError) as raised:
        problems.raise_if_any()

    assert raised.value.message == "a: is required; b[0]: must be a string"


def test_no_problems_raise_nothing():
    Problems().raise_if_any()


def test_placeholders_are_reported_with_paths():
    found = find_placeholders({"x": ["ok", "a {{one}} b {{two}}"], "y": {"z": "{{three}}"}}, "data")

    assert found == [
        ("data.x[1]", "{{one}}"),
        ("data.x[1]", "{{two}}"),
        ("data.y.z", "{{three}}"),
    ]
