"""Names the component gives things: GCP resource ids and the URL's secret segment."""

from __future__ import annotations

import hashlib
import re

from texter_webhooks.gcp.args import ReceiverServiceError

# The receiver's RECEIVER_SECRET format (receiver/settings.py holds its own copy, the
# receiver ships without the library; tests/unit/test_shared_facts.py keeps them equal).
SECRET_PATTERN = re.compile(r"[A-Za-z0-9._~-]{16,256}")


def resource_id(name: str, stack: str, *, max_length: int) -> str:
    """A GCP id from the component name and the stack: lowercase letters, digits and
    hyphens, starting with a letter, at most `max_length` (>= 10) characters.

    The stack is part of it so two stacks in one project never claim the same id, and a
    short hash of both keeps truncated ids apart.
    """
    digest = hashlib.sha256(f"{name}\0{stack}".encode()).hexdigest()[:4]
    base = re.sub(r"[^a-z0-9]+", "-", f"{name}-{stack}".lower()).strip("-")
    if not base[:1].isalpha():
        base = f"r-{base}".rstrip("-")
    base = base[: max_length - len(digest) - 1].rstrip("-")
    return f"{base}-{digest}"


# The receiver's routes (receiver/auth.py holds its own copy; test_shared_facts keeps them
# equal): the secret in the path after HOOKS_PREFIX, or in a header to the plain HOOKS_PATH.
HOOKS_PREFIX = "/hooks/"
HOOKS_PATH = "/hooks"


def pubsub_sink(project: str, topic: str) -> str:
    """The receiver's RECEIVER_SINK for topic `topic` of `project` (receiver/settings.py
    parses it on its own; test_shared_facts keeps the two in agreement)."""
    return f"pubsub:projects/{project}/topics/{topic}"


def hook_url(base_url: str) -> str:
    """The receiver's URL for the header form: no secret in it."""
    return base_url.rstrip("/") + HOOKS_PATH


def bearer_token(raw: str) -> str:
    """The token the header form sends: the secret the URL form would carry."""
    return url_secret(raw)


def url_secret(raw: str) -> str:
    """The secret the webhook URL carries: the first of RECEIVER_SECRET's comma-separated
    secrets. Raises, without echoing the value, if the receiver would refuse it."""
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) > 2 or not all(SECRET_PATTERN.fullmatch(part) for part in parts):
        raise ReceiverServiceError(
            "the receiver secret must be one secret, or two separated by a comma, each 16 to "
            "256 characters of A-Z a-z 0-9 . _ ~ - (it is a URL path segment)"
        )
    return parts[0]
