"""Where the service's image comes from: given, built here, or a clear error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import texter_webhooks.gcp.receiver_service as receiver_cloudrun
from tests.infra.harness import (
    ACCESS_TOKEN,
    IMAGE,
    IMAGE_DIGEST,
    IMAGE_T,
    PROJECT,
    REPOSITORY,
    SERVICE,
    Cloud,
    deploy,
    find_text,
)
from texter_webhooks.gcp.receiver_service import (
    ReceiverServiceError,
    docker_engine_available,
)

REGION = "us-east4"
# This checkout: holds receiver/Dockerfile, as a build context must.
CHECKOUT = str(Path(__file__).resolve().parents[2])


def service_image(cloud: Cloud) -> str:
    (container,) = cloud.one(SERVICE).plain("template")["containers"]
    return str(container["image"])


def test_a_given_image_is_used_as_is_and_nothing_is_built(cloud: Cloud) -> None:
    receiver = deploy(cloud, image=IMAGE, docker_available=True)

    assert service_image(cloud) == IMAGE
    assert cloud.resolve(receiver.image).value == IMAGE
    assert not cloud.of_type(REPOSITORY)
    assert not cloud.of_type(IMAGE_T)


def test_a_build_without_docker_is_a_clear_error_before_anything_is_created(
    cloud: Cloud,
) -> None:
    with pytest.raises(ReceiverServiceError) as error:
        deploy(cloud, image=None, build_context=CHECKOUT, docker_available=False)

    message = str(error.value)
    assert "build_context needs a Docker engine" in message
    assert "pass `image`" in message
    assert cloud.registrations == []


@pytest.mark.parametrize(
    "source", [{"image": None}, {"image": IMAGE, "build_context": CHECKOUT}], ids=["none", "both"]
)
def test_exactly_one_image_source_is_required(cloud: Cloud, source: dict) -> None:
    with pytest.raises(ReceiverServiceError, match=r"ReceiverServiceArgs\.image or build_context"):
        deploy(cloud, docker_available=True, **source)
    assert cloud.registrations == []


def test_a_build_context_without_the_receiver_dockerfile_is_refused(
    cloud: Cloud, tmp_path: Path
) -> None:
    with pytest.raises(ReceiverServiceError, match=r"build_context must be a folder holding"):
        deploy(cloud, image=None, build_context=str(tmp_path), docker_available=True)
    assert cloud.registrations == []


def test_no_image_with_docker_builds_pushes_and_runs_the_pushed_digest(cloud: Cloud) -> None:
    receiver = deploy(
        cloud, image=None, build_context=CHECKOUT, region=REGION, docker_available=True
    )

    repository = cloud.one(REPOSITORY)
    assert repository.plain("format") == "DOCKER"
    assert repository.plain("location") == REGION
    assert repository.plain("project") == PROJECT
    image = cloud.one(IMAGE_T)
    component_urn = cloud.one("texter-webhooks:receiver:ReceiverService").urn
    assert repository.parent == image.parent == component_urn
    tag = f"{REGION}-docker.pkg.dev/{PROJECT}/{repository.plain('repositoryId')}/receiver:latest"
    assert image.plain("tags") == [tag]
    assert image.plain("push") is True
    assert image.plain("platforms") == ["linux/amd64"]
    # The repository exists before the push.
    assert repository.urn in image.dependencies

    context = Path(image.plain("context")["location"])
    assert context == Path(CHECKOUT)
    assert Path(image.plain("dockerfile")["location"]) == context / "receiver" / "Dockerfile"

    (registry,) = image.plain("registries")
    assert registry == {
        "address": f"{REGION}-docker.pkg.dev",
        "username": "oauth2accesstoken",
        "password": ACCESS_TOKEN,
    }
    # The access token is a credential: it must be stored encrypted.
    assert [in_secret for _, in_secret in find_text(image.inputs, ACCESS_TOKEN)] == [True]

    assert service_image(cloud) == f"{tag}@{IMAGE_DIGEST}"
    assert cloud.resolve(receiver.image).value == f"{tag}@{IMAGE_DIGEST}"


def test_without_docker_available_the_engine_is_probed(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes: list[None] = []

    def probe() -> bool:
        probes.append(None)
        return False

    monkeypatch.setattr(receiver_cloudrun, "docker_engine_available", probe)
    with pytest.raises(ReceiverServiceError, match="needs a Docker engine"):
        deploy(cloud, image=None, build_context=CHECKOUT)
    assert len(probes) == 1


def test_a_given_image_never_probes_docker(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> bool:
        raise AssertionError("docker probed although an image was given")

    monkeypatch.setattr(receiver_cloudrun, "docker_engine_available", probe)
    deploy(cloud, image=IMAGE)

    assert service_image(cloud) == IMAGE


class TestDockerEngineAvailable:
    def test_no_cli_means_no_engine(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shutil, "which", lambda _: None)

        def run(*_args, **_kwargs):
            raise AssertionError("nothing to run without a docker CLI")

        monkeypatch.setattr(subprocess, "run", run)
        assert docker_engine_available() is False

    @pytest.mark.parametrize(("returncode", "expected"), [(0, True), (1, False)])
    def test_docker_info_decides(
        self, monkeypatch: pytest.MonkeyPatch, returncode: int, expected: bool
    ) -> None:
        calls: list[list[str]] = []
        monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/docker")

        def run(argv, **_kwargs):
            calls.append(argv)
            return subprocess.CompletedProcess(argv, returncode, b"", b"")

        monkeypatch.setattr(subprocess, "run", run)
        assert docker_engine_available() is expected
        assert calls == [["/usr/bin/docker", "info"]]

    @pytest.mark.parametrize(
        "failure", [subprocess.TimeoutExpired(["docker", "info"], 20), OSError("exec format")]
    )
    def test_a_hung_or_broken_cli_means_no_engine(
        self, monkeypatch: pytest.MonkeyPatch, failure: Exception
    ) -> None:
        monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/docker")

        def run(*_args, **_kwargs):
            raise failure

        monkeypatch.setattr(subprocess, "run", run)
        assert docker_engine_available() is False
