"""`make contract-check`: do the Texter routes the client assumes work on a real tenant?

    python -m tooling.contract_check                # TEXTER_BASE_URL and TEXTER_TOKEN
    python -m tooling.contract_check --stack dev    # texter:baseUrl / texter:token of a stack

Texter's pages give the paths of import and list only (docs/texter-api.md §1). The paths
of activate, inactivate, delete and runs are the client's best reading (`ROUTES` in
texter_webhooks/texter/client.py), to be confirmed on a live tenant: this is that
confirmation.

It makes exactly one throwaway scenario, imported INACTIVE, named `(SUB) texter-webhooks
contract check <random>` with a marker in its description, and goes through list, import,
activate, inactivate (at once, so it is never left active), runs and delete, each through
`TexterClient`. Whatever fails, it then removes what it made (delete, else inactivate) and
lists once more to report anything still carrying its marker.

Output: one line per route (method and path, HTTP status, whether the answer is what the
client expects), then a summary for the four routes no public page documents. Exit codes:
0 every route behaves as the client expects, 1 otherwise, 2 bad configuration (missing or
refused credentials). The token is never printed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import requests

from texter_webhooks.texter.body import BodySpec, redact_urls, render
from texter_webhooks.texter.client import (
    ROUTES,
    RetryPolicy,
    TexterClient,
    scenario_status,
)
from texter_webhooks.texter.errors import AuthError, ForbiddenError, TexterAPIError

REPO_ROOT = Path(__file__).resolve().parents[1]
ROUTE_ORDER = ("list", "import", "activate", "inactivate", "runs", "delete")
# docs/texter-api.md §1: no public page gives these routes' method and path.
UNDOCUMENTED = ("activate", "inactivate", "delete", "runs")
MARKER_PREFIX = "[texter-webhooks-contract-check:"
# The scenario is active for the instant between activate and inactivate. A rare event and a
# reserved domain (RFC 2606) mean that even a delivery in that instant reaches nobody.
EVENT = "channelHealthProblemResolved"
THROWAWAY_URL = "https://example.com/texter-webhooks-contract-check"


class ConfigError(Exception):
    """The check cannot start: credentials missing or unreadable (exit code 2)."""


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str = field(repr=False)
    source: str


def resolve_target(stack: str | None, environ: Mapping[str, str]) -> Target:
    """The tenant to check: the stack's config when a stack is named, else the env vars.

    A named stack wins over the env vars: `make contract-check STACK=prod` must not check
    another tenant because a TEXTER_TOKEN happens to be exported in the shell."""
    if stack:
        return Target(
            _pulumi_config(stack, "texter:baseUrl"),
            _pulumi_config(stack, "texter:token"),
            f"stack {stack}",
        )
    base_url = environ.get("TEXTER_BASE_URL", "").strip()
    token = environ.get("TEXTER_TOKEN", "").strip()
    given = (("TEXTER_BASE_URL", base_url), ("TEXTER_TOKEN", token))
    missing = [name for name, value in given if not value]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} not set: export TEXTER_BASE_URL and TEXTER_TOKEN, "
            "or name a stack (--stack NAME, or STACK=NAME for make)"
        )
    return Target(base_url, token, "TEXTER_BASE_URL/TEXTER_TOKEN")


def run_user_pulumi(stack: str, *args: str) -> str:
    """stdout of `pulumi <args> --stack <stack>` with the user's own CLI, from the repository
    root; ConfigError with pulumi's last stderr line (never a value) when it fails."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ConfigError("--stack needs the `pulumi` CLI on PATH")
    command = f"`pulumi {' '.join(args)} --stack {stack}`"
    try:
        result = subprocess.run(  # noqa: S603 - the user's pulumi, fixed arguments
            [pulumi, *args, "--stack", stack, "--non-interactive"],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{command} failed: {type(exc).__name__}") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"{command} failed: {reason}")
    return result.stdout


def _pulumi_config(stack: str, key: str) -> str:
    value = run_user_pulumi(stack, "config", "get", key).strip()
    if not value:
        raise ConfigError(f"`pulumi config get {key} --stack {stack}` failed: no value")
    return value


# --- observing the client ------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer the client received: status and what its body looked like."""

    status: int
    media_type: str
    body: Any  # the decoded JSON, or None when the body was not JSON
    text: str  # the start of the body


class ObservedClient(TexterClient):
    """The project's client, unchanged, plus a record of every HTTP answer it receives.

    The public methods return what the client made of an answer (`{}` for a plain `OK`),
    but the check also reports the status and the raw shape. A response hook on the
    client's session sees each answer, retries included, without touching how the client
    sends or reads."""

    def __init__(self, base_url: str, token: str, *, policy: RetryPolicy) -> None:
        super().__init__(
            base_url, token, policy=policy, user_agent="texter-webhooks-contract-check"
        )
        self.answers: list[Answer] = []

    def _session(self) -> requests.Session:
        session = super()._session()
        hooks = session.hooks["response"]
        if self._record not in hooks:
            hooks.append(self._record)
        return session

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        self.answers.append(Answer(response.status_code, media_type, body, response.text[:80]))


@dataclass(frozen=True)
class Outcome:
    """What one client call gave: its value, or the error, and the last HTTP answer."""

    value: Any = None
    error: str | None = None
    exception: BaseException | None = None
    answer: Answer | None = None
    attempts: int = 0


def call(client: ObservedClient, operation: Callable[[], Any]) -> Outcome:
    client.answers.clear()
    try:
        value = operation()
    except TexterAPIError as exc:
        return _outcome(client, error=redact_urls(str(exc)), exception=exc)
    except Exception as exc:
        # Not an API error: the client could not read an answer of the expected kind
        # (e.g. a list where it reads an object). That is exactly what the check reports.
        error = f"the client could not read the answer ({type(exc).__name__}: {exc})"
        return _outcome(client, error=redact_urls(error), exception=exc)
    return _outcome(client, value=value)


def _outcome(client: ObservedClient, **fields: Any) -> Outcome:
    answers = client.answers
    return Outcome(answer=answers[-1] if answers else None, attempts=len(answers), **fields)


# --- reply shapes --------------------------------------------------------------------------


def describe(answer: Answer | None) -> str:
    if answer is None:
        return "no answer"
    if answer.body is None:
        shown = answer.text.strip()
        return f"a {answer.media_type or 'untyped'} body {shown!r}" if shown else "an empty body"
    if isinstance(answer.body, dict):
        keys = ", ".join(sorted(answer.body)[:6])
        return f"a JSON object {{{keys}}}"
    return f"JSON {type(answer.body).__name__}"


def is_scenario(value: Any, scenario_id: str | None = None) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("_id"), str):
        return False
    return scenario_id is None or value["_id"] == scenario_id


