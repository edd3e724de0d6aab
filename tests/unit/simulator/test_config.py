"""Token specs, scope names and config validation."""

from __future__ import annotations

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


@pytest.mark.parametrize("spec", ["", ":view", "a b", "abc:view,admin"])
def test_invalid_specs_are_rejected(spec):
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by cause
        parse_token_spec(spec)


def test_duplicate_token_values_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        tokens_from_specs(["a", "a:view"])


def test_every_ui_name_maps_back_to_its_short_name():
    for short, ui in scopes.UI_NAMES.items():
        assert scopes.normalize_scope(ui) == short


@pytest.mark.parametrize(
    "kwargs",
    [{"latency_ms": -1}, {"malformed_id_status": 410}, {"tokens": {"t": frozenset({"admin"})}}],
)
def test_invalid_configs_are_rejected(kwargs):
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by cause
        SimulatorConfig(**kwargs)


def test_an_unknown_route_name_is_a_config_error():
    with pytest.raises(ValueError, match=r"unknown route name\(s\) 'pause'"):
        SimulatorConfig(route_paths={"pause": "/scenarios/manage/{id}/pause"})


def test_a_route_override_with_a_bad_path_is_a_config_error():
    with pytest.raises(ValueError, match="exactly one"):
        SimulatorConfig(route_paths={"delete": "/scenarios/manage"})
