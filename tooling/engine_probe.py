"""A tiny dynamic resource that proves the engine end to end (`make tools` builds it).

The "remote" side is a JSON file, so refresh has something real to read: the resource's
live value can change behind the engine's back, as a SaaS object can.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)


def _load(store: str) -> dict[str, Any]:
    path = Path(store)
    return json.loads(path.read_text()) if path.exists() else {}


def _save(store: str, items: dict[str, Any]) -> None:
    Path(store).write_text(json.dumps(items, sort_keys=True))


class NoteProvider(ResourceProvider):
    """Keeps one note per resource in a JSON file."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        items = _load(props["store"])
        note_id = uuid.uuid4().hex
        items[note_id] = props["text"]
        _save(props["store"], items)
        return CreateResult(note_id, {**props, "length": len(props["text"])})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = [key for key in ("text", "store") if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(changes),
            replaces=["store"] if "store" in changes else [],
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        items = _load(news["store"])
        items[_id] = news["text"]
        _save(news["store"], items)
        return UpdateResult({**news, "length": len(news["text"])})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        items = _load(props["store"])
        if id_ not in items:
            return ReadResult(None, {})
        text = items[id_]
        return ReadResult(id_, {**props, "text": text, "length": len(text)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        items = _load(props["store"])
        items.pop(_id, None)
        _save(props["store"], items)


class Note(Resource):
    text: pulumi.Output[str]
    length: pulumi.Output[int]

    def __init__(self, name: str, text: str, store: str) -> None:
        super().__init__(NoteProvider(), name, {"text": text, "store": store, "length": None})


def program() -> None:
    """Reads `text` and `store` from the project config and exports the note."""
    config = pulumi.Config()
    note = Note("probe", text=config.require("text"), store=config.require("store"))
    pulumi.export("noteId", note.id)
    pulumi.export("length", note.length)
