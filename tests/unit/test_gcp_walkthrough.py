"""The GCP walkthrough of docs/operations.md works from an empty project, every command in
order.

The `gcp-dev` block runs verbatim under `bash -euo pipefail` with `gcloud`, `pulumi` and
the other tools replaced by recorders; the tests read the recorded calls: what is created,
enabled and granted, and in which order. The same for the preview identity's block and
the workflow it serves. GCP itself cannot be reached from here: what Google accepts is
the docs' word (docs/operations.md, and the report of the change that wrote this).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.unit.test_push_receiver_image import STACK_CONFIG as PUSH_SCRIPT_CONFIG
from texter_webhooks.gcp.receiver_service import RESOURCE_TYPE

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
WORKFLOW_TEXT = (ROOT / "examples/github-actions/pulumi-preview.yml").read_text()
EXAMPLES = {stack: ROOT / f"Pulumi.{stack}.yaml.example" for stack in ("dev", "prod")}

REPOSITORY = "europe-west1-docker.pkg.dev/my-project-dev/receiver-images-dev-1a2b"
RECEIVER_ACCOUNT = "receiver-dev-1a2b@my-project-dev.iam.gserviceaccount.com"
# Answers to the commands whose output the walkthrough uses.
ANSWERS = {
    "pulumi stack output imageRepository": REPOSITORY,
    "pulumi stack output receiverServiceAccount": RECEIVER_ACCOUNT,
    "pulumi stack output receiverUrl --show-secrets": "https://receiver.example/hooks/s",
    "pulumi stack output receiverSubscription": "projects/my-project-dev/subscriptions/e",
    "openssl rand -hex 20": "ab" * 20,
    "gh api repos/ORG/REPO --jq .id": "260064828",
    "gh api repos/ORG/REPO --jq .owner.id": "1342004",
    "gcloud projects describe my-project --format value(projectNumber)": "123456789012",
}
FAKE = """#!/usr/bin/env python3
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["CALLS"], "a") as calls:
    calls.write(json.dumps([name, *sys.argv[1:]]) + "\\n")
print(json.loads(os.environ["ANSWERS"]).get(" ".join([name, *sys.argv[1:]]), ""))
if name == "curl" and "--config" in sys.argv:  # what curl reads from stdin: `--config -`
    with open(os.environ["CALLS"] + ".curl-config", "a") as config:
        config.write(sys.stdin.read())
