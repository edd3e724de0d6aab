"""A state of 0.1 holds its provider pickled as `infra.texter.provider.…`: the provider
process, which the engine starts in the program folder (`python -m pulumi.dynamic`, so
infra/ is first on its path), must load it as the library's class. The e2e upgrade test
takes such a stack through the CLI; this one checks the import itself, in seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.test_upgrade import PROVIDER_0_1

INFRA = Path(__file__).resolve().parents[2] / "infra"
LOAD = f"""
import base64, dill
provider = dill.loads(base64.b64decode({PROVIDER_0_1!r}))
cls = type(provider)
print(cls.__module__ + "." + cls.__qualname__)
"""


def test_the_provider_of_a_0_1_state_loads_as_the_library_s_class() -> None:
    # `-c` puts the working directory first on the path, as `-m` does.
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD], cwd=INFRA, capture_output=True, text=True, timeout=60
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "texter_webhooks.texter.provider.TexterSubscriptionProvider"
