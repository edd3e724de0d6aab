"""The one interface every sink offers."""

from __future__ import annotations

from typing import Protocol

from receiver.delivery import Delivery


class SinkUnavailable(Exception):
    """The delivery was not stored; Texter must retry it."""


class UnstorableDelivery(Exception):
    """This delivery, and only it, cannot be stored (what it carries is refused): the sink is
    well, its other deliveries are stored, and a retry of the same bytes fares no better.

    Not expected of a body the receiver validated; a guard, so that one delivery can never
    fail its neighbours or the sink's health.
    """


class Sink(Protocol):
    async def start(self) -> None:
        """Called once on the server's event loop before the first request."""

    async def store(self, delivery: Delivery) -> None:
        """Returns only once `delivery` is durably stored; raises if it may not be."""

    async def check(self) -> str | None:
        """None while the sink can store; otherwise what is wrong (GET /healthz answers 503).

        Called by health probes: it may try to repair the sink, never stores anything, and
        answers at once while the sink is well.
        """

    async def close(self) -> None:
        """Called once after the last request has been answered."""
