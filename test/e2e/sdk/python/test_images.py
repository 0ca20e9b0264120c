"""docker-py's image pull through the manager: the image lands on every ready node."""

import re

import docker


def split(ref):
    repository, tag = ref.rsplit(":", 1)
    return repository, tag


def test_pull_streams_progress(client, cluster):
    repository, tag = split(cluster.pull_ref)
    messages = list(client.api.pull(repository, tag=tag, stream=True, decode=True))
    assert messages, "POST /images/create answers a stream of JSON progress messages"
    for m in messages:
        assert isinstance(m, dict)
        assert "error" not in m and "errorDetail" not in m, m
        assert isinstance(m.get("status", ""), str)
    done = re.compile(r"^Status: (Downloaded newer image|Image is up to date) for " + re.escape(cluster.pull_ref) + "$")
    assert any(done.match(m.get("status", "")) for m in messages), messages


def test_images_pull_on_the_cluster(client, cluster):
    repository, tag = split(cluster.pull_ref)
    image = client.images.pull(repository, tag=tag)
    assert isinstance(image, docker.models.images.Image)
    assert image.id.startswith("sha256:")
    assert cluster.pull_ref in image.tags
    for host in cluster.ready:
        engine = docker.DockerClient(base_url=host["docker"], timeout=30)
        try:
            assert engine.images.get(cluster.pull_ref).id == image.id, host["name"]
        finally:
            engine.close()


def test_pull_of_a_missing_image_fails(client, cluster):
    repository, _ = split(cluster.pull_ref)
    missing = repository + "-nosuch"
    try:
        messages = list(client.api.pull(missing, tag="1", stream=True, decode=True))
    except docker.errors.APIError as err:
        # Docker answers 404 before streaming when the registry has no such manifest, naming it.
        assert err.status_code == 404, err.explanation
        assert missing in err.explanation
        return
    assert any(missing in m.get("error", "") for m in messages), messages
