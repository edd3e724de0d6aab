"""The simulator as an in-process server for tests, and the engine behind ``python -m simulator``.

Why the standard library's ``ThreadingHTTPServer`` and not an ASGI framework: fault injection
must act on the TCP connection itself, at exact points of a request. ``reset`` aborts the
connection with an RST before the request is processed, and ``commit_then_drop`` performs the
change and then aborts without any response. ASGI servers own the socket and always finish or
cleanly close a response, so neither behaviour can be produced there; with ``http.server`` the
handler holds the socket and can set ``SO_LINGER`` to zero and close it.

Usage from a test fixture::

    with SimulatorServer(SimulatorConfig(tokens={"t": ALL_SCOPES})) as sim:
        requests.get(f"{sim.base_url}/scenarios/manage", headers=sim.auth_headers())
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any

from simulator.app import Simulator, Sleep
from simulator.config import API_PREFIX, SimulatorConfig, generate_token
from simulator.faults import Fault
from simulator.firing import FireRequest
from simulator.http_handler import SimulatorHTTPServer
from simulator.revisions import normalized_seed
from simulator.scopes import ALL_SCOPES


class SimulatorServer:
    """A Texter API simulator on a background thread.

    ``port=0`` picks a free port (read it back from ``port``/``base_url`` after ``start()``).
    When the config names no token, one with every scope is generated and exposed as
    ``token`` / ``generated_token``. ``sleep`` is what latency and delay faults call, so a test
    can observe them without timing anything.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sleep: Sleep = time.sleep,
    ) -> None:
        config = config or SimulatorConfig()
        self.generated_token: str | None = None
        if not config.tokens:
            self.generated_token = generate_token()
            config = dataclasses.replace(config, tokens={self.generated_token: ALL_SCOPES})
        self.config = config
        self.host = host
        self._requested_port = port
        self._sleep = sleep
        self._sim: Simulator | None = None
        self._httpd: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            raise RuntimeError("the simulator is already running")
        sim = Simulator(self.config, self.config.tokens, self._sleep)
        try:
            httpd = SimulatorHTTPServer((self.host, self._requested_port), sim)
        except BaseException:
            sim.close()
            raise
        self._sim, self._httpd = sim, httpd
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"texter-simulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and release the state file. Idempotent."""
        httpd, thread, sim = self._httpd, self._thread, self._sim
        self._httpd = self._thread = self._sim = None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if thread is not None:
            thread.join()
        if sim is not None:
            sim.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # --- addresses and credentials -----------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server().server_address[1])

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base, ``.../server/api/v2``, as a client would be configured with."""
        return self.root_url + API_PREFIX

    @property
    def token(self) -> str:
        """The generated token, else the first configured one."""
        return self.generated_token or next(iter(self.config.tokens))

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    # --- the /_sim/ controls, callable directly ------------------------------------------------

    @property
    def simulator(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("the simulator is not running")
        return self._sim

    def add_fault(
        self, route: str, fault: str, count: int = 1, *, retry_after: int = 1, delay_ms: int = 0
    ) -> Fault:
        return self.simulator.faults.add(
            route, fault, count, retry_after=retry_after, delay_ms=delay_ms
        )

    def pending_faults(self) -> list[Fault]:
        return self.simulator.faults.pending()

    def clear_faults(self) -> None:
        self.simulator.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.simulator.set_latency(ms)

    def fire(
        self,
        event_name: str,
        sample: Mapping[str, Any] | None = None,
        *,
        conditions_pass: bool = True,
    ) -> list[dict[str, Any]]:
        request = FireRequest(event_name, dict(sample or {}), conditions_pass=conditions_pass)
        return self.simulator.firer.fire(request)

    def seed(self, scenario: Mapping[str, Any]) -> dict[str, Any]:
        return self.simulator.store.add(normalized_seed(dict(scenario)))

    def scenarios(self) -> list[dict[str, Any]]:
        """Every stored scenario, system ones included (the raw state, not the API view)."""
        return self.simulator.store.scenarios(include_system=True)

    def runs(self, scenario_id: str) -> list[dict[str, Any]]:
        return self.simulator.store.runs(scenario_id)

    def request_log(self) -> list[dict[str, Any]]:
        return self.simulator.requests.entries()

    def clear_request_log(self) -> None:
        self.simulator.requests.clear()

    def reset(self) -> None:
        self.simulator.reset()

    def _server(self) -> SimulatorHTTPServer:
        if self._httpd is None:
            raise RuntimeError("the simulator is not running")
        return self._httpd
