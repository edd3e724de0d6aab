"""Transport-neutral request and response values passed between the HTTP layer and handlers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    path_params: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # a JSON value, or the text itself when media_type is TEXT_MEDIA_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = JSON_MEDIA_TYPE

    def payload(self) -> bytes:
        if self.media_type == TEXT_MEDIA_TYPE:
            return str(self.body).encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def plain_ok() -> Response:
    """``200 OK`` with the text body ``OK``: how Texter's docs show some endpoints answering."""
    return Response(200, "OK", media_type=TEXT_MEDIA_TYPE)
