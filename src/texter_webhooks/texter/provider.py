"""The dynamic provider behind TexterSubscription.

A change of what the scenario *says* (name, triggers, conditions, actions: the URL and
headers in them) is made in place, as Texter documents it (docs/texter-api.md §1): draft
operations, a new revision, its activation. The scenario keeps its `_id`, its run history
and its marker, and the preview says `~ update`. Only what no draft operation can change,
the description (it holds the ownership marker), replaces the scenario, create-before-
delete. Status changes in place; attribution (`author_uid`), `on_destroy` and `adopt` in
state only. Whether the content changed is decided by rendering both sides with the code
in force, never by a stored hash, so a release that derives the hash differently changes
nothing.

Invariants, each proven by a test through the CLI (tests/e2e/test_invariants.py,
tests/e2e/test_ownership.py, tests/e2e/test_in_place_updates.py):

- A scenario held by a state entry is written only by that entry's operations (and
  retired by its delete): a create owns only the scenario it imported itself, under a
  marker new to that create (see `ownership`), and retires nothing but a hand-made
  scenario it adopts; an update touches its own scenario and its twins.
- An in-place update chooses each step from what Texter holds now, so one cut short
  (draft written, revision published, not yet active) is finished by the next `up`: no
  second scenario, none lost.
- The scenario a replacement supersedes is retired by the engine's delete of the old
  resource, once the new one is recorded (and kept, with `retain_on_delete`).
- A create that fails after its import landed deletes what it imported, and says which.
- An active scenario with the stack's key that no state entry holds (a create killed
  before Pulumi recorded it, an older one re-activated by hand) is reported by `refresh`
  and retired by the next `up` and by `destroy` (`stack`; tests/e2e/test_orphans.py).

The provider is pickled into state: it holds no credentials and no HTTP session. Both
come from `configure()` (stack config `texter:baseUrl` / `texter:token`) in the provider
process, which serves many resources at once: everything here is thread-safe.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    Config,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from texter_webhooks.texter import content, draft, ownership
from texter_webhooks.texter.body import (
    BodySpec,
    canonical_json,
    mask_url,
    masked,
    render,
    request_urls,
)
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.errors import (
    AmbiguousWriteError,
    AuthError,
    ConflictError,
    NotFoundError,
    TemplateError,
    TexterAPIError,
    ValidationError,
)
from texter_webhooks.texter.inputs import CONTENT_INPUTS, ON_DESTROY, STATUSES, UPDATE_INPUTS
from texter_webhooks.texter.props import BODY_KEYS, SubscriptionProps
from texter_webhooks.texter.scenario import current_revision, scenario_name, scenario_status
from texter_webhooks.texter.snapshot import ListingSnapshot
from texter_webhooks.texter.unknowns import UNKNOWN, contains_unknown, is_known, is_unknown

log = logging.getLogger(__name__)

OUTPUT_KEYS = ("subscription_id", "live_status", "body", "twins", "drifted")
# Where the SDK keeps the pickled provider, in inputs and in state.
PROVIDER_KEY = "__provider"
# What an unknown URL is rendered as while validating the rest of the body.
_STAND_IN_URL = "https://unknown.invalid/"
_NOT_SHAPING_DESCRIPTION = ("url", "bearer_token", "status", "author_uid")
# Hand edits a new revision repairs (`content.changed_fields`); any other needs a new scenario.
DRAFTABLE_DRIFT = frozenset(content.CONTENT_KEYS) - set(draft.NOT_DRAFTABLE)
# Steps of an in-place update (draft, publish, activate), with room to re-read after an
# answer that was lost.
_UPDATE_STEPS = 8


def recorded_elsewhere(pickled: Any) -> bool:
    """Whether a provider pickled into state names a class other than this one, e.g.
    `infra.texter.provider.TexterSubscriptionProvider` of releases before 0.2.

    dill pickles the class by reference, so its module and name are plain strings in
    the pickle: found without unpickling, which could fail for a module that is gone.
    """
    if not isinstance(pickled, str) or not pickled or is_unknown(pickled):
        return False
    try:
        raw = base64.b64decode(pickled, validate=True)
    except ValueError:
        return True
    cls = TexterSubscriptionProvider
    return not (cls.__module__.encode() in raw and cls.__qualname__.encode() in raw)


class TexterProviderError(Exception):
    """A provider operation failed; the message names the resource and never a secret."""


class TexterSubscriptionProvider(ResourceProvider):
    def __init__(self) -> None:
        super().__init__()
        self._client: TexterClient | None = None
        self._config_error: str | None = None
        self._lock = threading.Lock()
        self._run_start_listing: ListingSnapshot | None = None
        self._listing: ListingSnapshot | None = None

    # Pickled into state: only the class reference matters, never runtime members.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, _state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def configure(self, req: ConfigureRequest) -> None:
        base_url = req.config.get("texter:baseUrl")
        token = req.config.get("texter:token")
        missing = [
            key
            for key, value in (("texter:baseUrl", base_url), ("texter:token", token))
            if not value
        ]
        if missing:
            self._config_error = (
                f"stack config {' and '.join(missing)} not set: "
                "`pulumi config set texter:baseUrl https://<project>.texterchat.com/server/api/v2` "
                "and `pulumi config set --secret texter:token <token>`"
            )
            return
        try:
            self._client = TexterClient(str(base_url), str(token), policy=_policy(req.config))
        except ValueError as exc:
            self._config_error = str(exc)

    @property
    def run_start_listing(self) -> ListingSnapshot:
        """One listing for every pre-create lookup of this process. They look for
        scenarios made by *earlier* runs, so a listing from before this run's own imports
        serves them all: N creates cost N imports and one list."""
        with self._lock:
            if self._run_start_listing is None:
                self._run_start_listing = ListingSnapshot(self.client.list_scenarios)
            return self._run_start_listing

    @property
    def listing(self) -> ListingSnapshot:
        """The listing shared by reads (refresh: N reads, one list); dropped on every write
        of this process (`_wrote`), so a read never misses what it just changed."""
        with self._lock:
            if self._listing is None:
                self._listing = ListingSnapshot(self.client.list_scenarios)
            return self._listing

    def _wrote(self) -> None:
        with self._lock:
            if self._listing is not None:
                self._listing.invalidate()

    @property
    def client(self) -> TexterClient:
        if self._client is None:
            raise TexterProviderError(self._config_error or "the provider was not configured")
        return self._client

    # --- check / diff: no API calls -------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        name = news.get("resource_name", "?")
        if self._config_error:
            failures.append(CheckFailure("texter", self._config_error))
        # During a preview an input may still be unknown (an Output of another resource):
        # it is checked again, known, when `up` applies it.
        if is_known(news.get("status")) and news.get("status") not in STATUSES:
            failures.append(CheckFailure("status", f"{name}: status must be active or inactive"))
        stack_key = news.get("stack_key")
        if is_known(stack_key) and stack_key is not None and not ownership.is_key(stack_key):
            failures.append(CheckFailure("stack_key", f"{name}: stack_key must be 16 hex digits"))
        if news.get("on_destroy") not in ON_DESTROY:
            failures.append(
                CheckFailure("on_destroy", f"{name}: on_destroy must be inactivate or delete")
            )
        inputs = dict(news)
        # The ownership key: kept from state, drawn for a new resource (see ownership).
        inputs["marker"] = ownership.resource_key(olds.get("marker"), olds.get("marker_origin"))
        inputs["marker_origin"] = ownership.KEY_ORIGIN
        if failures:
            return CheckResult(inputs, failures)
        url = news.get("url")
        url_unknown = is_unknown(url)
        body_inputs = {k: news.get(k) for k in BODY_KEYS if k != "url"}
        if contains_unknown(body_inputs):
            inputs["body_hash"] = UNKNOWN
        else:
            # An unknown URL (first preview): validate the rest with a stand-in and leave
            # the hash unknown, so the change shows and nothing fails.
            stand_in = _STAND_IN_URL if url_unknown else url
            # Known now, but for stack_key (not read here) and the URL's stand-in.
            spec = SubscriptionProps.parse(news).spec(url=stand_in)
            rendering = _rendering(spec, news["stack"])
            if rendering.error is not None:
                exc = rendering.error
                failures.append(CheckFailure(exc.field, f"{name}: {exc}"))
                return CheckResult(inputs, failures)
            inputs["body_hash"] = UNKNOWN if url_unknown else rendering.content_hash
        # The URL is usually secret, so the CLI shows it as [secret] either way: a short
        # fingerprint makes a changed URL visible in `preview --diff` without revealing it.
        inputs["url_fingerprint"] = UNKNOWN if url_unknown else url_fingerprint(str(url))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Only the meaningful inputs: never the pickled provider's bytes (they change with
        # every edit of this code), never outputs or derived inputs (body_hash).
        changed = [
            k for k in (*CONTENT_INPUTS, *UPDATE_INPUTS) if _differs(olds.get(k), news.get(k))
        ]
        replaces: list[str] = []
        if self._content_of_inputs(olds) != self._content_of_inputs(news) or olds.get("drifted"):
            # A new revision of the same scenario, unless drafts cannot say it.
            content_changed = [k for k in changed if k in CONTENT_INPUTS] or ["body_hash"]
            if self._needs_new_scenario(olds, news):
                replaces = content_changed
            else:
                changed = list(dict.fromkeys([*changed, *content_changed]))
        else:
            # A content input that renders the same content (or a new hash derivation).
            changed = [k for k in changed if k not in CONTENT_INPUTS]
        if olds.get("marker") != news.get("marker"):
            # A key of an older release (derived from names), or one drawn anew by a
            # replacement: recorded in state, no API call. The live scenario keeps the
            # marker it was imported with; twins are told by that full marker.
            changed.append("marker")
        if olds.get("twins"):
            changed.append("twins")  # refresh found some: update retires them
        # A provider recorded under another import path is an update with no API call:
        # refresh and destroy unpickle the one in state, so it must name a module that
        # still exists. (A refresh diffs the state against itself: both sides then hold the
        # old record.)
        if recorded_elsewhere(olds.get(PROVIDER_KEY)) and not recorded_elsewhere(
            news.get(PROVIDER_KEY)
        ):
            changed.append(PROVIDER_KEY)
        return DiffResult(
            changes=bool(changed or replaces),
            replaces=replaces,
            stables=[],
            delete_before_replace=False,
        )

    def _needs_new_scenario(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Whether the change is one no draft can make: the description (it holds the
        ownership marker), as the inputs or a hand edit in Texter changed it."""
        drifted = olds.get("drifted") or []
        if any(field not in DRAFTABLE_DRIFT for field in drifted):
            return True
        old, new = self._description_of(olds), self._description_of(news)
        return old is None or new is None or old != new

    def _description_of(self, inputs: Mapping[str, Any]) -> str | None:
        """The description `inputs` render to (marker aside); None while unknown. The URL
        and token never shape it, so they may still be unknown (a first preview): they are
        stood in for, and the inputs parsed only once the rest is known."""
        shaping = {k: inputs.get(k) for k in BODY_KEYS if k not in _NOT_SHAPING_DESCRIPTION}
        if contains_unknown(shaping):
            return None
        props = SubscriptionProps.parse(inputs)
        stand_ins = {"url": _STAND_IN_URL, "bearer_token": None, "status": "active"}
        try:
            rendering = _rendering(props.spec(**stand_ins), props.stack_name)
        except KeyError:
            return "not renderable"
        return "not renderable" if rendering.error is not None else rendering.description

    def _drifted_fields(self, props: SubscriptionProps, scenario: dict[str, Any]) -> list[str]:
        """Which content fields a hand edit changed (`status` drifts on its own)."""
        try:
            desired = render(props.spec(status="active"), stack=props.stack_name)
        except (TemplateError, KeyError):
            return ["content"]
        return content.changed_fields(desired, scenario) or ["content"]

    def _content_of_inputs(self, inputs: Mapping[str, Any]) -> str | None:
        """`_content_of` of inputs a preview may not know yet (diff): None while one is
        unknown, so it compares as changed. Parsed only once known (the status is not
        read: content is rendered as if active)."""
        if contains_unknown({k: inputs.get(k) for k in BODY_KEYS if k != "status"}):
            return None
        return self._content_of(SubscriptionProps.parse(inputs))

    def _content_of(self, props: SubscriptionProps) -> str:
        """The content hash `props` render to with this code, a fixed token for inputs
        this code refuses. Never a stored hash: a release that derives it differently
        changes nothing."""
        # Content is rendered as if active: the status changes in place, never the content.
        try:
            rendering = _rendering(props.spec(status="active"), props.stack_name)
        except KeyError:
            return "not renderable"
        return "not renderable" if rendering.error is not None else rendering.content_hash

    # --- create / read / update / delete ------------------------------------------------

    # The SDK's dicts are parsed once, here at each entry point, into SubscriptionProps;
    # what an operation returns is built from the dict it was given (see `props`).
    # Each write drops the shared listing, so no later read in this process misses it.
    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            scenario, wanted_hash = self._create(SubscriptionProps.parse(props))
            return CreateResult(scenario["_id"], self._outputs(props, scenario, wanted_hash))
        finally:
            self._wrote()

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        try:
            scenario = self._update(
                id_, SubscriptionProps.parse(olds), SubscriptionProps.parse(news)
            )
        finally:
            self._wrote()
        # Every output is returned: the SDK's default update would drop the ones not given.
        outputs = {**olds, **news, "twins": None}
        if scenario is not None:
            outputs.update(self._outputs(news, scenario, news["body_hash"]))
            outputs["drifted"] = None
        return UpdateResult(outputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            self._delete(id_, SubscriptionProps.parse(props))
        finally:
            self._wrote()

    def _create(self, props: SubscriptionProps) -> tuple[dict[str, Any], str]:
        """Imports the scenario `props` render to; it and its content hash."""
        name = props.resource_name
        desired = self._render(props)
        wanted_hash = content.content_hash(desired)
        marker = ownership.new_marker(props.marker, props.stack_key)
        try:
            # A hand-made scenario to adopt, as earlier runs left it: the only reason a
            # create lists.
            hand_made = (
                self._hand_made(props, desired, wanted_hash, self.run_start_listing.scenarios())
                if props.adopt
                else None
            )
            scenario = self._import(ownership.Marker.marked(desired, marker), marker, name)
        except TexterAPIError as exc:
            raise self._failure(props, str(exc), label=props.event_label) from None
        try:
            if scenario_status(scenario) != props.status:
                scenario = self._set_status(scenario["_id"], props.status, props.author_uid)
            if hand_made is not None and scenario_status(hand_made) == "active":
                log.info("%s: retiring hand-made scenario %s", name, hand_made["_id"])
                self._end(hand_made["_id"], "inactivate", props.author_uid)
        except TexterAPIError as exc:
            # A failed create leaves no state entry: what it imported would be held by
            # none, so it goes now, and the error says which scenario that was.
            undone = self._undo_import(scenario["_id"])
            raise self._failure(props, f"{exc}; {undone}", label=props.event_label) from None
        return scenario, wanted_hash

    def _undo_import(self, id_: str) -> str:
        """Deletes a scenario this create imported; says what became of it."""
        try:
            self.client.delete(id_)
            self._verify_ended(id_, "delete")
        except TexterAPIError as exc:
            return (
                f"the scenario it imported, {id_}, could not be deleted ({exc}): "
                "delete it in Texter"
            )
        return f"the scenario it imported, {id_}, was deleted"

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        recorded = SubscriptionProps.parse(props)
        try:
            scenarios = self.listing.scenarios()
        except TexterAPIError as exc:
            raise self._failure(
                recorded, f"refresh failed: {exc}{_recorded_credentials(exc)}"
            ) from None
        scenario = next((s for s in scenarios if s.get("_id") == id_), None)
        if scenario is None:
            # Gone in Texter: an empty id drops it from state; the next up recreates it.
            return ReadResult(None, {})
        live_hash = content.live_content_hash(scenario)
        inputs = {k: v for k, v in props.items() if k not in OUTPUT_KEYS}
        inputs["status"] = scenario_status(scenario)
        inputs["body_hash"] = live_hash
        live_urls = request_urls(content.live_body(scenario) or {})
        if live_urls:
            # A URL changed in the UI shows in the next preview as its fingerprint.
            inputs["url_fingerprint"] = url_fingerprint(live_urls[0])
        outputs = {**props, **self._outputs(inputs, scenario, live_hash)}
        # Both sides hashed by this code: edited in the Texter UI, not a new derivation.
        # In inputs too, so the next preview names the fields (`- drifted: [...]`).
        drifted = live_hash != self._content_of(recorded)
        outputs["drifted"] = inputs["drifted"] = (
            self._drifted_fields(recorded, scenario) if drifted else None
        )
        # In inputs too, so the next preview shows them going (`- twins: [...]`).
        twins = [s["_id"] for s in ownership.active_twins(scenario, scenarios)]
        outputs["twins"] = inputs["twins"] = twins or None
        return ReadResult(id_, outputs, inputs)

    def _update(
        self, id_: str, olds: SubscriptionProps, news: SubscriptionProps
    ) -> dict[str, Any] | None:
        """Retires the twins refresh found, then brings the scenario to `news` if its
        content, drift or status asks for it: the scenario then, else None."""
        try:
            for twin in olds.twins:
                log.info("%s: retiring %s, a twin of %s", news.resource_name, twin, id_)
                self._end(twin, "inactivate", news.author_uid)
            content_changed = self._content_of(olds) != self._content_of(news)
            if content_changed or olds.drifted or olds.status != news.status:
                return self._converge(id_, news)
        except TexterAPIError as exc:
            raise self._failure(news, f"update failed: {exc}") from None
        return None

    def _converge(self, id_: str, props: SubscriptionProps) -> dict[str, Any]:
        """Brings scenario `id_` to the content and status `props` render to, in place:
        draft operations, a new revision, its activation. Each step is chosen from what
        Texter holds now, so an update cut short at any step (draft written, revision
        published, not yet active) is finished by the next one, with the same `_id`."""
        desired = self._render(props)["data"]
        scenario = self._as_listed_at_run_start(id_) or self._live(id_)
        refused: ValidationError | None = None
        for _ in range(_UPDATE_STEPS):
            step = self._next_step(scenario, desired, props)
            if step is None:
                return scenario
            try:
                answer = step()
                refused = None
            except (AmbiguousWriteError, ConflictError) as exc:
                # Maybe applied, or already so (an earlier attempt, a hand in the UI): what
                # Texter holds now decides the next step.
                log.info("%s: %s; reading the scenario again", props.resource_name, exc)
                answer = {}
            except ValidationError as exc:
                # Operations for a draft that changed since it was read are refused once;
                # refused again as read afresh, they are wrong: say why.
                if refused is not None:
                    raise
                refused = exc
                answer = {}
            scenario = answer if answer.get("_id") == id_ else self._live(id_)
        raise TexterAPIError(
            "update",
            f"scenario {id_} still differs from the wanted revision after "
            f"{_UPDATE_STEPS} steps (fields: {', '.join(self._drift(desired, scenario))})",
        )

    def _next_step(
        self, scenario: dict[str, Any], desired: dict[str, Any], props: SubscriptionProps
    ) -> Callable[[], dict[str, Any]] | None:
        """The one call that brings `scenario` closer to `desired`; None when it is there."""
        id_, wanted_status = scenario["_id"], props.status
        live_status, author = scenario_status(scenario), props.author_uid
        wanted_hash = content.content_hash({"data": desired})
        if content.live_content_hash(scenario) == wanted_hash:
            if live_status == wanted_status:
                return None
            return lambda: self._set_status(id_, wanted_status, author)
        if wanted_status == "inactive" and live_status == "active":
            # Paused first: the new revision is then the newest, which is what a paused
            # scenario holds in force.
            return lambda: self._set_status(id_, "inactive", author)
        published = [
            r
            for r in scenario.get("inactiveRevisions") or []
            if content.content_hash({"data": r}) == wanted_hash and r.get("version")
        ]
        if published and wanted_status == "active":
            version = max(int(r["version"]) for r in published)
            return lambda: self.client.activate(id_, author_uid=author, version=version)
        drafts = scenario.get("drafts") or []
        base = drafts[-1] if drafts else current_revision(scenario)
        fixed = draft.replaceable_only(base, desired)
        if fixed:
            raise TexterAPIError(
                "update",
                f"scenario {id_}'s {', '.join(fixed)} differs from the wanted one and no "
                "Texter draft can change it: replace the resource (`pulumi up --replace`)",
            )
        operations = draft.operations(base, desired)
        if not operations:
            comment = f"texter-webhooks: {props.resource_name} [{props.stack_name}]"
            return lambda: self.client.create_revision(id_, comment)
        return lambda: self.client.update_draft(id_, operations)

    def _as_listed_at_run_start(self, id_: str) -> dict[str, Any] | None:
        """The scenario as this process's one run-start listing shows it: N updates cost
        one list, not N. Only this resource's update writes its scenario, so the listing
        is current for it; should a hand have changed it since, the step taken from it is
        refused or answered with the scenario, and the next step reads it afresh."""
        listed = self.run_start_listing.scenarios()
        return next((s for s in listed if s.get("_id") == id_), None)

    def _live(self, id_: str) -> dict[str, Any]:
        scenario = self.client.get_scenario(id_)
        if scenario is None:
            raise NotFoundError(
                "update",
                f"scenario {id_} is not in Texter's list: `pulumi refresh` drops it from "
                "state, and the next `pulumi up` creates it again",
            )
        return scenario

    def _drift(self, desired: dict[str, Any], scenario: dict[str, Any]) -> list[str]:
        return content.changed_fields({"data": desired}, scenario) or ["status"]

    def _delete(self, id_: str, props: SubscriptionProps) -> None:
        action = props.on_destroy
        try:
            # Twins carry this scenario's own marker (a late import, a copy made in the UI):
            # they go with it. Listed before this process writes anything.
            before = self.run_start_listing.scenarios()
            held = next((s for s in before if s.get("_id") == id_), None)
            twins = ownership.active_twins(held, before) if held else []
            self._end(id_, action, props.author_uid)
            for twin in twins:
                log.info("%s: retiring twin %s", props.resource_name, twin["_id"])
                self._end(twin["_id"], "inactivate", props.author_uid)
        except TexterAPIError as exc:
            hint = _recorded_credentials(exc)
            raise self._failure(props, f"{action} failed: {exc}{hint}") from None

    def _end(self, id_: str, action: str, author_uid: str | None) -> None:
        """Inactivates or deletes a scenario (an inactivation attributed to `author_uid`);
        already inactive or gone is success, once the listing agrees (a wrong route, see
        client.ROUTES, must not pass as done)."""
        try:
            if action == "delete":
                answer = self.client.delete(id_)
            else:
                answer = self.client.inactivate(id_, author_uid=author_uid)
            if not _shows_ended(answer, id_, action):
                # A 2xx with no body (a plain `OK`), or one that does not show this scenario
                # ended (a wrong route answering for another): believe the listing.
                self._verify_ended(id_, action)
        except (NotFoundError, ConflictError) as answer:
            self._verify_ended(id_, action, answered=answer.status)

    def _verify_ended(self, id_: str, action: str, *, answered: int | None = None) -> None:
        """The listing shows the scenario gone, or (inactivate) not active; else raises."""
        scenario = self.client.get_scenario(id_)
        done = scenario is None or (
            action == "inactivate" and scenario_status(scenario) != "active"
        )
        if not done:
            raise TexterAPIError(
                action,
                f"answered HTTP {answered or '2xx'} but scenario {id_} is still "
                f"{scenario_status(scenario or {})} in Texter",
                status=answered,
            )

    def _failure(
        self, props: SubscriptionProps, message: str, *, label: str = ""
    ) -> TexterProviderError:
        """An error naming the resource. Texter may echo the request back, so the receiver
        URL (it carries the secret) is masked wherever it appears."""
        url, token = props.url, props.bearer_token
        if isinstance(url, str) and url and is_known(url):
            message = message.replace(url, mask_url(url))
        if isinstance(token, str) and token and is_known(token):
            message = message.replace(token, "***")

        name = props.resource_name
        return TexterProviderError(f"{name}{f' ({label})' if label else ''}: {message}")

    # --- helpers ------------------------------------------------------------------------

    def _render(self, props: SubscriptionProps) -> dict[str, Any]:
        try:
            return render(props.spec(), stack=props.stack_name)
        except TemplateError as exc:
            raise TexterProviderError(f"{props.resource_name}.{exc.field}: {exc}") from None

    def _hand_made(
        self,
        props: SubscriptionProps,
        desired: dict[str, Any],
        wanted_hash: str,
        scenarios: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        """With adopt: the scenario made by hand (no marker) under the same name with the
        same content. It is replaced by a managed copy, never shared (see ownership)."""
        name = content.body_name(desired)
        candidates = [
            s
            for s in scenarios
            if scenario_name(s) == name
            and not ownership.is_managed(s)
            and content.live_content_hash(s) == wanted_hash
        ]
        if len(candidates) > 1:
            ids = ", ".join(s["_id"] for s in candidates)
            raise TexterAPIError(
                "adopt",
                f"found {len(candidates)} scenarios named {name!r} ({ids}); "
                "delete the extra ones or give a display_name",
            )
        if candidates:
            log.info("%s: adopting scenario %s", props.resource_name, candidates[0]["_id"])
            return candidates[0]
        near = [
            s
            for s in scenarios
            if not ownership.is_managed(s)
            and scenario_status(s) == "active"
            and _base_name(scenario_name(s)) == _base_name(name)
        ]
        if near:
            # Asked to adopt, one was meant: a new scenario beside it would double every event.
            found = "; ".join(
                f"{s['_id']} {scenario_name(s)!r}: "
                + ("its content differs" if scenario_name(s) == name else "its name differs")
                for s in near
            )
            raise TexterAPIError(
                "adopt",
                f"no hand-made scenario named {name!r} with this content, but {found}. "
                "Give display_name its exact name (and the same placeholders and URL) to adopt "
                "it, or set adopt=False to create a new one beside it",
            )
        return None

    def _import(self, body: dict[str, Any], marker: ownership.Marker, name: str) -> dict[str, Any]:
        try:
            made = self.client.import_scenario(body)
        except AmbiguousWriteError as exc:
            # No answer (timeout, dropped connection): the import may still land. A 5xx
            # (a gateway's 502/504 too) may hide an import still running behind it.
            policy = self.client.policy
            grace = policy.read_timeout + 5 if exc.status is None else min(policy.read_timeout, 5)
            found = self._await_made(marker, grace)
            if found is not None:
                log.info("%s: import outcome was unknown; found %s", name, found["_id"])
                return found
            made = self.client.import_scenario(body)
            # Should the first attempt still land, it is this create's twin: remove it.
            # (One landing later still is reported by refresh and retired by up.)
            for twin in ownership.made_by(marker, self.client.list_scenarios()):
                if twin["_id"] != made.get("_id"):
                    log.warning("%s: removing duplicate scenario %s", name, twin["_id"])
                    self.client.delete(twin["_id"])
        if not made.get("_id"):
            # 201 without the Scenario the contract promises: find what it made.
            found = self._await_made(marker, 0.0)
            if found is None:
                raise TexterAPIError("import", "Texter answered without the new scenario's _id")
            return found
        return made

    def _await_made(self, marker: ownership.Marker, grace: float) -> dict[str, Any] | None:
        """The scenario this create's import made, looking for up to `grace` seconds."""
        deadline = time.monotonic() + grace
        while True:
            made = ownership.made_by(marker, self.client.list_scenarios())
            if made or time.monotonic() >= deadline:
                return made[0] if made else None
            time.sleep(min(1.0, max(grace / 5, 0.1)))

    def _set_status(self, id_: str, wanted: str, author_uid: str | None) -> dict[str, Any]:
        call = self.client.activate if wanted == "active" else self.client.inactivate
        try:
            answer = call(id_, author_uid=author_uid)
            if answer.get("_id"):
                return answer
            # The contract promises the Scenario back; without it, read what is there.
            current = self.client.get_scenario(id_)
            if current is None:
                raise NotFoundError(wanted, f"scenario {id_} is not in Texter's list")
            return current
        except ConflictError:
            # Already in the wanted state (an earlier attempt, or a hand in the UI).
            current = self.client.get_scenario(id_)
            if current is not None and scenario_status(current) == wanted:
                return current
            raise

    def _outputs(
        self, inputs: Mapping[str, Any], scenario: dict[str, Any], hash_: str
    ) -> dict[str, Any]:
        """What state records: `inputs` (the dict the SDK gave, every key kept as recorded)
        with the outputs of `scenario`."""
        live_body = content.live_body(scenario)
        return {
            **{k: v for k, v in inputs.items() if k not in OUTPUT_KEYS},
            "body_hash": hash_,
            "subscription_id": scenario["_id"],
            "live_status": scenario_status(scenario),
            "body": masked(live_body) if live_body else None,
        }


def _policy(config: Config) -> RetryPolicy:
    """Optional tuning: texter:deadlineSeconds (per call, retries included, default 60)
    and texter:readTimeoutSeconds (per request, default 20)."""
    defaults = RetryPolicy()
    values = {}
    for key, attr in (("deadlineSeconds", "deadline"), ("readTimeoutSeconds", "read_timeout")):
        raw = config.get(f"texter:{key}")
        if raw is None:
            continue
        try:
            values[attr] = float(raw)
        except ValueError:
            raise ValueError(f"texter:{key} must be a number of seconds, got {raw!r}") from None
        if values[attr] <= 0:
            raise ValueError(f"texter:{key} must be positive, got {raw!r}")
    return RetryPolicy(**{**defaults.__dict__, **values})


def _base_name(name: str) -> str:
    """A scenario name without the ` [stack]` suffix default names carry."""
    return re.sub(r"\s*\[[^\]]*\]$", "", name).strip()


def url_fingerprint(url: str) -> str:
    """12 hex of the URL's SHA-256: a changed URL shows in a preview, the URL does not."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


# --- what a body spec renders to, once per provider process ------------------------------


@dataclass(frozen=True)
class _Rendering:
    """What check and diff need of a rendered import body: its content hash and its
    description (as `content.comparable` shows it: marker aside), or the TemplateError
    rendering it raised."""

    content_hash: str = ""
    description: str = ""
    error: TemplateError | None = None


# Check and diff render the body of every resource on every preview and up: check the new
# inputs, diff both sides (`_content_of`), so a no-op run rendered each subscription three
# times from the same inputs, and the engine calls check and diff one resource after the
# other, waiting on each. `render` is a pure function of (spec, stack) (the catalog it reads
# is loaded once per process), so its outcome is kept, keyed by value: the same inputs are
# rendered once per provider process. A process serves one CLI command; the bound only
# keeps a long-running host (tests) from growing without end. Thread-safe as it is: a dict
# read or write is atomic, and two threads racing on one key both render the same.
_RENDERINGS: dict[Hashable, _Rendering] = {}
_RENDERINGS_MAX = 4096
_SPEC_FIELDS = tuple(f.name for f in fields(BodySpec))


def _rendering(spec: BodySpec, stack: str) -> _Rendering:
    """`render(spec, stack=stack)`'s content hash and description, or its TemplateError
    (any other exception propagates, and is not kept)."""
    try:
        key: Hashable = (_frozen(stack), *(_frozen(getattr(spec, f)) for f in _SPEC_FIELDS))
    except TypeError:  # an unhashable leaf (never from the engine): rendered, not kept
        return _render_outcome(spec, stack)
    known = _RENDERINGS.get(key)
    if known is None:
        known = _render_outcome(spec, stack)
        if len(_RENDERINGS) >= _RENDERINGS_MAX:
            _RENDERINGS.clear()
        _RENDERINGS[key] = known
    return known


def _render_outcome(spec: BodySpec, stack: str) -> _Rendering:
    try:
        body = render(spec, stack=stack)
    except TemplateError as exc:
        return _Rendering(error=exc.with_traceback(None))  # kept: no frames held
    content_hash, description = content.hash_and_description(body)
    return _Rendering(content_hash=content_hash, description=description)


def _frozen(value: Any) -> Hashable:
    """A hashable key for `value` that tells apart the values inputs carry (strings,
    booleans, numbers, lists and mappings of them) where `render` may: types kept (1, 1.0
    and True are one dict key, three inputs; a list is not a tuple), mapping order kept.
    (0.0 and -0.0 are one key: no input is a signed zero.) TypeError for an unhashable leaf."""
    if isinstance(value, Mapping):
        return (type(value), tuple((_frozen(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(item) for item in value))
    hash(value)
    return (type(value), value)


def _differs(old: Any, new: Any) -> bool:
    if contains_unknown(new):
        return True  # unknown until apply: show it as a change
    # Whether their canonical JSON differs, as its hashes did (sorted keys: a re-ordered
    # mapping is no change; 1, 1.0 and true differ). Most inputs are strings, None or
    # bools, which of one type compare as their JSON does, without encoding it.
    if type(old) is type(new) and isinstance(old, str | bool | None):
        return bool(old != new)
    return canonical_json(old) != canonical_json(new)


def _recorded_credentials(error: TexterAPIError) -> str:
    """Why a 401 on refresh or destroy is not about the stack's current config: both
    configure the provider from what the last `up` recorded."""
    if not isinstance(error, AuthError):
        return ""
    return (
        "; refresh and destroy use the Texter credentials recorded at the last `pulumi up`: "
        "after rotating texter:token, run `pulumi up` first (it records the new one), or "
        "`pulumi refresh --run-program`"
    )


def _shows_ended(answer: dict[str, Any], id_: str, action: str) -> bool:
    """Whether Texter's answer itself shows scenario `id_` deleted or, for inactivate, not
    active: the Scenario back (contract), or `{_id}` for a delete."""
    if answer.get("_id") != id_:
        return False
    return action == "delete" or scenario_status(answer) != "active"


__all__ = ["TexterProviderError", "TexterSubscriptionProvider"]
