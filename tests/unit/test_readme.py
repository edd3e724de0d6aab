"""What the README shows is what runs: the own-program example is the file the wheel test
runs, and the own-CLI script is the block the workflow example extracts and runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
WORKFLOW = yaml.safe_load((ROOT / "examples/github-actions/pulumi-preview.yml").read_text())


def own_cli_step() -> str:
    steps = WORKFLOW["jobs"]["own-cli"]["steps"]
    (step,) = [s for s in steps if "README.md" in s.get("run", "")]
    return str(step["run"])


def test_the_own_program_section_shows_the_example_the_wheel_test_runs() -> None:
    example = (ROOT / "examples/own-program/__main__.py").read_text()
    assert f"```python\n{example}```" in README


def test_the_workflow_extracts_the_readme_s_own_cli_script(tmp_path: Path) -> None:
    # Run the workflow's own extraction command on the README.
    extract = own_cli_step().splitlines()[0].replace("README.md", str(ROOT / "README.md"))
    out = tmp_path / "own-cli.sh"
    subprocess.run(
        ["bash", "-c", extract.replace("> own-cli.sh", f"> {out}")], check=True, timeout=30
    )
    script = out.read_text()
    fenced = re.search(r'```sh title="own-cli"\n(.*?)```', README, re.S)
    assert fenced is not None
    assert script == fenced.group(1)
    commands = [line for line in script.splitlines() if line.startswith("pulumi ")]
    # From a fresh clone to destroy, in the order a user runs them.
    assert script.startswith("make venv")
    assert [c.split()[1] for c in commands][-5:] == ["preview", "up", "preview", "destroy", "stack"]
    assert "pulumi preview --expect-no-changes" in commands
    subprocess.run(["bash", "-n", str(out)], check=True, timeout=30)


def test_the_retention_the_readme_states_is_the_stack_s() -> None:
    from texter_webhooks.gcp import receiver_service

    days = int(receiver_service.SUBSCRIPTION_RETENTION.removesuffix("s")) // 86400
    text = " ".join(README.split())
    assert f"keep unacknowledged events for {days} days, Pub/Sub's maximum" in text
    assert f"expire silently after {days} days" in text


def test_the_readme_says_which_sinks_the_log_exclusion_covers() -> None:
    import inspect

    from texter_webhooks.gcp import receiver_service

    # A project exclusion is the `_Default` sink's (Logging API, projects.exclusions):
    # every other sink that sees the project's logs needs the same filter.
    assert "gcp.logging.ProjectExclusion(" in inspect.getsource(receiver_service)
    text = " ".join(README.split())
    assert "A project exclusion belongs to the `_Default` sink alone" in text
    assert "any sink you add in the project" in text
    assert "aggregated sink of a folder or the organisation" in text
