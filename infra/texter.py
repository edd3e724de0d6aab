"""`infra.texter.<module>`, what the state of a stack made before 0.2 asks for.

Before 0.2 the library lived in `infra/texter/`, so such a state holds its provider pickled
as `infra.texter.provider.TexterSubscriptionProvider`. The provider process unpickles it by
importing that name: importing this module first (as the parent `infra.texter`) registers
each old module name as the library's module, so the old pickle loads the current class.
Until each such stack has run one `pulumi up` (which rewrites the reference, with no Texter
call). The program does not import it. Remove in 0.4: see docs/upgrading.md.
"""

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

# Python looks a submodule up in sys.modules once its parent is imported, so these
# entries answer `import infra.texter.provider` with no package folder behind them.
for _name in MODULES:
    sys.modules.setdefault(
        f"infra.texter.{_name}", importlib.import_module(f"texter_webhooks.texter.{_name}")
    )
