"""Built-in sample entities that ``/_sim/fire`` injects into ``##provide`` references.

Shapes follow Texter's documented Chat, Message and Problem objects, and each event gets the
variant its template's conditions expect (a resolved chat without an agent for
chatResolvedByBot, status 4 with an error for messageFailed, ...), so a receiver under test sees
a payload that could really have been sent for that event.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

Entities = dict[str, Any]

# The ``key`` that returns a provider's whole entity (any other key is a dotted path into it).
SELF_KEYS: dict[str, str] = {
    "oldLabels": "labels",
    "addedLabels": "labels",
    "removedLabels": "labels",
}
# ``sample`` keys named after eventData fields, mapped onto the messageStatusRequest provider
# that the message-status templates actually reference (``%messageStatusRequest:ids%`` ...).
ALIASES: dict[str, tuple[str, str]] = {
    "messageStatus": ("messageStatusRequest", "status"),
    "error": ("messageStatusRequest", "error"),
    "timestamp": ("messageStatusRequest", "timestamp"),
    "externalId": ("messageStatusRequest", "ids"),
}

CHAT_ID = "67bf11038b24880cc966f799"
AGENT_UID = "4d170fc7-5cd6-4496-98e4-f4f03a11456e"
ACCOUNT_ID = "972509876543"
CONTACT_PHONE = "972521234567"
WAMID = "wamid.HBgMOTcyNTIxMjM0NTY3FQIAERgSMEE3QjE2QjNGMDk2RkQ0QTU3AA=="


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def base_entities(now: int) -> Entities:
    channel = {"name": "whatsapp", "id": CONTACT_PHONE, "accountId": ACCOUNT_ID}
    chat = {
        "_id": CHAT_ID,
        "title": "John Doe",
        "personId": "67bf11038b24880cc966f798",
        "channelInfo": dict(channel),
        "personChats": [dict(channel)],
        "agent": {"uid": AGENT_UID, "displayName": "Tyler"},
        "departmentId": "customer_service",
        "status": 2,
        "unreadCount": 0,
        "labels": ["VIP", "billing"],
        "lastMessage": {"type": "text", "text": "help"},
        "last_message_timestamp": now,
        "lastIncomingMessageTimestamp": now,
        "created": "2025-02-26T13:02:58.353Z",
        "updatedAt": _iso(now),
        "crmData": {"leadId": 641225, "plan": "premium"},
        "crmDeepLink": "https://crm.example.com/leads/641225",
        "externalBot": False,
    }
    return {
        "chat": chat,
        "agent": {
            "_id": AGENT_UID,
            "uid": AGENT_UID,
            "crmId": "crm-agent-17",
            "email": "tyler@example.com",
            "displayName": "Tyler",
            "roles": ["agent"],
        },
        "contact": {
            "_id": chat["personId"],
            "name": "John Doe",
            "phone": CONTACT_PHONE,
            "email": "john.doe@example.com",
        },
        "message": {
            "_id": "67bf11a48b24880cc966f7a3",
            "parent_chat": CHAT_ID,
            "chatChannelInfo": dict(channel),
            "channelInfo": {"id": WAMID},
            "timestamp": now,
            "updatedAt": _iso(now),
            "direction": "incoming",
            "type": "text",
            "text": "help",
        },
        "oldLabels": ["VIP", "new-lead"],
        "addedLabels": ["billing"],
        "removedLabels": ["new-lead"],
        "problem": {
            "_id": "68cc1241bafffd81d455e788",
            "channel": "whatsapp",
            "accountId": ACCOUNT_ID,
            "name": "whatsapp_business_has_limited_messaging_availability",
            "severity": "error",
            "impairedFunctionality": {"send": True, "receive": False},
            "message": "The Business has not passed business verification.",
            "instruction": "Visit business settings and resolve the business verification.",
            "createdAt": now - 60_000,
            "startedAt": now - 120_000,
        },
        "messageStatusRequest": {
            "status": 3,
            "error": None,
            "timestamp": now,
            "ids": [WAMID],
            "chat": {"name": "whatsapp", "accountId": ACCOUNT_ID, "id": CONTACT_PHONE},
        },
    }


def _resolved(entities: Entities) -> None:
    entities["chat"]["status"] = 3


def _resolved_by_bot(entities: Entities) -> None:
    _resolved(entities)
    del entities["chat"]["agent"]


def _media(entities: Entities) -> None:
    message = entities["message"]
    message["type"] = "media"
    del message["text"]
    message["media"] = [{"mediaType": "image", "mimeType": "image/jpeg", "fileId": "f-20931"}]


def _failed(entities: Entities) -> None:
    status = entities["messageStatusRequest"]
    status["status"] = 4
    status["error"] = "(#131049) Message not delivered to maintain healthy ecosystem engagement"


def _problem_resolved(entities: Entities) -> None:
    problem = entities["problem"]
    problem["resolvedAt"] = problem["createdAt"] + 30_000


def _set_chat(field: str, value: Any) -> Callable[[Entities], None]:
    def adjust(entities: Entities) -> None:
        entities["chat"][field] = value

    return adjust


EVENT_VARIANTS: dict[str, Callable[[Entities], None]] = {
    "chatResolved": _resolved,
    "chatResolvedByAgent": _resolved,
    "chatResolvedByBot": _resolved_by_bot,
    "chatPending": _set_chat("status", 1),
    "chatUnsubscribed": _set_chat("unsubscribed", {"date": "2025-11-01T15:48:14.076Z"}),
    "externalBotEnabled": _set_chat("externalBot", True),
    "externalBotDisabled": _set_chat("externalBot", False),
    "newMediaMessage": _media,
    "messageFailed": _failed,
    "channelHealthProblemResolved": _problem_resolved,
}


def entities_for(event_name: str, now: int, overrides: Mapping[str, Any] | None = None) -> Entities:
    """Sample entities for one event, with ``overrides`` (the fire request's ``sample``) applied.

    Overrides deep-merge into object entities and replace anything else; alias keys
    (``messageStatus``, ``error``, ``timestamp``, ``externalId``) set the matching
    messageStatusRequest field; an unknown key adds a new provider.
    """
    entities = base_entities(now)
    variant = EVENT_VARIANTS.get(event_name)
    if variant is not None:
        variant(entities)
    for name, value in (overrides or {}).items():
        if name in ALIASES:
            provider, key = ALIASES[name]
            entities[provider][key] = copy.deepcopy(value)
        else:
            entities[name] = merged(entities.get(name), value)
    return entities


def merged(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            result[key] = merged(base.get(key), value)
        return result
    return copy.deepcopy(override)
