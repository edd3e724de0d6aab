"""Runs examples/own-program as a user of the installed library would: one `pulumi`
operation per process, through the Automation API, with nothing from the repository on
the path. Prints the operation's outputs as JSON.

    python driver.py <up|destroy> <program.py> <work dir> <engine bin dir>

The environment carries the backend, the passphrase and the stack's config values.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path

from pulumi import automation as auto


def run_program(path: str) -> None:
    runpy.run_path(path, run_name="__main__")


def main() -> None:
    operation, program, work_dir, bin_dir = sys.argv[1:5]
    env = {
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "PULUMI_PYTHON_CMD": sys.executable,  # the provider runs in this very venv
        "PATH": os.pathsep.join([bin_dir, str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    stack = auto.create_or_select_stack(
        "dev",
        project_name="my-program",
        program=lambda: run_program(program),
        opts=auto.LocalWorkspaceOptions(
            work_dir=work_dir,
            env_vars=env,
            pulumi_command=auto.PulumiCommand(
                root=str(Path(bin_dir).parent), skip_version_check=True
            ),
        ),
    )
    stack.set_all_config(
        {
            "texter:baseUrl": auto.ConfigValue(os.environ["TEXTER_BASE_URL"]),
            "texter:token": auto.ConfigValue(os.environ["TEXTER_TOKEN"], secret=True),
            "my-program:webhookUrl": auto.ConfigValue(os.environ["WEBHOOK_URL"]),
            "my-program:webhookToken": auto.ConfigValue(os.environ["WEBHOOK_TOKEN"], secret=True),
        }
    )
    if operation == "up":
        # `pulumi up` previews before it applies; the Automation API's up does not.
        stack.preview(color="never")
        result = stack.up(color="never")
        print(json.dumps({k: v.value for k, v in result.outputs.items()}))
    else:
        stack.destroy(color="never")
        print(json.dumps({}))


if __name__ == "__main__":
    main()
