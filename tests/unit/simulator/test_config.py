"""Token specs and config validation."""

from __future__ import annotations

from typing import Any

import pytest

from simulator import scopes
from simulator.config import SimulatorConfig, parse_token_spec, tokens_from_specs


def test_a_bare_value_gets_every_scope():
    assert parse_token_spec("abc") == ("abc", scopes.ALL_SCOPES)


def test_short_and_ui_scope_names_are_accepted():
    value, granted = parse_token_spec("abc:view, Activate/inactivate scenarios,MANAGE_ON_BEHALF")

    assert value == "abc"
    assert granted == {scopes.VIEW, scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF}


def test_an_empty_scope_list_means_no_scopes():
    assert parse_token_spec("abc:") == ("abc", frozenset())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("a b", "no whitespace"),
        ("abc:view,admin", "unknown scope 'admin'"),
    ],
)
def test_invalid_specs_are_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_token_spec(spec)


def test_duplicate_token_values_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        tokens_from_specs(["a", "a:view"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"malformed_id_status": 410}, "malformed_id_status"),
        ({"tokens": {"t": frozenset({"admin"})}}, "unknown scopes"),
        ({"route_paths": {"pause": "/scenarios/manage/{id}/pause"}}, r"route name\(s\) 'pause'"),
    ],
)
def test_invalid_configs_are_rejected(kwargs: dict[str, Any], message):
    with pytest.raises(ValueError, match=message):
        SimulatorConfig(**kwargs)
