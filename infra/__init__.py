"""This repository's Pulumi program (Pulumi.yaml: `main: infra/`).

Stacks made before 0.2 hold a provider pickled as `infra.texter.provider.*`, where the
library then lived. Until each has run one `pulumi up` (which rewrites that reference with
no Texter call), refresh and destroy unpickle it: `infra.texter.*` stays importable here,
as an alias of `texter_webhooks.texter.*`, for as long as the README's upgrade notes say.
"""

from infra import legacy_paths

legacy_paths.register()
