"""The load: a realistic chatAssigned envelope, made unique per request by wrk's Lua script.

Unique, because the receiver would answer a repeated body as a duplicate without storing it.
"""

from __future__ import annotations

import json
from pathlib import Path

_MARKER = "@@SEQUENCE@@"


def chat_assigned(sequence: str) -> dict[str, object]:
    chat_id = f"6650f1c2a3b4c5d6e7f8{sequence}"
    return {
        "eventName": "chatAssigned",
        "eventData": {
            "chat": {
                "_id": chat_id,
                "channel": "whatsapp",
                "channelId": "64f0c0ffee00000000000001",
                "status": "open",
                "assignedAgent": "64f0c0ffee00000000000abc",
                "contact": {
                    "_id": "64f0c0ffee00000000000def",
                    "name": "María José Fernández",
                    "phone": "+5491155550123",
                    "email": "maria.fernandez@example.com",
                    "tags": ["vip", "wholesale"],
                    "customFields": {"customerId": "C-009123", "tier": "gold"},
                },
                "labels": [{"_id": "64f0c0ffee0000000000l001", "name": "Billing"}],
                "lastMessage": {
                    "text": "Hola, quisiera saber el estado de mi pedido #48213",
                    "direction": "incoming",
                    "createdAt": "2026-11-25T16:02:11.512Z",
                },
                "unreadCount": 2,
                "isBotActive": False,
                "createdAt": "2026-11-25T15:58:40.007Z",
                "updatedAt": "2026-11-25T16:02:14.921Z",
            },
            "agent": {
                "id": "64f0c0ffee00000000000abc",
                "crmId": "crm-7781",
                "email": "lucia.gomez@example.com",
                "displayName": "Lucía Gómez",
                "roles": ["agent", "supervisor"],
            },
        },
    }


def sample_body() -> bytes:
    return json.dumps(chat_assigned("0"), ensure_ascii=False).encode()


def write_wrk_script(path: Path, url_path: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
    """A wrk script: POSTs the envelope with a per-request sequence, reports stats as JSON."""
    body = json.dumps(chat_assigned(_MARKER), ensure_ascii=False)
    prefix, suffix = body.split(_MARKER)
    header_table = ", ".join(
        # The spaces: "[[" would open a long string.
        f"[ {_lua_string(name)} ] = {_lua_string(value)}"
        for name, value in (("Content-Type", "application/json"), *headers)
    )
    path.write_text(
        f"""
local prefix = {_lua_string(prefix)}
local suffix = {_lua_string(suffix)}
local counter = 0
local headers = {{{header_table}}}

request = function()
  counter = counter + 1
  return wrk.format("POST", {_lua_string(url_path)}, headers, prefix .. counter .. suffix)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
      .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""
    )


def _lua_string(text: str) -> str:
    # A long bracket string needs no escaping as long as it does not contain its delimiter.
    assert "]==]" not in text
    return f"[==[{text}]==]"
