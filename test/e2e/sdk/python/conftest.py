"""Fixtures of the docker-py suite.

test/e2e/sdk-python.test.ts starts the cluster and runs this suite with /usr/bin/python3 -m pytest.
It passes the cluster in the environment: DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
for docker.from_env(), and SHOAL_SDK_IMAGE, SHOAL_SDK_IMAGE2, SHOAL_SDK_PULL_REF and
SHOAL_SDK_HOSTS (JSON: [{"name", "address", "docker", "state": "ready" | "down"}]).
"""

import json
import os
from types import SimpleNamespace

import docker
import pytest

# Detailed assertion messages in the helpers too, as in the tests.
pytest.register_assert_rewrite("helpers", "shapes")

from helpers import remove_quietly  # noqa: E402


def _required(name):
    value = os.environ.get(name, "")
    if value == "":
        pytest.fail(f"{name} is not set: run this suite through test/e2e/sdk-python.test.ts", pytrace=False)
    return value


@pytest.fixture(scope="session")
def cluster():
    """What the driver started: images in the registry and the harness hosts."""
    hosts = json.loads(_required("SHOAL_SDK_HOSTS"))
    return SimpleNamespace(
        image=_required("SHOAL_SDK_IMAGE"),
        image2=_required("SHOAL_SDK_IMAGE2"),
        pull_ref=_required("SHOAL_SDK_PULL_REF"),
        hosts=hosts,
        ready=[h for h in hosts if h["state"] == "ready"],
        down=[h for h in hosts if h["state"] == "down"],
    )


@pytest.fixture(scope="session")
def client():
    """A DockerClient for the manager's Docker API, from the environment as the docker CLI reads it."""
    _required("DOCKER_HOST")
    c = docker.from_env(timeout=30)
    yield c
    c.close()


@pytest.fixture
def new_service(client):
    """client.services.create, with every service made removed after the test."""
    made = []

    def create(*args, **kwargs):
        svc = client.services.create(*args, **kwargs)
        made.append(svc.id)
        return svc

    create.track = made.append
    yield create
    for service_id in made:
        remove_quietly(client.api.remove_service, service_id)


@pytest.fixture
def new_network(client):
    """client.networks.create, with every network made removed after the test (after its services)."""
    made = []

    def create(*args, **kwargs):
        net = client.networks.create(*args, **kwargs)
        made.append(net.id)
        return net

    create.track = made.append
    yield create
    for network_id in made:
        remove_quietly(client.api.remove_network, network_id)
