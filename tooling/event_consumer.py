"""`python -m tooling.event_consumer SUBSCRIPTION`: a small pull consumer of the receiver's
Pub/Sub topic, for the local stack. It shows each event as it arrives, one line each, and
appends it to a JSON Lines record (`--record`) before acknowledging it, so `make up` can tell
which events got through. With PUBSUB_EMULATOR_HOST set it reads from that emulator.

Each record: {"messageId", "publishTime", "attributes", "data"} with data the message's
bytes (the delivery's body as Texter sent it) as a string: `data.encode()` gives them back.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def describe(message: Any) -> str:
    attributes = message.attributes
    key = attributes.get("deliveryKey", "")
    return (
        f"{attributes.get('receivedAt', '?')}  {attributes.get('eventName', '?'):<28} "
        f"deliveryKey {key[:12]}…  {len(message.data)} bytes"
    )


def record(message: Any) -> bytes:
    return (
        json.dumps(
            {
                "messageId": message.message_id,
                "publishTime": message.publish_time.isoformat(),
                "attributes": dict(message.attributes),
                # The receiver publishes the body it validated as UTF-8 JSON.
                "data": bytes(message.data).decode("utf-8", "replace"),
            },
            ensure_ascii=False,
        ).encode()
        + b"\n"
    )


def read_record(path: Path) -> list[dict[str, Any]]:
    """What a consumer has recorded so far (a torn last line is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    complete, newline, _ = data.rpartition(b"\n")
    return [json.loads(line) for line in complete.split(b"\n")] if newline else []


def consume(subscription: str, record_path: Path | None, ready_file: Path | None) -> int:
    from google.cloud import pubsub_v1

    lock = threading.Lock()
    stopping = threading.Event()
    output = record_path.open("ab") if record_path is not None else None

    def on_message(message: Any) -> None:
        with lock:
            print(describe(message), flush=True)
            if output is not None:
                output.write(record(message))
                output.flush()
        # After the record is written: a consumer killed before this gets the message again.
        message.ack()

    client = pubsub_v1.SubscriberClient()
    future = client.subscribe(subscription, callback=on_message)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stopping.set())
    print(f"listening on {subscription}", flush=True)
    if ready_file is not None:
        ready_file.write_text("ready\n")
    try:
        while not stopping.wait(0.5):
            if future.done():
                # The stream ended on its own: an error the client would not retry.
                print(f"the pull stream ended: {future.exception()}", file=sys.stderr, flush=True)
                return 1
    finally:
        future.cancel()
        client.close()
        if output is not None:
            output.close()
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.event_consumer", description=__doc__)
    parser.add_argument("subscription", help="projects/PROJECT/subscriptions/NAME")
    parser.add_argument("--record", type=Path, help="append each event here (JSON Lines)")
    parser.add_argument("--ready-file", type=Path, help="written once the pull has started")
    args = parser.parse_args(argv)
    return consume(args.subscription, args.record, args.ready_file)


if __name__ == "__main__":
    sys.exit(main())