def list_shape_problem(body: Any) -> str | None:
    """None when the list answer is `{total, scenarios[]}` with an `_id` on each scenario."""
    if not isinstance(body, dict):
        return "not a JSON object {total, scenarios[]}"
    if not isinstance(body.get("scenarios"), list):
        return "no scenarios[] in the answer"
    if not isinstance(body.get("total"), int):
        return "no numeric total in the answer"
    if not all(is_scenario(item) for item in body["scenarios"]):
        return "a listed scenario has no _id"
    return None


def runs_shape_problem(body: Any) -> str | None:
    """None when the runs answer is `{total, runs[]}` or a list of runs."""
    runs = body.get("runs") if isinstance(body, dict) else body
    if not isinstance(runs, list):
        return "neither {total, runs[]} nor a list of runs"
    if isinstance(body, dict) and not isinstance(body.get("total"), int):
        return "runs[] without a numeric total"
    if not all(isinstance(run, dict) for run in runs):
        return "a run is not a JSON object"
    return None


# --- the check -----------------------------------------------------------------------------


@dataclass
class RouteResult:
    route: str
    status: str = "-"
    verdict: str = "not checked"  # "ok", "differs" or "not checked"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


class ContractCheck:
    def __init__(self, client: ObservedClient) -> None:
        self.client = client
        tag = secrets.token_hex(6)
        self.marker = f"{MARKER_PREFIX}{tag}]"
        self.name = f"(SUB) texter-webhooks contract check {tag}"
        self.results = {route: RouteResult(route) for route in ROUTE_ORDER}
        self.scenario_id: str | None = None
        self.import_sent = False
        self.deleted = False
        self.token_refused = False
        self.cleanup_lines: list[str] = []
        self.leftovers: list[dict[str, Any]] | None = None  # None: could not list at the end

    def run(self) -> None:
        try:
            # Each step needs the one before: stop at the first that leaves nothing to test.
            if self._check_list() and self._check_import():
                self._check_activate()
                self._check_inactivate()
                self._check_runs()
                self._check_delete()
        finally:
            self._clean_up()

    @property
    def passed(self) -> bool:
        return all(r.ok for r in self.results.values()) and self.leftovers == []

    # --- routes ----------------------------------------------------------------------------

    def _judge(self, route: str, outcome: Outcome, verdict: str, detail: str) -> bool:
        result = self.results[route]
        if outcome.answer is not None:
            result.status = str(outcome.answer.status)
        elif isinstance(outcome.exception, TexterAPIError) and outcome.exception.status:
            result.status = str(outcome.exception.status)
        else:
            result.status = "no answer"
        if isinstance(outcome.exception, AuthError | ForbiddenError):
            self.token_refused = True
        if outcome.attempts > 1:
            detail += f" (after {outcome.attempts} attempts)"
        result.verdict, result.detail = verdict, detail
        return verdict == "ok"

    def _failed(self, route: str, outcome: Outcome) -> bool:
        return self._judge(route, outcome, "differs", outcome.error or "failed")

    def _check_list(self) -> bool:
        outcome = call(self.client, self.client.list_scenarios)
        if outcome.error:
            self._skip_rest("the listing failed: nothing is made that could not be seen")
            return self._failed("list", outcome)
        answer = outcome.answer
        problem = list_shape_problem(answer.body if answer else None)
        if problem:
            self._skip_rest("the listing is needed to confirm every other route")
            return self._judge("list", outcome, "differs", f"{problem}: got {describe(answer)}")
        return self._judge(
            "list", outcome, "ok", f"{{total, scenarios[]}} ({len(outcome.value)} scenarios)"
        )

    def _check_import(self) -> bool:
        spec = BodySpec(
            url=THROWAWAY_URL,
            event=EVENT,
            status="inactive",
            display_name=self.name,
            description="Throwaway scenario of the texter-webhooks contract check "
            f"(tooling/contract_check.py); safe to delete. {self.marker}",
        )
        body = render(spec, stack="contract-check")
        self.import_sent = True
        outcome = call(self.client, lambda: self.client.import_scenario(body))
        if outcome.error or not is_scenario(outcome.value):
            # The import may have happened all the same: find it so the cleanup removes it.
            self._adopt_by_marker()
            self._skip_rest("needs the imported scenario")
            if outcome.error:
                return self._failed("import", outcome)
            got = describe(outcome.answer)
            return self._judge("import", outcome, "differs", f"no Scenario with _id: got {got}")
        self.scenario_id = outcome.value["_id"]
        listed = self._listed_status()
        if listed != "inactive":
            self._skip_rest("needs the imported scenario in the listing")
            return self._judge(
                "import", outcome, "differs", f"imported {self.scenario_id}, listed: {listed}"
            )
        note = "" if outcome.answer and outcome.answer.status == 201 else " (the docs say 201)"
        return self._judge(
            "import", outcome, "ok", f"Scenario {self.scenario_id}, inactive in the listing{note}"
        )

    def _check_activate(self) -> None:
        scenario_id = self._made()
        outcome = call(self.client, lambda: self.client.activate(scenario_id))
        self._check_toggle("activate", outcome, want="active")

    def _check_inactivate(self) -> None:
        scenario_id = self._made()
        # Checked by the listing, not by activate's answer: an activate that failed may
        # still have activated it, and then it must be inactivated all the same.
        if self._listed_status() != "active":
            self.results["inactivate"].detail = "needs an active scenario; activate gave none"
            return
        outcome = call(self.client, lambda: self.client.inactivate(scenario_id))
        self._check_toggle("inactivate", outcome, want="inactive")

    def _check_toggle(self, route: str, outcome: Outcome, *, want: str) -> None:
        """A Scenario with this `_id`, or a bodyless/`OK` 2xx; either way the listing decides."""
        if outcome.error:
            self._failed(route, outcome)
            return
        if outcome.value and not is_scenario(outcome.value, self.scenario_id):
            # A JSON answer is taken as the Scenario: without the right _id it is not one.
            got = describe(outcome.answer)
            self._judge(route, outcome, "differs", f"not this Scenario: got {got}")
            return
        reply = "Scenario" if outcome.value else describe(outcome.answer)
        listed = self._listed_status()
        if listed != want:
            self._judge(route, outcome, "differs", f"answered {reply}, but listed as {listed}")
            return
        self._judge(route, outcome, "ok", f"{reply}; {want} in the listing")

    def _check_runs(self) -> None:
        scenario_id = self._made()
        outcome = call(self.client, lambda: self.client.list_runs(scenario_id))
        body = outcome.answer.body if outcome.answer else None
        problem = runs_shape_problem(body)
        if outcome.error and outcome.answer and outcome.answer.status < 300 and not problem:
            # e.g. a bare list: a shape the docs allow, that the client fails to read.
            detail = f"{describe(outcome.answer)} (an expected shape), but {outcome.error}"
            self._judge("runs", outcome, "differs", detail)
        elif outcome.error:
            self._failed("runs", outcome)
        elif problem:
            self._judge("runs", outcome, "differs", f"{problem}: got {describe(outcome.answer)}")
        else:
            shape = "a list of runs" if isinstance(body, list) else "{total, runs[]}"
            self._judge("runs", outcome, "ok", f"{shape} ({len(outcome.value)} runs)")

    def _check_delete(self) -> None:
        scenario_id = self._made()
        outcome = call(self.client, lambda: self.client.delete(scenario_id))
        if outcome.error:
            self._failed("delete", outcome)
            return
        reply = describe(outcome.answer)
        listed = self._listed_status()
        if listed != "gone":
            self._judge("delete", outcome, "differs", f"answered {reply}, but listed: {listed}")
            return
        self.deleted = True
        self._judge("delete", outcome, "ok", f"{reply}; gone from the listing")

    # --- helpers ---------------------------------------------------------------------------

    def _skip_rest(self, reason: str) -> None:
        for result in self.results.values():
            if result.verdict == "not checked" and not result.detail:
                result.detail = reason

    def _made(self) -> str:
        if self.scenario_id is None:
            raise RuntimeError("no scenario was imported")  # run() checks import first
        return self.scenario_id

    def _listed_status(self) -> str:
        """`active`/`inactive`/`draft`, `gone`, or why the listing could not tell."""
        try:
            found = self.client.get_scenario(self._made())
        except Exception as exc:
            return f"unknown (listing failed: {redact_urls(str(exc))})"
        return "gone" if found is None else scenario_status(found)

    def _adopt_by_marker(self) -> None:
        try:
            found = self.client.find_by_marker(self.marker)
        except Exception:  # the final listing of the cleanup reports it
            return
        if found:
            self.scenario_id = found[0]["_id"]

    # --- cleanup ---------------------------------------------------------------------------

    def _clean_up(self) -> None:
        """Remove what the check made, whatever happened before; never raises."""
        if not self.import_sent:
            self.leftovers = []  # nothing was sent that could have made a scenario
            return
        targets = [] if self.deleted or self.scenario_id is None else [self.scenario_id]
        try:
            # An import that failed may have created one anyway: anything with the marker.
            extra = [s["_id"] for s in self.client.find_by_marker(self.marker)]
        except Exception:
            extra = []
        targets += [scenario_id for scenario_id in extra if scenario_id not in targets]
        for scenario_id in targets:
            self._remove(scenario_id)
        self._final_listing()

    def _remove(self, scenario_id: str) -> None:
        try:
            self.client.delete(scenario_id)
            self.cleanup_lines.append(f"cleanup: deleted {scenario_id}")
            return
        except Exception as exc:
            failure = redact_urls(str(exc))
        done = self._make_inert(scenario_id)
        self.cleanup_lines.append(f"cleanup: delete of {scenario_id} failed ({failure}); {done}")

    def _make_inert(self, scenario_id: str) -> str:
        """Cannot delete: at least make sure it delivers nothing."""
        try:
            found = self.client.get_scenario(scenario_id)
            if found is None:
                return "it is gone from the listing all the same"
            if scenario_status(found) != "active":
                return f"it is {scenario_status(found)}, so it delivers nothing"
            self.client.inactivate(scenario_id)
        except Exception as exc:
            return f"inactivating it failed too ({redact_urls(str(exc))})"
        return "inactivated it instead"

    def _final_listing(self) -> None:
        try:
            self.leftovers = self.client.find_by_marker(self.marker)
        except Exception as exc:
            self.cleanup_lines.append(
                f"cleanup: could not list to confirm ({redact_urls(str(exc))}): look for "
                f"{self.marker} in the Texter UI"
            )
            return
        if not self.leftovers:
            self.cleanup_lines.append(
                f"cleanup: nothing left behind (no scenario carries {self.marker})"
            )
        for scenario in self.leftovers:
            self.cleanup_lines.append(
                f"cleanup: LEFT BEHIND {scenario.get('_id')} ({scenario_status(scenario)}), "
                f"carrying {self.marker}: remove it in the Texter UI"
            )


