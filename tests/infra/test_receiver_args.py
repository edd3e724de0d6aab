"""ReceiverServiceArgs checks, ids derived from names, and the secret the URL carries."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from tests.infra.harness import PROJECT, REGION, Cloud, deploy
from texter_webhooks.gcp.receiver_service import (
    ReceiverServiceArgs,
    ReceiverServiceError,
    resource_id,
    url_secret,
)

GOOD = ReceiverServiceArgs(project=PROJECT, region=REGION, image="img:1")
# Service account ids: 6 to 30 characters, a letter first, no trailing hyphen.
ACCOUNT_ID_RE = re.compile(r"[a-z][-a-z0-9]{4,28}[a-z0-9]")


def test_the_defaults_are_valid() -> None:
    GOOD.validate()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"project": ""}, "project"),
        ({"project": "Acme_Prod"}, "project"),
        ({"region": ""}, "region"),
        ({"region": "Europe West"}, "region"),
        ({"image": "  "}, "image"),
        ({"min_instances": -1}, "min_instances"),
        ({"max_instances": 0}, "max_instances"),
        ({"min_instances": 4, "max_instances": 3}, "min_instances"),
        ({"max_instances": True}, "max_instances"),
        ({"max_instances": 2.5}, "max_instances"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1001}, "concurrency"),
        ({"cpu": ""}, "cpu"),
        ({"cpu": "one"}, "cpu"),
        ({"memory": "512 MB"}, "memory"),
        ({"log_level": "verbose"}, "log_level"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"dedup_window_seconds": -1.0}, "dedup_window_seconds"),
        ({"dedup_window_seconds": float("nan")}, "dedup_window_seconds"),
        ({"project_number": "12ab"}, "project_number"),
    ],
)
def test_a_bad_field_is_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ReceiverServiceError, match=rf"^ReceiverServiceArgs\.{field} "):
        replace(GOOD, **changes).validate()


def test_bad_args_fail_before_anything_is_registered(cloud: Cloud) -> None:
    with pytest.raises(ReceiverServiceError, match="max_instances"):
        deploy(cloud, min_instances=5, max_instances=2)
    assert cloud.registrations == []


@pytest.mark.parametrize(
    "name", ["receiver", "Receiver_Service", "9lives", "a" * 80, "x", "--", "é-ünïcode"]
)
@pytest.mark.parametrize("stack", ["dev", "production-europe-west1-blue"])
def test_resource_ids_are_valid_service_account_ids(name: str, stack: str) -> None:
    account_id = resource_id(name, stack, max_length=30)
    assert ACCOUNT_ID_RE.fullmatch(account_id), account_id


def test_resource_ids_are_stable_and_differ_per_stack() -> None:
    # Literals: an id that changed between releases would replace the stack's resources.
    assert resource_id("receiver", "dev", max_length=30) == "receiver-dev-9ac5"
    assert resource_id("receiver", "prod", max_length=30) == "receiver-prod-61f8"
    # Truncation alone would make these equal.
    long = "a" * 40
    assert resource_id(long, "dev", max_length=30) != resource_id(long + "b", "dev", max_length=30)


def test_url_secret_is_the_first_of_a_rotation_pair() -> None:
    assert url_secret("N3w-secret-0123456789") == "N3w-secret-0123456789"
    assert url_secret("N3w-secret-0123456789, 0ld-secret-0123456789") == "N3w-secret-0123456789"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "short",
        "has space in it 0123456789",
        "slash/in-the-path-0123456789",
        "one-secret-0123456789,",
        "a-secret-0123456789,b-secret-0123456789,c-secret-0123456789",
    ],
)
def test_url_secret_refuses_what_the_receiver_refuses_without_echoing_it(raw: str) -> None:
    with pytest.raises(ReceiverServiceError) as error:
        url_secret(raw)
    assert not raw or raw not in str(error.value)