"""
TOOLS = ("gcloud", "pulumi", "make", "curl", "openssl", "gh")
# Relative paths the walkthrough runs, faked in its working directory.
LOCAL_TOOLS = ("scripts/push-receiver-image", ".venv/bin/python")


def block(title: str) -> str:
    found = re.search(rf'```sh title="{title}"\n(.*?)```', OPERATIONS, re.S)
    assert found is not None, f'docs/operations.md has no ```sh title="{title}" block'
    return found.group(1)


@dataclass
class Calls:
    calls: list[list[str]]
    curl_config: str = ""  # what curl read from stdin (`--config -`)

    def index(self, *prefix: str, start: int = 0) -> int:
        """Where the first call starting with `prefix` (from `start`) is; fails if none."""
        for i, call in enumerate(self.calls[start:], start):
            if call[: len(prefix)] == list(prefix):
                return i
        raise AssertionError(f"no call {' '.join(prefix)} (after #{start}) in {self.calls}")

    def all(self, *prefix: str) -> list[tuple[int, list[str]]]:
        return [(i, c) for i, c in enumerate(self.calls) if c[: len(prefix)] == list(prefix)]

    def grant(self, kind: tuple[str, ...], resource: str, member: str, role: str) -> int:
        """Where `role` is granted to `member` on `resource` by `gcloud <kind...>
        add-iam-policy-binding`; fails if it never is."""
        for i, call in self.all("gcloud", *kind, "add-iam-policy-binding"):
            rest = call[len(kind) + 2 :]
            if (
                rest[0] == resource
                and option(rest, "--member") == member
                and option(rest, "--role") == role
            ):
                return i
        raise AssertionError(f"{role} is never granted to {member} on {resource}")


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def run_block(title: str, tmp_path: Path) -> Calls:
    script = tmp_path / f"{title}.sh"
    script.write_text(block(title))
    bin_dir, work = tmp_path / "bin", tmp_path / "work"
    bin_dir.mkdir()
    for path in [bin_dir / tool for tool in TOOLS] + [work / tool for tool in LOCAL_TOOLS]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FAKE)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.jsonl"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "CALLS": str(calls),
        "ANSWERS": json.dumps(ANSWERS),
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", str(script)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    curl_config = calls.with_name(calls.name + ".curl-config")
    return Calls(
        [json.loads(line) for line in calls.read_text().splitlines()],
        curl_config.read_text() if curl_config.exists() else "",
    )


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Calls:
    return run_block("gcp-dev", tmp_path_factory.mktemp("gcp-dev"))


def deployer(calls: Calls) -> str:
    """The member every deployer grant names: the one given project roles to run Pulumi."""
    named = {
        option(c, "--member") for _, c in calls.all("gcloud", "projects", "add-iam-policy-binding")
    }
    members = {m for m in named if m and not m.startswith("serviceAccount:receiver-build@")}
    (member,) = members
    return member


def test_the_apis_pulumi_needs_are_enabled_before_its_first_command(walkthrough: Calls) -> None:
    enabled_at = walkthrough.index("gcloud", "services", "enable")
    enabled = set(walkthrough.calls[enabled_at][3:])
    # The provider itself needs Cloud Resource Manager; the stack's key, Cloud KMS.
    for api in (
        "cloudresourcemanager.googleapis.com",
        "cloudkms.googleapis.com",
        "storage.googleapis.com",
        "iam.googleapis.com",
        "iamcredentials.googleapis.com",
        "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com",
    ):
        assert api in enabled
    assert enabled_at < walkthrough.index("pulumi", "login")
    assert enabled_at < walkthrough.index("gcloud", "kms", "keyrings", "create")


def test_the_state_bucket_and_kms_key_exist_and_are_granted_before_stack_init(
    walkthrough: Calls,
) -> None:
    login = walkthrough.index("pulumi", "login")
    init = walkthrough.index("pulumi", "stack", "init")
    state = walkthrough.calls[login][2]
    created = walkthrough.index("gcloud", "storage", "buckets", "create", state)
    create_args = walkthrough.calls[created]
    assert "--uniform-bucket-level-access" in create_args
    assert "--public-access-prevention" in create_args
    versioned = walkthrough.index("gcloud", "storage", "buckets", "update", state)
    assert "--versioning" in walkthrough.calls[versioned]
    stack = walkthrough.calls[init][3]
    provider = option(walkthrough.calls[init], "--secrets-provider")
    found = re.fullmatch(
        r"gcpkms://projects/([^/]+)/locations/([^/]+)/keyRings/([^/]+)/cryptoKeys/([^/]+)",
        provider or "",
    )
    assert found is not None, provider
    project, location, ring, key = found.groups()
    assert key == stack
    ring_at = walkthrough.index("gcloud", "kms", "keyrings", "create", ring)
    assert option(walkthrough.calls[ring_at], "--location") == location
    key_at = walkthrough.index("gcloud", "kms", "keys", "create", key)
    key_args = walkthrough.calls[key_at]
    assert option(key_args, "--keyring") == ring
    assert option(key_args, "--location") == location
    assert option(key_args, "--purpose") == "encryption"
    assert walkthrough.calls[walkthrough.index("gcloud", "config", "set", "project")][4] == project
    member = deployer(walkthrough)
    can_use_key = walkthrough.grant(
        ("kms", "keys"), key, member, "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    )
    can_use_state = walkthrough.grant(
        ("storage", "buckets"), state, member, "roles/storage.objectAdmin"
    )
    assert max(created, versioned, ring_at, key_at, can_use_key, can_use_state) < login < init


def test_no_project_wide_role_lets_the_deployer_act_as_or_administer_every_account(
    walkthrough: Calls,
) -> None:
    project_roles = {
        option(c, "--role")
        for _, c in walkthrough.all("gcloud", "projects", "add-iam-policy-binding")
    }
    assert "roles/iam.serviceAccountCreator" in project_roles
    for broad in (
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountTokenCreator",
        "roles/owner",
        "roles/editor",
    ):
        assert broad not in project_roles


def test_the_build_runs_as_an_account_created_and_granted_before_the_push(
    walkthrough: Calls,
) -> None:
    push = walkthrough.index("push-receiver-image")
    stack = walkthrough.calls[walkthrough.index("pulumi", "stack", "init")][3]
    assert walkthrough.calls[push][1:] == [stack]
    settings = {
        c[3]: c[4]
        for _, c in walkthrough.all("pulumi", "config", "set")
        if c[3].startswith("push-receiver-image:")
    }
    # What the walkthrough sets is what the script reads (its own test's stack config).
    assert set(settings) == {k for k in PUSH_SCRIPT_CONFIG if k.startswith("push-receiver-image:")}
    builder = settings["push-receiver-image:serviceAccount"]
    account_id, _, domain = builder.partition("@")
    project = domain.removesuffix(".iam.gserviceaccount.com")
    created = walkthrough.index("gcloud", "iam", "service-accounts", "create", account_id)
    assert walkthrough.calls[walkthrough.index("gcloud", "config", "set", "project")][4] == project
    member = f"serviceAccount:{builder}"
    logs = walkthrough.grant(("projects",), project, member, "roles/logging.logWriter")
    repository = REPOSITORY.rsplit("/", 1)[1]
    writer = walkthrough.grant(
        ("artifacts", "repositories"), repository, member, "roles/artifactregistry.writer"
    )
    source = settings["push-receiver-image:sourceBucket"]
    reads_source = walkthrough.grant(
        ("storage", "buckets"), source, member, "roles/storage.objectViewer"
    )
    uploads = walkthrough.grant(
        ("storage", "buckets"), source, deployer(walkthrough), "roles/storage.legacyBucketWriter"
    )
    acts_as = walkthrough.grant(
        ("iam", "service-accounts"), builder, deployer(walkthrough), "roles/iam.serviceAccountUser"
    )
    set_at = max(i for i, c in walkthrough.all("pulumi", "config", "set") if c[3] in settings)
    # The repository exists after the first `up`; the grant on it comes between.
    first_up = walkthrough.index("pulumi", "up")
    assert first_up < writer
    assert created < min(logs, reads_source, acts_as)
    assert max(logs, writer, reads_source, uploads, acts_as, set_at) < push


def urn_glob_matches(glob: str, urn: str) -> bool:
    """Pulumi's --target/--exclude glob (pkg/resource/deploy UrnTargets): `**` any
    characters, `*` any but `:`, the rest literal, anchored."""
    parts = [
        "[^:]*".join(re.escape(piece) for piece in segment.split("*"))
        for segment in glob.split("**")
    ]
    return re.fullmatch(".*".join(parts), urn) is not None


def test_the_receiver_account_exists_and_is_granted_before_cloud_run_is_deployed(
    walkthrough: Calls,
) -> None:
    ups = [i for i, c in walkthrough.all("pulumi", "up")]
    push = walkthrough.index("push-receiver-image")
    excluding = [i for i in ups if "--exclude" in walkthrough.calls[i]]
    assert len(excluding) == 1
    (partial,) = excluding
    args = walkthrough.calls[partial]
    assert "--exclude-dependents" in args  # the log exclusion, alerts, subscriptions too
    glob = option(args, "--exclude")
    assert glob is not None
    prefix = f"urn:pulumi:dev::texter-webhooks::{RESOURCE_TYPE}$"
    assert urn_glob_matches(glob, prefix + "gcp:cloudrunv2/service:Service::receiver")
    assert not urn_glob_matches(glob, prefix + "gcp:serviceaccount/account:Account::receiver-sa")
    assert not urn_glob_matches(glob, prefix + "gcp:pubsub/topic:Topic::receiver-events")
    acts_as = walkthrough.grant(
        ("iam", "service-accounts"),
        RECEIVER_ACCOUNT,
        deployer(walkthrough),
        "roles/iam.serviceAccountUser",
    )
    full_ups = [i for i in ups if i > acts_as and len(walkthrough.calls[i]) == 2]
    assert push < partial < acts_as < full_ups[0]


def test_the_contract_check_runs_before_the_first_up(walkthrough: Calls) -> None:
    check = walkthrough.index("make", "contract-check", "STACK=dev")
    # After the stack's Texter settings it reads, before anything touches the tenant.
    token_set = walkthrough.index("pulumi", "config", "set", "--secret", "texter:token")
    assert token_set < check < walkthrough.index("pulumi", "up")


def test_the_walkthrough_ends_with_the_delivery_check(walkthrough: Calls) -> None:
    last_up = max(i for i, _ in walkthrough.all("pulumi", "up"))
    curl = walkthrough.index("curl")
    assert last_up < curl
    # The receiver URL (its path carries the secret) reaches curl on stdin, never as an
    # argument another user's `ps` could show.
    secret_url = ANSWERS["pulumi stack output receiverUrl --show-secrets"]
    assert not any(secret_url in arg for arg in walkthrough.calls[curl])
    assert option(walkthrough.calls[curl], "--config") == "-"
    assert walkthrough.curl_config == f'url = "{secret_url}"\n'
    assert last_up < walkthrough.index("gcloud", "pubsub", "subscriptions", "pull")
    # Texter documents no retry: the failed deliveries since the first full up, the token
    # read from the stack (never an argument another user's `ps` could show).
    assert walkthrough.calls[-1][:3] == ["make", "deliveries", "STACK=dev"]
    assert not any("texter:token" in " ".join(call) for call in walkthrough.calls[-3:])


# --- The preview identity and the workflow ------------------------------------------


@pytest.fixture(scope="module")
def preview_identity(tmp_path_factory: pytest.TempPathFactory) -> Calls:
    return run_block("gcp-preview-identity", tmp_path_factory.mktemp("preview"))


CONDITION_IDS = ("assertion.repository_id ==", "assertion.repository_owner_id ==")
NAME_CLAIMS = re.compile(r"assertion\.(repository|repository_owner)\s*==")


def test_the_wif_provider_admits_numeric_ids_and_one_environment(preview_identity: Calls) -> None:
    enabled = preview_identity.index("gcloud", "services", "enable")
    assert "iamcredentials.googleapis.com" in preview_identity.calls[enabled]
    pool = preview_identity.index("gcloud", "iam", "workload-identity-pools", "create")
    created = preview_identity.index("gcloud", "iam", "workload-identity-pools", "providers")
    args = preview_identity.calls[created]
    assert args[4] == "create-oidc"
    assert option(args, "--issuer-uri") == "https://token.actions.githubusercontent.com"
    condition = option(args, "--attribute-condition") or ""
    assert "assertion.repository_id == '260064828'" in condition
    assert "assertion.repository_owner_id == '1342004'" in condition
    assert "assertion.environment == 'prod-preview'" in condition
    assert not NAME_CLAIMS.search(condition)
    mapping = dict(
        pair.split("=", 1) for pair in (option(args, "--attribute-mapping") or "").split(",")
    )
    assert mapping == {
        "google.subject": "assertion.sub",
        "attribute.repository_id": "assertion.repository_id",
        "attribute.repository_owner_id": "assertion.repository_owner_id",
        "attribute.environment": "assertion.environment",
    }
    bound = preview_identity.index("gcloud", "iam", "service-accounts", "add-iam-policy-binding")
    member = option(preview_identity.calls[bound], "--member") or ""
    assert member.endswith("/workloadIdentityPools/github/attribute.repository_id/260064828")
    assert enabled < pool < created < bound


def test_the_preview_identity_reads_the_state_and_decrypts_only(preview_identity: Calls) -> None:
    # Every grant but the one that lets the workflow's identity impersonate the account.
    granted = {
        option(c, "--role")
        for c in preview_identity.calls
        if "add-iam-policy-binding" in c and c[:3] != ["gcloud", "iam", "service-accounts"]
    }
    assert granted == {
        "roles/storage.objectViewer",
        "roles/cloudkms.cryptoKeyDecrypter",
        "roles/browser",
    }


def test_the_workflow_states_the_same_condition_and_no_passphrase() -> None:
    condition = next(line for line in WORKFLOW_TEXT.splitlines() if "assertion.environment" in line)
    for claim in CONDITION_IDS:
        assert claim in condition
    assert "assertion.environment == 'prod-preview'" in condition
    assert not NAME_CLAIMS.search(WORKFLOW_TEXT)
    workflow = yaml.safe_load(WORKFLOW_TEXT)
    preview = json.dumps(workflow["jobs"]["preview"])
    assert "PASSPHRASE" not in preview.upper()


# --- One secrets provider, stated the same way everywhere -----------------------------

KMS_URL = re.compile(r"gcpkms://[^\s`)\"']+")


def test_every_cloud_stack_uses_its_own_kms_key_named_alike(walkthrough: Calls) -> None:
    init = walkthrough.calls[walkthrough.index("pulumi", "stack", "init")]
    readme_dev = option(init, "--secrets-provider")
    for stack, path in EXAMPLES.items():
        text = path.read_text()
        project = yaml.safe_load(text)["config"]["gcp:project"]
        expected = (
            f"gcpkms://projects/{project}/locations/global/keyRings/pulumi/cryptoKeys/{stack}"
        )
        assert KMS_URL.findall(text) == [expected], path.name
        if stack == "dev":
            assert readme_dev == expected  # what the walkthrough really runs
        else:
            assert expected in OPERATIONS  # "Going to production"
    # The pattern the docs and the workflow state for any stack.
    pattern = "gcpkms://projects/<project>/locations/global/keyRings/pulumi/cryptoKeys/<stack>"
    assert pattern in OPERATIONS
    assert pattern in WORKFLOW_TEXT
    for url in KMS_URL.findall(OPERATIONS + WORKFLOW_TEXT):
        assert re.fullmatch(
            r"gcpkms://(\$KEY|projects/[^/]+/locations/global/keyRings/pulumi/cryptoKeys/[^/]+)",
            url,
        ), url


def test_the_cloud_stacks_need_no_passphrase() -> None:
    start = OPERATIONS.index("\n## Preview on pull requests")
    section = OPERATIONS[start : OPERATIONS.index("\n## ", start + 1)]
    assert "PULUMI_CONFIG_PASSPHRASE" not in section
    assert "passphrase" not in block("gcp-dev")
