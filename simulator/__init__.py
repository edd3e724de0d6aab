"""Texter scenario-API simulator: strict enough that passing against it means working against
Texter. See ``simulator/README.md`` for what it serves and the choices made where the contract
is silent.

Entry points: ``python -m simulator`` (CLI) and :class:`simulator.server.SimulatorServer`
(in-process, for test fixtures).
"""

from simulator.config import API_PREFIX, SimulatorConfig, parse_token_spec
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer

__all__ = ["ALL_SCOPES", "API_PREFIX", "SimulatorConfig", "SimulatorServer", "parse_token_spec"]
