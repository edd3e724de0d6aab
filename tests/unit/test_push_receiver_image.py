"""scripts/push-receiver-image, with `pulumi`, `gcloud` and `git` replaced by recorders:
it pins the pushed image by digest, from any working directory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "push-receiver-image"
REPOSITORY = "europe-west1-docker.pkg.dev/acme/receiver-images-dev-1a2b"
DIGEST = "sha256:" + "ab" * 32

# Each fake appends {"tool", "args", "cwd", and for builds the config it was given} to
# $CALLS and answers like the real tool would for this script.
FAKE = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
call = {"tool": os.path.basename(sys.argv[0]), "args": args, "cwd": os.getcwd()}
if "--config" in args:
    call["config"] = open(args[args.index("--config") + 1]).read()
with open(os.environ["CALLS"], "a") as calls:
    calls.write(json.dumps(call) + "\\n")
answers = {
    ("pulumi", "stack"): os.environ.get("REPOSITORY", ""),
    ("pulumi", "config"): "acme" if args[:2] == ["config", "get"] else "",
    ("git", "rev-parse"): "0123456789ab",
    ("gcloud", "artifacts"): os.environ["DIGEST"],
}
print(answers.get((call["tool"], args[0]), ""))
"""


def run(tmp_path: Path, repository: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pulumi", "gcloud", "git"):
        fake = bin_dir / tool
        fake.write_text(FAKE)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.jsonl"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CALLS": str(calls),
        "REPOSITORY": repository,
        "DIGEST": DIGEST,
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [str(SCRIPT), "dev"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60
    )
    recorded = (
        [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    )
    return result, recorded


def test_it_builds_from_the_checkout_and_pins_the_digest(tmp_path: Path) -> None:
    result, calls = run(tmp_path, REPOSITORY)
    assert result.returncode == 0, result.stderr
    (build,) = [c for c in calls if c["tool"] == "gcloud" and c["args"][:2] == ["builds", "submit"]]
    assert build["cwd"] == str(ROOT)  # the checkout, whatever the caller's directory
    assert "-f, receiver/Dockerfile" in build["config"]
    assert f"{REPOSITORY}/receiver:0123456789ab" in build["config"]
    (pin,) = [c for c in calls if c["tool"] == "pulumi" and c["args"][:2] == ["config", "set"]]
    assert pin["args"][2:] == [
        "texter-webhooks:receiverImage",
        f"{REPOSITORY}/receiver@{DIGEST}",
        "--stack",
        "dev",
    ]


def test_without_a_repository_it_says_to_run_up_first_and_builds_nothing(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "")
    assert result.returncode == 1
    assert "run `pulumi up --stack dev` first" in result.stderr
    assert not [c for c in calls if c["tool"] == "gcloud"]


def test_the_upload_is_the_receiver_alone() -> None:
    rules = (ROOT / ".gcloudignore").read_text().splitlines()
    assert "/*" in rules
    assert "!/receiver/" in rules
