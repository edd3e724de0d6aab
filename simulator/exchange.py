"""What the request pipelines need from a connection, so they can be driven without sockets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from simulator.messages import Response


class Exchange(Protocol):
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # names lowercased
    client_host: str

    def read_body(self) -> bytes:
        """The whole request body; raises ApiError (400/413) when it cannot be read."""
        ...

    def respond(self, response: Response) -> None: ...

    def drop(self) -> None:
        """Abort the connection with a TCP reset and send nothing."""
        ...
