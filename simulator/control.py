"""The ``/_sim/`` test-control endpoints: fire events, inject faults, inspect and reset state.

No authentication (they are not part of Texter's API), so they answer loopback clients only.
"""

from __future__ import annotations

import ipaddress
import sys
import traceback
from collections.abc import Callable
from typing import Any

from simulator.app import Simulator
from simulator.config import CONTROL_PREFIX
from simulator.errors import ApiError
from simulator.exchange import Exchange
from simulator.faults import add_from_json
from simulator.firing import parse_fire_request
from simulator.ids import is_object_id
from simulator.messages import Response
from simulator.revisions import normalized_seed
from simulator.validation import (
    Problems,
    check_unknown_keys,
    is_int,
    parse_json,
    require_object,
)

Action = Callable[[Simulator, Any], Response]


def _fire(sim: Simulator, body: Any) -> Response:
    return Response(200, {"fired": sim.firer.fire(parse_fire_request(body))})


def _list_faults(sim: Simulator, _body: Any) -> Response:
    return Response(200, {"faults": [f.as_json() for f in sim.faults.pending()]})


def _add_fault(sim: Simulator, body: Any) -> Response:
    return Response(201, {"fault": add_from_json(sim.faults, body).as_json()})


def _clear_faults(sim: Simulator, _body: Any) -> Response:
    sim.faults.clear()
    return Response(200, {"faults": []})


def _get_latency(sim: Simulator, _body: Any) -> Response:
    return Response(200, {"ms": sim.latency_ms})


def _set_latency(sim: Simulator, body: Any) -> Response:
    obj = require_object(body)
    problems = Problems()
    check_unknown_keys(obj, ("ms",), "", problems, lenient=False)
    if not is_int(obj.get("ms")) or obj["ms"] < 0:
        problems.add("ms", "must be a non-negative integer")
    problems.raise_if_any()
    sim.set_latency(obj["ms"])
    return Response(200, {"ms": obj["ms"]})


def _list_requests(sim: Simulator, _body: Any) -> Response:
    return Response(200, {"requests": sim.requests.entries()})


def _clear_requests(sim: Simulator, _body: Any) -> Response:
    sim.requests.clear()
    return Response(200, {"requests": []})


def _dump(sim: Simulator, _body: Any) -> Response:
    return Response(200, sim.store.dump())


def _reset(sim: Simulator, _body: Any) -> Response:
    sim.reset()
    return Response(200, {"reset": True})


def _seed(sim: Simulator, body: Any) -> Response:
    scenario = require_object(body)
    if "_id" in scenario and not is_object_id(scenario["_id"]):
        raise ApiError(400, "_id: must be a 24-character hexadecimal id")
    return Response(201, sim.store.add(normalized_seed(scenario)))


# (method, endpoint) -> (action, whether a JSON body is required)
ACTIONS: dict[tuple[str, str], tuple[Action, bool]] = {
    ("POST", "fire"): (_fire, True),
    ("GET", "faults"): (_list_faults, False),
    ("POST", "faults"): (_add_fault, True),
    ("DELETE", "faults"): (_clear_faults, False),
    ("GET", "latency"): (_get_latency, False),
    ("POST", "latency"): (_set_latency, True),
    ("GET", "requests"): (_list_requests, False),
    ("DELETE", "requests"): (_clear_requests, False),
    ("GET", "scenarios"): (_dump, False),
    ("POST", "reset"): (_reset, False),
    ("POST", "seed"): (_seed, True),
}


def serve_control(sim: Simulator, exchange: Exchange) -> int:
    response = _control_response(sim, exchange)
    exchange.respond(response)
    return response.status


def _control_response(sim: Simulator, exchange: Exchange) -> Response:
    try:
        body_bytes = exchange.read_body()
        if not _is_loopback(exchange.client_host):
            raise ApiError(403, "control endpoints answer loopback clients only")
        endpoint = exchange.path[len(CONTROL_PREFIX) :]
        found = ACTIONS.get((exchange.method, endpoint))
        if found is None:
            allowed = [method for method, name in ACTIONS if name == endpoint]
            if allowed:
                raise ApiError(405, f"allowed: {', '.join(allowed)}", {"Allow": ", ".join(allowed)})
            raise ApiError(404, f"no such control endpoint: {exchange.path}")
        action, body_required = found
        body = parse_json(body_bytes, exchange.headers.get("content-type"), required=body_required)
        return action(sim, body)
    except ApiError as err:
        return Response(err.status, err.body(), err.headers)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return Response(500, ApiError(500, "internal simulator error").body())


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False
