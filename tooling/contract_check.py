"""`make contract-check`: do the Texter routes the client assumes work on a real tenant?

    python -m tooling.contract_check                # TEXTER_BASE_URL and TEXTER_TOKEN
    python -m tooling.contract_check --stack dev    # texter:baseUrl / texter:token of a stack

Texter's pages give the paths of import and list only (docs/texter-api.md §1). The paths
of activate, inactivate, delete, runs and of the update path the provider takes (update_draft,
create_revision, activate by version, delete_revision) are the client's best reading
(`ROUTES` in texter_webhooks/texter/client.py), to be confirmed on a live tenant: this is
that confirmation.

It makes exactly one throwaway scenario, imported INACTIVE, named `(SUB) texter-webhooks
contract check <random>` with a marker in its description, and goes through list, import,
activate, inactivate (at once, so it is never left active), then the update path on the
same scenario: update_draft (a rename), create_revision (published inactive, so what runs
does not change), activate by version of the OLDER version while the new one is the newest
(inactivated at once, as before) and delete_revision of the newer version, inactive by then;
then runs and delete. Activating the older version is what shows that `version` is honoured:
a tenant that ignores it resumes the newest revision, which the listing then shows running
(reported as "ignored `version`"). Each call goes through `TexterClient`, and a step that
fails skips the steps that need it, saying why. Whatever fails, it then removes what it made
(delete, else inactivate) and lists once more to report anything still carrying its marker.

Output: one line per route (method and path, HTTP status, whether the answer is what the
client expects), then a summary for the routes no public page documents (activate by
version on a line of its own). Exit codes: 0 every route behaves as the client expects,
1 otherwise, 2 bad configuration (missing or refused credentials). The token is never
printed.
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
from texter_webhooks.texter.client import ROUTES, RetryPolicy, TexterClient
from texter_webhooks.texter.errors import AuthError, ForbiddenError, TexterAPIError
from texter_webhooks.texter.scenario import current_revision, scenario_status

REPO_ROOT = Path(__file__).resolve().parents[1]
# Texter's update path as the provider takes it; each step works on what the one before made.
UPDATE_PATH = ("update_draft", "create_revision", "activate (version)", "delete_revision")
ROUTE_ORDER = ("list", "import", "activate", "inactivate", *UPDATE_PATH, "runs", "delete")
# Report lines that check a client route with a request of their own, which the docs do not
# give either: line -> (`ROUTES` name, what the request adds).
ROUTE_VARIANTS = {"activate (version)": ("activate", '{"version": n}')}
# docs/texter-api.md §1: no public page gives these routes' method and path.
UNDOCUMENTED = ("activate", "inactivate", "delete", "runs", *UPDATE_PATH)
REVISION_COMMENT = "texter-webhooks contract check"
MARKER_PREFIX = "[texter-webhooks-contract-check:"
# The scenario is active for the instant between activate and inactivate. A rare event and a
# reserved domain (RFC 2606) mean that even a delivery in that instant reaches nobody.
EVENT = "channelHealthProblemResolved"
THROWAWAY_URL = "https://example.com/texter-webhooks-contract-check"
# Sent as the throwaway's bearer token (not a secret): `secretIn: header` relies on Texter
# keeping a request action's `headers`, which only its marketplace templates show.
HEADER_PROBE = "texter-webhooks-contract-check-probe"


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


def _sent_header(scenario: Mapping[str, Any]) -> str:
    """`kept` when the listed request action carries the probe header as sent."""
    wanted = f"Bearer {HEADER_PROBE}"
    for action in current_revision(scenario).get("actions") or []:
        headers = (action.get("params") or {}).get("headers") if isinstance(action, dict) else None
        if isinstance(headers, dict) and headers.get("Authorization") == wanted:
            return "kept"
    return "no Authorization header"


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


def revision_versions(scenario: Mapping[str, Any], *, running: bool = True) -> list[int]:
    """The version numbers a Scenario lists, ascending; `running=False`: inactive ones only."""
    revisions = list(scenario.get("inactiveRevisions") or [])
    if running and scenario.get("activeRevision"):
        revisions.append(scenario["activeRevision"])
    return sorted(
        r["version"] for r in revisions if isinstance(r, dict) and isinstance(r.get("version"), int)
    )


def running_state(scenario: Mapping[str, Any]) -> str:
    """The status, naming the version when active: activate by version must run *that* one."""
    status = scenario_status(scenario)
    active = scenario.get("activeRevision")
    if status != "active" or not isinstance(active, dict):
        return status
    return f"active (version {active.get('version')})"


def version_state(version: int) -> Callable[[Mapping[str, Any]], str]:
    """A listing state for delete_revision: `gone` once no revision has `version`."""

    def state(scenario: Mapping[str, Any]) -> str:
        return (
            f"version {version} still there" if version in revision_versions(scenario) else "gone"
        )

    return state


def draft_problem(value: Any, scenario_id: str, name: str) -> str | None:
    """None when update_draft's answer is this Scenario, with a draft named `name` beside the
    revisions it had."""
    if not is_scenario(value, scenario_id):
        return "not this Scenario"
    drafts = value.get("drafts")
    if not isinstance(drafts, list) or not drafts:
        return "no draft in drafts[]"
    if not any(isinstance(draft, dict) and draft.get("name") == name for draft in drafts):
        # The operations were not applied (e.g. ignored), though a draft was started.
        return "no draft carries the new name"
    if not revision_versions(value):
        # The provider takes this answer as the scenario as it stands: it needs the revisions.
        return "no revision versions in the answer"
    return None


def published_problem(value: Any, scenario_id: str, older: int) -> str | None:
    """None when create_revision's answer is this Scenario, with an inactive version above
    `older`, no draft left and still nothing running."""
    if not is_scenario(value, scenario_id):
        return "not this Scenario"
    if value.get("drafts"):
        return "a draft is left"
    if value.get("activeRevision"):
        # The provider relies on a publish leaving what runs alone until activate {version}.
        return "a revision runs now"
    if max(revision_versions(value, running=False), default=0) <= older:
        return f"no inactive version above {older}"
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
                if self._check_inactivate():
                    self._check_update_path()
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

    def _differs(self, route: str, outcome: Outcome, problem: str | None) -> bool:
        """The call's error, else the `problem` of its answer, with what the answer was."""
        if outcome.error:
            return self._failed(route, outcome)
        return self._judge(route, outcome, "differs", f"{problem}: got {describe(outcome.answer)}")

    def _judge_answer(self, route: str, outcome: Outcome, problem: str | None, ok: str) -> bool:
        """Differs when the call failed or its answer has `problem`; else ok, saying `ok`."""
        if outcome.error or problem:
            return self._differs(route, outcome, problem)
        return self._judge(route, outcome, "ok", ok)

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
            bearer_token=HEADER_PROBE,
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
            return self._differs("import", outcome, "no Scenario with _id")
        self.scenario_id = outcome.value["_id"]
        listed = self._listed()
        if listed != "inactive":
            self._skip_rest("needs the imported scenario in the listing")
            return self._judge(
                "import", outcome, "differs", f"imported {self.scenario_id}, listed: {listed}"
            )
        kept = self._listed(_sent_header, missing="gone")
        if kept != "kept":
            return self._judge(
                "import",
                outcome,
                "differs",
                f"imported {self.scenario_id}, but its request action lists {kept}: "
                "Texter did not keep the Authorization header (`secretIn: header` needs it; "
                "use `secretIn: path`)",
            )
        note = "" if outcome.answer and outcome.answer.status == 201 else " (the docs say 201)"
        return self._judge(
            "import",
            outcome,
            "ok",
            f"Scenario {self.scenario_id}, inactive in the listing, headers kept{note}",
        )

    def _check_activate(self) -> None:
        scenario_id = self._made()
        outcome = call(self.client, lambda: self.client.activate(scenario_id))
        self._check_toggle("activate", outcome, want="active")

    def _check_inactivate(self) -> bool:
        """Inactivates at once what the last activate left running (each activate is followed
        by this); True when the listing shows it inactive afterwards."""
        # Checked by the listing, not by activate's answer: an activate that failed may
        # still have activated it, and then it must be inactivated all the same.
        listed = self._listed()
        if listed == "active":
            scenario_id = self._made()
            outcome = call(self.client, lambda: self.client.inactivate(scenario_id))
            inactive = self._check_toggle("inactivate", outcome, want="inactive")
        else:
            result = self.results["inactivate"]
            if not result.detail:  # after activate (version), keep what the first pass found
                result.detail = "needs an active scenario; activate gave none"
            inactive = listed == "inactive"
        if not inactive:
            # The update path works on an inactive scenario only, so that it is never active
            # for longer than one activate and inactivate.
            self._skip_rest(
                "needs the scenario inactive; inactivate did not leave it so", UPDATE_PATH
            )
        return inactive

    def _check_toggle(
        self,
        route: str,
        outcome: Outcome,
        *,
        want: str,
        state: Callable[[Mapping[str, Any]], str] = scenario_status,
        unwanted: Mapping[str, str] | None = None,
    ) -> bool:
        """A Scenario with this `_id`, or a bodyless/`OK` 2xx; either way the listing decides,
        by the scenario's `state` there. `unwanted`: listed states with what they mean."""
        # A JSON answer is taken as the Scenario: without the right _id it is not one.
        if outcome.error or (outcome.value and not is_scenario(outcome.value, self.scenario_id)):
            return self._differs(route, outcome, "not this Scenario")
        reply = "Scenario" if outcome.value else describe(outcome.answer)
        listed = self._listed(state)
        if listed != want:
            detail = f"answered {reply}, but listed as {listed}"
            meaning = (unwanted or {}).get(listed)
            if meaning:
                detail = f"{meaning} ({detail})"
            return self._judge(route, outcome, "differs", detail)
        return self._judge(route, outcome, "ok", f"{reply}; {want} in the listing")

    def _check_update_path(self) -> None:
        """update_draft, create_revision, activate (version), delete_revision, in this order."""
        older = self._check_update_draft()
        newer = None if older is None else self._check_create_revision(older)
        if older is not None and newer is not None:
            # The older one: activating the newest cannot tell whether `version` is honoured.
            self._check_activate_version(older, newest=newer)
        # At once, as after the first activate (or should a draft or a publish have gone live).
        if self._check_inactivate() and older is not None and newer is not None:
            # The newer one, inactive now: the older one is what the scenario keeps.
            self._check_delete_revision(newer)

    def _check_update_draft(self) -> int | None:
        """Renames the draft; the highest version the scenario had, or None on failure."""
        scenario_id = self._made()
        name = f"{self.name} (revised)"  # still `(SUB) …`, as every subscription's name
        outcome = call(
            self.client, lambda: self.client.update_draft(scenario_id, [{"rename": name}])
        )
        problem = draft_problem(outcome.value, scenario_id, name)
        if not self._judge_answer(
            "update_draft", outcome, problem, "Scenario with a draft of the new name"
        ):
            self._skip_rest("needs the draft update_draft makes", UPDATE_PATH)
            return None
        return max(revision_versions(outcome.value))

    def _check_create_revision(self, older: int) -> int | None:
        """Publishes the draft; the new version, or None on failure."""
        scenario_id = self._made()
        outcome = call(
            self.client, lambda: self.client.create_revision(scenario_id, REVISION_COMMENT)
        )
        problem = published_problem(outcome.value, scenario_id, older)
        newer = None if problem else max(revision_versions(outcome.value, running=False))
        ok = f"Scenario, version {newer} published inactive, no draft left"
        if not self._judge_answer("create_revision", outcome, problem, ok):
            self._skip_rest("needs the revision create_revision publishes", UPDATE_PATH)
            return None
        return newer

    def _check_activate_version(self, version: int, *, newest: int) -> None:
        """Activates `version`, older than `newest`; the listing must show `version` running,
        not the newest (which a tenant ignoring `version` would resume)."""
        scenario_id = self._made()
        outcome = call(self.client, lambda: self.client.activate(scenario_id, version=version))
        want = f"active (version {version})"
        ignored = {f"active (version {newest})": f"ignored `version`: the newest ({newest}) runs"}
        self._check_toggle(
            "activate (version)", outcome, want=want, state=running_state, unwanted=ignored
        )

    def _check_delete_revision(self, version: int) -> None:
        scenario_id = self._made()
        self._check_removal(
            "delete_revision",
            lambda: self.client.delete_revision(scenario_id, version),
            confirmed=f"version {version} gone from the listing",
            state=version_state(version),
            missing="the whole scenario gone",
        )

    def _check_runs(self) -> None:
        scenario_id = self._made()
        outcome = call(self.client, lambda: self.client.list_runs(scenario_id))
        body = outcome.answer.body if outcome.answer else None
        problem = runs_shape_problem(body)
        if outcome.error and outcome.answer and outcome.answer.status < 300 and not problem:
            # e.g. a bare list: a shape the docs allow, that the client fails to read.
            detail = f"{describe(outcome.answer)} (an expected shape), but {outcome.error}"
            self._judge("runs", outcome, "differs", detail)
        elif outcome.error or problem:
            self._differs("runs", outcome, problem)
        else:
            shape = "a list of runs" if isinstance(body, list) else "{total, runs[]}"
            self._judge("runs", outcome, "ok", f"{shape} ({len(outcome.value)} runs)")

    def _check_delete(self) -> None:
        scenario_id = self._made()
        self.deleted = self._check_removal(
            "delete", lambda: self.client.delete(scenario_id), confirmed="gone from the listing"
        )

    def _check_removal(
        self,
        route: str,
        operation: Callable[[], Any],
        *,
        confirmed: str,
        state: Callable[[Mapping[str, Any]], str] = scenario_status,
        missing: str = "gone",
    ) -> bool:
        """Any 2xx (JSON, empty or `OK`) will do: the listing decides. The scenario's `state`
        there (`missing` when it is not listed) must read `gone`; the report then says
        `confirmed`."""
        outcome = call(self.client, operation)
        if outcome.error:
            return self._failed(route, outcome)
        reply = describe(outcome.answer)
        listed = self._listed(state, missing=missing)
        if listed != "gone":
            return self._judge(route, outcome, "differs", f"answered {reply}, but listed: {listed}")
        return self._judge(route, outcome, "ok", f"{reply}; {confirmed}")

    # --- helpers ---------------------------------------------------------------------------

    def _skip_rest(self, reason: str, among: tuple[str, ...] = ROUTE_ORDER) -> None:
        """Gives `reason` to the routes (of `among`) not checked and not yet given one."""
        for route in among:
            result = self.results[route]
            if result.verdict == "not checked" and not result.detail:
                result.detail = reason

    def _made(self) -> str:
        if self.scenario_id is None:
            raise RuntimeError("no scenario was imported")  # run() checks import first
        return self.scenario_id

    def _listed(
        self,
        state: Callable[[Mapping[str, Any]], str] = scenario_status,
        *,
        missing: str = "gone",
    ) -> str:
        """The scenario's `state` in the listing (by default `active`/`inactive`/`draft`),
        `missing` when it is not listed, or why the listing could not tell."""
        try:
            found = self.client.get_scenario(self._made())
        except Exception as exc:
            return f"unknown (listing failed: {redact_urls(str(exc))})"
        return missing if found is None else state(found)

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