# --- report --------------------------------------------------------------------------------


def report_lines(check: ContractCheck) -> list[str]:
    lines = []
    for route in ROUTE_ORDER:
        result = check.results[route]
        method, path = ROUTES[route]
        lines.append(
            f"{route:<10} {method:<6} {path:<34} {result.status:<9} {result.verdict}: "
            f"{result.detail}"
        )
    lines += check.cleanup_lines
    lines.append("routes no public page documents (docs/texter-api.md §1):")
    for route in UNDOCUMENTED:
        result = check.results[route]
        if result.ok:
            lines.append(f"  {route:<10} confirmed")
        elif result.verdict == "differs":
            lines.append(f"  {route:<10} differs: {result.detail}")
        else:
            lines.append(f"  {route:<10} differs: not checked ({result.detail})")
    if check.passed:
        lines.append("result: every route behaves as the client expects")
    else:
        lines.append(
            "result: NOT as the client expects; correct ROUTES in "
            "src/texter_webhooks/texter/client.py (or the client) before using this tenant"
        )
    return lines


def exit_code(check: ContractCheck) -> int:
    if check.token_refused:
        return 2
    return 0 if check.passed else 1


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.contract_check",
        description="Check the Texter API routes the client assumes against a real tenant, "
        "with one throwaway inactive scenario that is removed afterwards.",
    )
    parser.add_argument(
        "--stack",
        help="read texter:baseUrl and texter:token from this stack's config (`pulumi config "
        "get`) instead of the TEXTER_BASE_URL and TEXTER_TOKEN env vars",
    )
    parser.add_argument(
        "--deadline", type=float, default=30.0, help="seconds per API call, retries included"
    )
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    try:
        target = resolve_target(args.stack, os.environ)
        client = ObservedClient(
            target.base_url, target.token, policy=RetryPolicy(deadline=args.deadline)
        )
    except (ConfigError, ValueError) as exc:
        print(f"contract-check: {exc}", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        # Belt and braces: no message the client builds holds the token, but a tenant's
        # error text is Texter's to write.
        print(line.replace(target.token, "***"), file=stream, flush=True)

    say(f"contract check of {client.base_url} ({target.source})")
    check = ContractCheck(client)
    try:
        check.run()
    except KeyboardInterrupt:
        # run() has cleaned up on its way out; say what was found and left.
        say("interrupted")
    for line in report_lines(check):
        say(line)
    if check.token_refused:
        say("the token was refused (HTTP 401/403): it needs the seven scenario scopes")
    return exit_code(check)


if __name__ == "__main__":
    sys.exit(main())
