"""Client behaviour that needs no server: answers it must not trust."""

from __future__ import annotations

import email.utils
import io
import json
import time
from typing import Any

import pytest
import requests

from texter_webhooks.texter import errors
from texter_webhooks.texter.client import TexterClient, _retry_after


def response(headers: dict[str, str]) -> requests.Response:
    answer = requests.Response()
    answer.status_code = 429
    answer.headers.update(headers)
    return answer


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0", 0.0), ("-4", 0.0), ("1.5s", None), ("", None), ("soon", None)],
)
def test_retry_after_seconds_and_garbage(value: str, expected: float | None) -> None:
    assert _retry_after(response({"Retry-After": value} if value else {})) == expected


def test_retry_after_http_dates_are_utc_even_when_naive() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (_retry_after(response({"Retry-After": later})) or 0) <= 30
    naive = email.utils.formatdate(time.time() + 30).replace("+0000", "-0000")
    assert 25 < (_retry_after(response({"Retry-After": naive})) or 0) <= 30


def test_a_partial_listing_is_refused_not_read_as_deletions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = TexterClient("https://t.example/server/api/v2", "token")
    answer = requests.Response()
    answer.status_code = 200
    answer.raw = io.BytesIO(json.dumps({"total": 120, "scenarios": [{"_id": "a"}] * 100}).encode())

    # Texter's HTTP answer, at the transport: everything above it is the client's.
    def send(*_args: Any, **_kwargs: Any) -> requests.Response:
        return answer

    monkeypatch.setattr(requests.Session, "request", send)
    with pytest.raises(errors.IncompleteListingError, match="100 of 120"):
        client.list_scenarios()
    with pytest.raises(errors.IncompleteListingError):
        client.get_scenario("a")


@pytest.mark.parametrize(
    "reply", [[{"_id": "r1"}], {"total": 1, "runs": [{"_id": "r1"}]}], ids=["list", "page"]
)
def test_runs_read_a_bare_list_or_a_page(monkeypatch: pytest.MonkeyPatch, reply: Any) -> None:
    answer = requests.Response()
    answer.status_code = 200
    answer.raw = io.BytesIO(json.dumps(reply).encode())
    monkeypatch.setattr(requests.Session, "request", lambda *_a, **_k: answer)
    client = TexterClient("https://t.example/server/api/v2", "token")
    assert client.list_runs("0" * 24) == [{"_id": "r1"}]
