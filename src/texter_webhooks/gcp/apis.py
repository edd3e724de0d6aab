"""The Google APIs a ReceiverService uses, enabled by the stack itself.

A fresh project has most of them off, and the first `pulumi up` would fail on the first
resource of each. Enabled with `disable_on_destroy=False`: other workloads of the project
may use them too, and turning an API off is never this stack's call.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

# Always: the service, its secret, its topics, its account, the log exclusion, and the
# project lookup that names the Pub/Sub service agent.
CORE_APIS = (
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "pubsub.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "cloudresourcemanager.googleapis.com",
)
IMAGES_API = "artifactregistry.googleapis.com"
ALERTS_API = "monitoring.googleapis.com"


def enable(
    name: str, project: str, apis: tuple[str, ...], parent: pulumi.Resource
) -> list[gcp.projects.Service]:
    """One `gcp.projects.Service` per API, children of `parent`."""
    return [
        gcp.projects.Service(
            f"{name}-api-{api.split('.')[0]}",
            project=project,
            service=api,
            disable_on_destroy=False,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for api in apis
    ]
