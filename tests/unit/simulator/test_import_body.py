"""The webhook URL rule of the import body: absolute http(s), a host, a valid port."""

from __future__ import annotations

import pytest

from simulator.import_body import is_absolute_http_url


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/t/abc?key=1", "http://[::1]:9000/"],
)
def test_absolute_http_urls_are_accepted(url):
    assert is_absolute_http_url(url)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "https://h.example/with space",
        "http://h.example:99999/",
        "ftp://h.example/x",
        "https:///path",
    ],
    ids=["not-a-string", "whitespace", "bad-port", "scheme", "no-host"],
)
def test_non_absolute_or_non_http_urls_are_rejected(url):
    assert not is_absolute_http_url(url)
