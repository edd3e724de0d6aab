"""The `pulumi preview --diff` example of docs/lifecycle.md is what the CLI prints for it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from tooling.sandbox import RECEIVER_SECRET, SubscriptionStack

pytestmark = pytest.mark.e2e

LIFECYCLE_DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"
MATCHED = {"event": "newMatchedMessage", "placeholders": {"expression": 'text == "help"'}}
# The receiver secret as a bearer token: the URL plain, as the docs' example shows it.
HEADER_FORM = {
    "url": "https://receiver.example.com/hooks",
    "plain_url": True,
    "bearer_token": RECEIVER_SECRET,
}
# Values that differ from run to run, as the docs write them.
VOLATILE = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"\b[0-9a-f]{24}\b"), "<scenario id>"),
    (re.compile(r'"[0-9a-f]{16}"'), '"<resource key>"'),  # marker, before and after
    (re.compile(r'"[0-9a-f]{12}"'), '"<12 hex>"'),
]


def readme_example() -> str:
    text = LIFECYCLE_DOC.read_text()
    found = re.search(r"```text title=\"preview --diff\"\n(.*?)```", text, re.S)
    assert found is not None, "docs/lifecycle.md lost its preview example"
    return found.group(1)


def normalized(preview: str) -> list[str]:
    """The preview with volatile values replaced, split into its header, one part per
    resource (sorted: the CLI prints them as their steps are ready) and its summary."""
    for pattern, stand_in in VOLATILE:
        preview = pattern.sub(stand_in, preview)
    parts = re.split(r"(?m)^(?=    (?:~ |\+-)pulumi-python|Resources:)", preview)
    return [parts[0], *sorted(parts[1:-1]), parts[-1].rstrip("\n")]


def test_the_readme_preview_example_is_the_cli_s_output(
    make_project: ProjectFactory, texter_sim: SimulatorServer
) -> None:
    subs = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN, name="dev")
    subs.configure()
    subs.subscriptions = {
        "chatAssigned": {"event": "chatAssigned", **HEADER_FORM},
        "newMatchedMessage": {**MATCHED, **HEADER_FORM},
    }
    subs.up()
    subs.subscriptions = {
        "chatAssigned": {
            "event": "chatAssigned",
            "description": "Assigned chats to the CRM",
            **HEADER_FORM,
        },
        "newMatchedMessage": {
            **MATCHED,
            **HEADER_FORM,
            "url": "https://receiver-v2.example.com/hooks",
            "status": "inactive",
        },
    }
    preview = subs.preview(diff=True).stdout
    assert RECEIVER_SECRET not in preview
    parts = normalized(preview)
    if os.environ.get("README_PREVIEW_OUT"):
        Path(os.environ["README_PREVIEW_OUT"]).write_text(preview)
    assert parts == normalized(readme_example())
    (replace,) = [part for part in parts if part.startswith("    +-")]
    assert len(replace.splitlines()) <= 25  # a one-field replace reads at a glance