NAME_WIDTH = max(map(len, ROUTE_ORDER))


def shown_route(name: str) -> tuple[str, str]:
    """Method and path of a report line; a variant's path also shows what sets it apart."""
    route, adds = ROUTE_VARIANTS.get(name, (name, ""))
    method, path = ROUTES[route]
    return method, f"{path} {adds}".rstrip()


def route_lines(check: ContractCheck) -> list[str]:
    shown = {route: shown_route(route) for route in ROUTE_ORDER}
    path_width = max(len(path) for _, path in shown.values())
    lines = []
    for route, (method, path) in shown.items():
        result = check.results[route]
        lines.append(
            f"{route:<{NAME_WIDTH}} {method:<6} {path:<{path_width}} {result.status:<9} "
            f"{result.verdict}: {result.detail}"
        )
    return lines


def summary_lines(check: ContractCheck) -> list[str]:
    lines = ["routes no public page documents (docs/texter-api.md §1):"]
    for route in UNDOCUMENTED:
        result = check.results[route]
        if result.ok:
            verdict = "confirmed"
        elif result.verdict == "differs":
            verdict = f"differs: {result.detail}"
        else:
            verdict = f"differs: not checked ({result.detail})"
        lines.append(f"  {route:<{NAME_WIDTH}} {verdict}")
    return lines


def report_lines(check: ContractCheck) -> list[str]:
    lines = [*route_lines(check), *check.cleanup_lines, *summary_lines(check)]
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
