"""A sink that stores nothing: for benchmarking the receiver without storage costs."""

from __future__ import annotations

from receiver.delivery import Delivery


class NullSink:
    async def start(self) -> None:
        pass

    async def store(self, delivery: Delivery) -> None:
        pass

    async def check(self) -> str | None:
        return None

    async def close(self) -> None:
        pass
