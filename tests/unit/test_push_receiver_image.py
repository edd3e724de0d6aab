"""scripts/push-receiver-image, with `pulumi`, `gcloud` and `git` replaced by recorders:
it builds as the stack's own build service account, logging to Cloud Logging, from the
source bucket it is given, and pins the pushed image by digest, from any working
directory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "push-receiver-image"
REPOSITORY = "europe-west1-docker.pkg.dev/acme/receiver-images-dev-1a2b"
DIGEST = "sha256:" + "ab" * 32
BUILDER = "receiver-build@acme.iam.gserviceaccount.com"
STACK_CONFIG = {
    "gcp:project": "acme",
    "push-receiver-image:serviceAccount": BUILDER,
    "push-receiver-image:sourceBucket": "gs://acme-build-source",
}

# Each fake appends {"tool", "args", "cwd", and for builds the config it was given} to
# $CALLS and answers like the real tool would for this script; `pulumi config get` of a
# key the stack does not have fails, as the real one does.
FAKE = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
call = {"tool": os.path.basename(sys.argv[0]), "args": args, "cwd": os.getcwd()}
if "--config" in args:
    call["config"] = open(args[args.index("--config") + 1]).read()
with open(os.environ["CALLS"], "a") as calls:
    calls.write(json.dumps(call) + "\\n")
if call["tool"] == "pulumi" and args[:2] == ["config", "get"]:
    value = json.loads(os.environ["STACK_CONFIG"]).get(args[2])
    if value is None:
        sys.exit(f"error: configuration key '{args[2]}' not found for stack 'dev'")
    print(value)
    sys.exit(0)
answers = {
    ("pulumi", "stack"): os.environ.get("REPOSITORY", ""),
    ("git", "rev-parse"): "0123456789ab",
    ("gcloud", "artifacts"): os.environ["DIGEST"],
}
print(answers.get((call["tool"], args[0]), ""))
"""


def run(
    tmp_path: Path,
    *flags: str,
    repository: str = REPOSITORY,
    config: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pulumi", "gcloud", "git"):
        fake = bin_dir / tool
        fake.write_text(FAKE)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.jsonl"
    base = {k: v for k, v in os.environ.items() if not k.startswith("BUILD_")}
    environment = {
        **base,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CALLS": str(calls),
        "REPOSITORY": repository,
        "DIGEST": DIGEST,
        "STACK_CONFIG": json.dumps(STACK_CONFIG if config is None else config),
        **(env or {}),
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [str(SCRIPT), "dev", *flags],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    recorded = (
        [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    )
    return result, recorded


def the_build(calls: list[dict]) -> dict:
    (build,) = [c for c in calls if c["tool"] == "gcloud" and c["args"][:2] == ["builds", "submit"]]
    return build


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_it_builds_from_the_checkout_and_pins_the_digest(tmp_path: Path) -> None:
    result, calls = run(tmp_path)
    assert result.returncode == 0, result.stderr
    build = the_build(calls)
    assert build["cwd"] == str(ROOT)  # the checkout, whatever the caller's directory
    assert build["args"][-1] == "."
    config = yaml.safe_load(build["config"])
    tag = f"{REPOSITORY}/receiver:0123456789ab"
    assert config["steps"][0]["args"][:4] == [
        "build",
        "--platform=linux/amd64",
        "-f",
        "receiver/Dockerfile",
    ]
    assert config["images"] == [tag]
    (pin,) = [c for c in calls if c["tool"] == "pulumi" and c["args"][:2] == ["config", "set"]]
    assert pin["args"][2:] == [
        "texter-webhooks:receiverImage",
        f"{REPOSITORY}/receiver@{DIGEST}",
        "--stack",
        "dev",
    ]


def test_it_builds_as_the_stack_s_build_account_logging_to_cloud_logging(tmp_path: Path) -> None:
    result, calls = run(tmp_path)
    assert result.returncode == 0, result.stderr
    build = the_build(calls)
    # A user-specified account's logs cannot go to the default logs bucket.
    assert flag(build["args"], "--service-account") == f"projects/acme/serviceAccounts/{BUILDER}"
    assert yaml.safe_load(build["config"])["options"] == {"logging": "CLOUD_LOGGING_ONLY"}
    assert flag(build["args"], "--gcs-source-staging-dir") == "gs://acme-build-source/source"


def test_the_flag_wins_over_the_environment_which_wins_over_the_stack(tmp_path: Path) -> None:
    other = "projects/acme/serviceAccounts/other@acme.iam.gserviceaccount.com"
    env = {
        "BUILD_SERVICE_ACCOUNT": "env@acme.iam.gserviceaccount.com",
        "BUILD_SOURCE_BUCKET": "env-src",
    }
    (tmp_path / "a").mkdir()
    result, calls = run(tmp_path / "a", "--service-account", other, env=env)
    assert result.returncode == 0, result.stderr
    assert flag(the_build(calls)["args"], "--service-account") == other  # a resource name as is
    assert flag(the_build(calls)["args"], "--gcs-source-staging-dir") == "gs://env-src/source"
    (tmp_path / "b").mkdir()
    result, calls = run(tmp_path / "b", env=env)
    assert result.returncode == 0, result.stderr
    assert (
        flag(the_build(calls)["args"], "--service-account")
        == "projects/acme/serviceAccounts/env@acme.iam.gserviceaccount.com"
    )


def test_without_a_source_bucket_gcloud_stages_where_it_does_by_default(tmp_path: Path) -> None:
    config = {k: v for k, v in STACK_CONFIG.items() if not k.endswith("sourceBucket")}
    result, calls = run(tmp_path, config=config)
    assert result.returncode == 0, result.stderr
    assert "--gcs-source-staging-dir" not in the_build(calls)["args"]


def test_without_a_build_account_it_says_where_to_set_one_and_builds_nothing(
    tmp_path: Path,
) -> None:
    config = {k: v for k, v in STACK_CONFIG.items() if not k.endswith("serviceAccount")}
    result, calls = run(tmp_path, config=config)
    assert result.returncode == 1
    for way in ("--service-account", "BUILD_SERVICE_ACCOUNT", "push-receiver-image:serviceAccount"):
        assert way in result.stderr
    assert not [c for c in calls if c["tool"] == "gcloud"]


def test_without_a_repository_it_says_to_run_up_first_and_builds_nothing(tmp_path: Path) -> None:
    result, calls = run(tmp_path, repository="")
    assert result.returncode == 1
    assert "run `pulumi up --stack dev` first" in result.stderr
    assert not [c for c in calls if c["tool"] == "gcloud"]


def test_an_unknown_option_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "--service-acount", BUILDER)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert calls == []


def test_the_upload_is_the_receiver_alone() -> None:
    rules = (ROOT / ".gcloudignore").read_text().splitlines()
    assert "/*" in rules
    assert "!/receiver/" in rules
