"""Event-specific sample entities and the fire request's overrides."""

from __future__ import annotations

from simulator.samples import entities_for


def test_resolved_by_bot_has_no_agent_and_by_agent_has_one():
    by_bot = entities_for("chatResolvedByBot", 1)["chat"]
    by_agent = entities_for("chatResolvedByAgent", 1)["chat"]

    assert "agent" not in by_bot
    assert by_agent["agent"]["uid"]
    assert by_bot["status"] == by_agent["status"] == 3


def test_message_failed_has_a_failure_status_and_an_error():
    request = entities_for("messageFailed", 1)["messageStatusRequest"]

    assert request["status"] in (4, 5)
    assert request["error"]


def test_external_bot_events_match_their_conditions():
    assert entities_for("externalBotEnabled", 1)["chat"]["externalBot"] is True
    assert entities_for("externalBotDisabled", 1)["chat"]["externalBot"] is False


def test_media_messages_carry_media_instead_of_text():
    message = entities_for("newMediaMessage", 1)["message"]

    assert message["type"] == "media"
    assert message["media"]
    assert "text" not in message


def test_label_diff_is_consistent_with_the_chat():
    entities = entities_for("chatLabelsUpdated", 1)
    old, added, removed = (entities[k] for k in ("oldLabels", "addedLabels", "removedLabels"))

    assert sorted(entities["chat"]["labels"]) == sorted(
        [label for label in old if label not in removed] + added
    )


def test_timestamps_come_from_the_fire_time():
    entities = entities_for("newMessage", 1234)

    assert entities["message"]["timestamp"] == 1234
    assert entities["messageStatusRequest"]["timestamp"] == 1234


def test_object_overrides_merge_deeply():
    chat = entities_for("chatAssigned", 1, {"chat": {"agent": {"displayName": "Dana"}}})["chat"]

    assert chat["agent"] == {
        "uid": entities_for("chatAssigned", 1)["chat"]["agent"]["uid"],
        "displayName": "Dana",
    }
    assert chat["title"] == "John Doe"


def test_non_object_overrides_replace():
    assert entities_for("chatLabelsUpdated", 1, {"addedLabels": ["a", "b"]})["addedLabels"] == [
        "a",
        "b",
    ]


def test_event_data_aliases_set_the_message_status_request():
    request = entities_for(
        "messageStatusChanged",
        1,
        {"messageStatus": 2, "error": "e", "timestamp": 9, "externalId": ["w"]},
    )["messageStatusRequest"]

    assert (request["status"], request["error"], request["timestamp"], request["ids"]) == (
        2,
        "e",
        9,
        ["w"],
    )


def test_unknown_override_names_add_providers():
    assert entities_for("newMessage", 1, {"custom": {"k": 1}})["custom"] == {"k": 1}


def test_each_call_gets_fresh_entities():
    first = entities_for("newMessage", 1)
    first["chat"]["title"] = "changed"

    assert entities_for("newMessage", 1)["chat"]["title"] == "John Doe"
