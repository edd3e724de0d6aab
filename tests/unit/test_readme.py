"""What the README and docs/ show is what runs.

The own-program example in the README is the file the wheel test runs; the own-CLI script
of docs/engine.md is the block the workflow example extracts and runs. Every fenced shell
block of the README, docs/*.md and bench/README.md is either run here (offline), checked by
a test of its own, or registered below as not runnable here with the reason; a new block
without a registered title fails. Every `make` target, `python -m` module and `scripts/`
path the docs name exists, and every relative link resolves.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
ENGINE_DOC = ROOT / "docs" / "engine.md"
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
WORKFLOW = yaml.safe_load((ROOT / "examples/github-actions/pulumi-preview.yml").read_text())
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]

# Shell blocks (```sh title="..."```), by title: how each is covered.
RUN_HERE = {
    "commands-help": "docs/operations.md: `make help` and the tooling modules' --help",
    "bench-help": "bench/README.md: the benchmarks' --help",
}
CHECKED_ELSEWHERE = {
    "own-cli": "extracted and syntax-checked below; run verbatim by the workflow's own-cli "
    "job (it needs the official Pulumi CLI with its Python language host)",
    "gcp-dev": "tests/unit/test_gcp_walkthrough.py runs it with gcloud, pulumi, ... recorded",
    "gcp-preview-identity": "tests/unit/test_gcp_walkthrough.py runs it with recorders",
}
NOT_RUNNABLE_HERE = {
    "quickstart": "`make up` starts the engine and the Pub/Sub emulator; `make test` is the "
    "whole suite, this test included",
    "own-program": "needs the Pulumi CLI and a Texter tenant (tests/e2e/test_installed_wheel.py "
    "runs the program itself from the built wheel)",
    "contract-check": "needs a real Texter tenant and its token",
    "bench": "minutes of load on every core; `make bench` installs wrk as root",
}
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "zsh"}
# `python -m` modules that are not this repository's.
EXTERNAL_MODULES = {"build", "venv", "pip"}

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')


def fenced_blocks() -> list[tuple[Path, str, str]]:
    """(document, info string, body) of every fenced block."""
    return [
        (doc, found.group(1).strip(), found.group(2))
        for doc in DOCS
        for found in FENCE.finditer(doc.read_text())
    ]


def shell_blocks() -> list[tuple[Path, str | None, str]]:
    blocks = []
    for doc, info, body in fenced_blocks():
        language = info.split()[0] if info else ""
        if language in SHELL_LANGUAGES:
            title = TITLE.search(info)
            blocks.append((doc, title.group(1) if title else None, body))
    return blocks


def block(doc: Path, title: str) -> str:
    found = re.search(rf'```sh title="{title}"\n(.*?)```', doc.read_text(), re.S)
    assert found is not None, f'{doc.name} has no ```sh title="{title}" block'
    return found.group(1)


def without_comments(script: str) -> str:
    return "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in script.splitlines())


def inline_code() -> list[tuple[Path, str]]:
    spans = []
    for doc in DOCS:
        prose = FENCE.sub("", doc.read_text())
        spans += [(doc, span) for span in re.findall(r"`([^`\n]+)`", prose)]
    return spans


def own_cli_step() -> str:
    steps = WORKFLOW["jobs"]["own-cli"]["steps"]
    (step,) = [s for s in steps if "docs/engine.md" in s.get("run", "")]
    return str(step["run"])


def test_the_own_program_section_shows_the_example_the_wheel_test_runs() -> None:
    example = (ROOT / "examples/own-program/__main__.py").read_text()
    # The program as the file holds it, its module docstring (the setup steps, which the
    # README gives as commands) left out.
    docstring = re.match(r'"""(.*?)"""\n+', example, re.S)
    assert docstring is not None
    assert f"```python\n{example[docstring.end() :]}```" in README
    setup = block(ROOT / "README.md", "own-program")
    assert "venv/bin/pip install -r requirements.txt" in setup
    for step in ("pulumi stack init dev", "texter:baseUrl", "texter:token", "webhookUrl"):
        assert step in setup
        assert step in docstring.group(1)


def test_the_readme_says_the_library_is_on_no_index() -> None:
    text = " ".join(README.split())
    assert "on no package index" in text
    # What examples/own-program/requirements.txt really installs: this checkout.
    requirements = (ROOT / "examples/own-program/requirements.txt").read_text().splitlines()
    assert [line for line in requirements if line and not line.startswith("#")] == ["../.."]


def test_the_workflow_extracts_the_engine_doc_s_own_cli_script(tmp_path: Path) -> None:
    # Run the workflow's own extraction command on docs/engine.md.
    extract = own_cli_step().splitlines()[0].replace("docs/engine.md", str(ENGINE_DOC))
    out = tmp_path / "own-cli.sh"
    subprocess.run(
        ["bash", "-c", extract.replace("> own-cli.sh", f"> {out}")], check=True, timeout=30
    )
    script = out.read_text()
    assert script == block(ENGINE_DOC, "own-cli")
    commands = [line for line in script.splitlines() if line.startswith("pulumi ")]
    # From a fresh clone to destroy, in the order a user runs them.
    assert script.startswith("make venv")
    assert [c.split()[1] for c in commands][-5:] == ["preview", "up", "preview", "destroy", "stack"]
    assert "pulumi preview --expect-no-changes" in commands
    subprocess.run(["bash", "-n", str(out)], check=True, timeout=30)


def test_the_workflow_runs_on_changes_to_the_readme_and_the_docs() -> None:
    paths = WORKFLOW[True]["pull_request"]["paths"]  # YAML 1.1 reads `on:` as True
    assert "README.md" in paths
    assert "docs/**" in paths


def test_the_retention_the_docs_state_is_the_stack_s() -> None:
    from texter_webhooks.gcp import receiver_service

    days = int(receiver_service.SUBSCRIPTION_RETENTION.removesuffix("s")) // 86400
    text = " ".join(OPERATIONS.split())
    assert f"keep unacknowledged events for {days} days, Pub/Sub's maximum" in text
    assert f"expire silently after {days} days" in text


def test_the_docs_say_which_sinks_the_log_exclusion_covers() -> None:
    import inspect

    from texter_webhooks.gcp import receiver_service

    # A project exclusion is the `_Default` sink's (Logging API, projects.exclusions):
    # every other sink that sees the project's logs needs the same filter.
    assert "gcp.logging.ProjectExclusion(" in inspect.getsource(receiver_service)
    text = " ".join(OPERATIONS.split())
    assert "A project exclusion belongs to the `_Default` sink alone" in text
    assert "any sink you add in the project" in text
    assert "aggregated sink of a folder or the organisation" in text


def test_the_readme_stays_the_essentials() -> None:
    assert len(README.encode()) < 14_500
    for doc in ("lifecycle", "receiver", "operations", "engine", "texter-api", "upgrading"):
        assert f"(docs/{doc}.md)" in README
    assert "(bench/README.md)" in README


# --- Every shell block is run, checked elsewhere, or says why not -----------------------


def test_every_shell_block_is_run_or_registered_with_a_reason() -> None:
    registered = {**RUN_HERE, **CHECKED_ELSEWHERE, **NOT_RUNNABLE_HERE}
    assert len(registered) == len(RUN_HERE) + len(CHECKED_ELSEWHERE) + len(NOT_RUNNABLE_HERE)
    titles = []
    for doc, title, body in shell_blocks():
        where = f"{doc.relative_to(ROOT)}: block starting {body.splitlines()[0]!r}"
        assert title is not None, f'{where} has no title: add ```sh title="..."``` and register it'
        assert title in registered, (
            f"{where}: title {title!r} is not registered in tests/unit/test_readme.py: run it "
            "there (RUN_HERE) or say why it cannot run here (NOT_RUNNABLE_HERE)"
        )
        titles.append(title)
    # One block per title (the workflow and the walkthrough tests extract by title), and no
    # registered title without its block.
    assert sorted(titles) == sorted(set(titles))
    assert set(titles) == set(registered)


@pytest.mark.parametrize("title", sorted(RUN_HERE))
def test_the_blocks_that_can_run_here_run(title: str) -> None:
    (found,) = [(doc, body) for doc, t, body in shell_blocks() if t == title]
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", found[1]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout or "make help" in result.stdout


def makefile_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))


def documented_commands() -> list[tuple[Path, str]]:
    """Every command line of the shell blocks (comments dropped) and every inline code span."""
    found = [
        (doc, line)
        for doc, _, body in shell_blocks()
        for line in without_comments(body).splitlines()
        if line.strip()
    ]
    return found + inline_code()


def test_every_documented_make_target_exists() -> None:
    targets = makefile_targets()
    named = set()
    for doc, text in documented_commands():
        for target in re.findall(r"(?:^|&&|;|\||\()\s*make\s+([a-z][\w-]*)", text):
            assert target in targets, f"{doc.relative_to(ROOT)}: no Makefile target {target!r}"
            named.add(target)
    assert {"up", "test", "help", "deliveries", "contract-check"} <= named


def test_every_documented_python_module_exists() -> None:
    named = set()
    for doc, text in documented_commands():
        for module in re.findall(r"python3?\s+-m\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", text):
            if module in EXTERNAL_MODULES:
                continue
            assert importlib.util.find_spec(module) is not None, (
                f"{doc.relative_to(ROOT)}: no module {module!r} (`python -m {module}`)"
            )
            named.add(module)
    assert {"tooling.deliveries", "tooling.texter_status", "bench.receiver"} <= named


def test_every_documented_script_exists() -> None:
    named = set()
    for doc in DOCS:
        for path in re.findall(r"(?<![\w/.-])scripts/[\w.-]*\w", doc.read_text()):
            assert (ROOT / path).is_file(), f"{doc.relative_to(ROOT)}: no {path}"
            named.add(path)
    for _, _, body in shell_blocks():
        for path in re.findall(r"(?:^|\s)(scripts/[\w.-]+)", without_comments(body), re.M):
            assert (ROOT / path).stat().st_mode & 0o111, f"{path} is not executable"
    assert "scripts/push-receiver-image" in named


def anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces `-`."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", doc.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_resolves() -> None:
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", doc.read_text())):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (doc.parent / path) if path else doc
            assert linked.exists(), f"{doc.relative_to(ROOT)}: broken link {target}"
            if anchor and linked.suffix == ".md":
                assert anchor in anchors(linked), f"{doc.relative_to(ROOT)}: no #{anchor}"


def test_every_python_block_defines_every_name_it_uses(tmp_path: Path) -> None:
    """A Python block a reader copies runs as far as names go: everything it uses is
    imported or defined in it (ruff's undefined-name rule, F821)."""
    blocks = [(doc, body) for doc, info, body in fenced_blocks() if info.split()[:1] == ["python"]]
    assert blocks, "no python block found: the fence pattern no longer matches"
    for index, (doc, body) in enumerate(blocks):
        copy = tmp_path / f"block{index}.py"
        copy.write_text(body)
        checked = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F821", str(copy)],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, f"{doc.relative_to(ROOT)}:\n{body}\n{checked.stdout}"


def test_every_receiver_setting_is_documented() -> None:
    """Each environment variable the receiver reads has its row in docs/receiver.md."""
    read = set(
        re.findall(r'"((?:RECEIVER|PUBSUB)_[A-Z_]+)"', (ROOT / "receiver/settings.py").read_text())
    )
    assert read, "no RECEIVER_* variable found in receiver/settings.py"
    documented = (ROOT / "docs" / "receiver.md").read_text()
    assert [name for name in sorted(read) if f"`{name}`" not in documented] == []


def test_the_readme_s_settings_table_has_every_key_of_pulumi_yaml() -> None:
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    rows = [line for line in README.splitlines() if line.startswith("| `texter")]
    table = "\n".join(rows)
    missing = [
        key
        for key in schema
        if f"`texter-webhooks:{key}`" not in table and f"/ `{key}`" not in table
    ]
    assert missing == []
