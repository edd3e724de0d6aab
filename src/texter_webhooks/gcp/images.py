"""Where the receiver's image lives: an Artifact Registry repository that cleans itself up,
and (with a Docker engine) a build of the receiver's source pushed to it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build
import pulumi_gcp as gcp

from texter_webhooks.gcp.apis import IMAGES_API
from texter_webhooks.gcp.args import DOCKERFILE_IN_CONTEXT
from texter_webhooks.gcp.naming import resource_id

# The repository keeps the images a rollback may need and sheds the rest: the newest ten
# versions always stay (KEEP wins over DELETE), untagged leftovers go after a week, any
# other image after 90 days.
KEEP_NEWEST = 10
Policy = gcp.artifactregistry.RepositoryCleanupPolicyArgs
Condition = gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs
CLEANUP_POLICIES = [
    Policy(
        id="keep-newest",
        action="KEEP",
        most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
            keep_count=KEEP_NEWEST
        ),
    ),
    Policy(
        id="delete-untagged",
        action="DELETE",
        condition=Condition(tag_state="UNTAGGED", older_than=f"{7 * 86400}s"),
    ),
    Policy(
        id="delete-old",
        action="DELETE",
        condition=Condition(tag_state="ANY", older_than=f"{90 * 86400}s"),
    ),
]


def repository(
    name: str, repository_id: str, *, project: str, region: str, opts: pulumi.ResourceOptions
) -> gcp.artifactregistry.Repository:
    return gcp.artifactregistry.Repository(
        name,
        repository_id=repository_id,
        format="DOCKER",
        location=region,
        project=project,
        description="Images of the Texter webhook receiver",
        cleanup_policies=CLEANUP_POLICIES,
        cleanup_policy_dry_run=False,
        opts=opts,
    )


def registry_path(
    region: str, project: str, repository_id: pulumi.Input[str]
) -> pulumi.Output[str]:
    """`<region>-docker.pkg.dev/<project>/<repository>`, where images are pushed."""
    return pulumi.Output.concat(f"{region}-docker.pkg.dev/{project}/", repository_id)


def docker_engine_available() -> bool:
    """Whether a Docker engine answers here: a `docker` CLI on PATH and `docker info` works.

    The CLI alone is not enough: it is often installed where no daemon runs (CI, sandboxes).
    """
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        # A fixed argv with the resolved executable: nothing user-controlled reaches it.
        result = subprocess.run(  # noqa: S603
            [docker, "info"], capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def build_and_push(
    name: str,
    context: Path,
    target: pulumi.Input[str],
    *,
    region: str,
    parent: pulumi.Resource,
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """Builds the context's receiver/Dockerfile, pushes it to `target` (a registry path)
    and returns the pushed image's digest-qualified reference."""
    registry = f"{region}-docker.pkg.dev"
    # The deployer's own Google credentials, short-lived: no `gcloud auth
    # configure-docker` needed, and nothing is written to ~/.docker.
    token = gcp.organizations.get_client_config_output(
        opts=pulumi.InvokeOutputOptions(parent=parent)
    ).access_token
    image = docker_build.Image(
        name,
        push=True,
        context=docker_build.BuildContextArgs(location=str(context)),
        dockerfile=docker_build.DockerfileArgs(location=str(context / DOCKERFILE_IN_CONTEXT)),
        # Cloud Run runs x86-64 only, whatever the machine building it.
        platforms=[docker_build.Platform.LINUX_AMD64],
        tags=[pulumi.Output.concat(target, "/receiver:latest")],
        registries=[
            docker_build.RegistryArgs(
                address=registry,
                username="oauth2accesstoken",
                password=pulumi.Output.secret(token),
            )
        ],
        opts=opts,
    )
    # `ref` is `<tag>@sha256:<digest>`: every new build is a new revision, whereas
    # `:latest` alone would look unchanged to Cloud Run.
    return image.ref


class ImageRepository(pulumi.ComponentResource):
    """An Artifact Registry repository for the receiver's images, with its API enabled and
    the cleanup policies above. `path` is where images are pushed
    (`<region>-docker.pkg.dev/<project>/<repository>`), e.g. by scripts/push-receiver-image."""

    path: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: str,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("texter-webhooks:receiver:ImageRepository", name, None, opts)
        api = gcp.projects.Service(
            f"{name}-api",
            project=project,
            service=IMAGES_API,
            disable_on_destroy=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        created = repository(
            f"{name}-repository",
            resource_id(name, pulumi.get_stack(), max_length=63),
            project=project,
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[api]),
        )
        self.path = registry_path(region, project, created.repository_id)
        self.register_outputs({"path": self.path})
