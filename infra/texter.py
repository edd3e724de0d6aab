"""`infra.texter.<module>` as aliases of `texter_webhooks.texter.<module>` (before 0.2 the
library lived in `infra/texter/`). Remove in 0.3: see the README's upgrade notes."""

from __future__ import annotations

import importlib
import sys

# Every module of the library as it was laid out in 0.1.
MODULES = (
    "body",
    "catalog",
    "client",
    "content",
    "errors",
    "events",
    "provider",
    "snapshot",
    "subscription",
)


def register() -> None:
    """Make `import infra.texter.provider` (what an old state's pickle asks for) resolve
    to the library's module, so the old pickle loads the current class."""
    sys.modules.setdefault("infra.texter", importlib.import_module("texter_webhooks.texter"))
    for name in MODULES:
        module = importlib.import_module(f"texter_webhooks.texter.{name}")
        sys.modules.setdefault(f"infra.texter.{name}", module)
