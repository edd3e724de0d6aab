"""What the request pipelines need from a connection, so they can be driven without sockets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from simulator.messages import Response


class Exchange(Protocol):
    # Read-only properties, so any object exposing these values (a dataclass in unit tests,
    # the socket-backed HttpExchange in production) satisfies the protocol.
    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str:
        """The path without the query string."""
        ...

    @property
    def query(self) -> Mapping[str, list[str]]: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Request headers with lowercased names."""
        ...

    @property
    def client_host(self) -> str: ...

    def read_body(self) -> bytes:
        """The whole request body; raises ApiError (400/413) when it cannot be read."""
        ...

    def respond(self, response: Response) -> None: ...

    def drop(self) -> None:
        """Abort the connection with a TCP reset and send nothing."""
        ...
