"""docker-py's client.networks on a swarm manager: overlay networks with labels, and services on them."""

import docker
from docker.types import NetworkAttachmentConfig

from helpers import SLEEP, api_error
from shapes import assert_id, assert_time


def assert_network(attrs, name, labels):
    assert attrs["Name"] == name
    assert_id(attrs["Id"])
    assert_time(attrs["Created"])
    assert attrs["Scope"] == "swarm"
    assert attrs["Driver"] == "overlay"
    assert attrs["EnableIPv6"] is False
    assert attrs["IPAM"]["Driver"] == "default"
    assert isinstance(attrs["IPAM"]["Config"], list)
    assert attrs["Internal"] is False
    assert attrs["Attachable"] is False
    assert attrs["Ingress"] is False
    assert attrs["ConfigFrom"] == {"Network": ""}
    assert attrs["ConfigOnly"] is False
    assert isinstance(attrs["Options"], dict)
    assert attrs["Labels"] == labels


def test_create_answers_id_and_warning(client, new_network):
    created = client.api.create_network("sdk-net-low", driver="overlay", labels={"sdk": "low"})
    new_network.track(created["Id"])
    assert set(created) == {"Id", "Warning"}
    assert_id(created["Id"])
    assert created["Warning"] == ""


def test_create_overlay_with_labels_then_get(client, new_network):
    net = new_network("sdk-net", driver="overlay", labels={"sdk": "1", "team": "x"})
    assert_network(net.attrs, "sdk-net", {"sdk": "1", "team": "x"})
    assert net.name == "sdk-net"
    assert client.networks.get(net.id).attrs == net.attrs
    assert client.networks.get("sdk-net").id == net.id
    assert client.networks.get(net.id[:10]).id == net.id
    missing = api_error(client.networks.get, "nosuch")
    assert isinstance(missing, docker.errors.NotFound)
    assert missing.explanation == "network nosuch not found"


def test_list_with_filters(client, new_network):
    a = new_network("sdk-list-a", driver="overlay", labels={"sdk": "list", "which": "a"})
    b = new_network("sdk-list-b", driver="overlay", labels={"sdk": "list", "which": "b"})
    listed = client.networks.list(names=["sdk-list-"])
    assert sorted(n.id for n in listed) == sorted([a.id, b.id])
    for n in listed:
        assert_network(n.attrs, n.name, {"sdk": "list", "which": n.name[-1]})
    assert [n.id for n in client.networks.list(filters={"label": "which=b"})] == [b.id]
    assert len(client.networks.list(filters={"label": "sdk=list"})) == 2
    assert [n.id for n in client.networks.list(ids=[a.id])] == [a.id]
    assert a.id in [n.id for n in client.networks.list(filters={"driver": "overlay", "scope": "swarm"})]
    assert client.networks.list(filters={"label": "which=c"}) == []


def test_duplicate_name_is_a_conflict(client, new_network):
    new_network("sdk-dup", driver="overlay")
    err = api_error(client.networks.create, "sdk-dup", driver="overlay")
    assert err.status_code == 409
    assert err.explanation == "network with name sdk-dup already exists"


def test_services_name_networks_that_come_back_as_ids(client, cluster, new_network, new_service):
    front = new_network("sdk-front", driver="overlay")
    back = new_network("sdk-back", driver="overlay")
    svc = new_service(
        cluster.image,
        command=SLEEP,
        name="sdk-on-nets",
        networks=["sdk-front", NetworkAttachmentConfig("sdk-back", aliases=["api"])],
    )
    assert svc.attrs["Spec"]["TaskTemplate"]["Networks"] == [
        {"Target": front.id},
        {"Target": back.id, "Aliases": ["api"]},
    ]
    missing = api_error(
        client.services.create, cluster.image, command=SLEEP, name="sdk-no-net", networks=["sdk-nosuch"]
    )
    assert isinstance(missing, docker.errors.NotFound)
    assert "network sdk-nosuch not found" in missing.explanation


def test_remove(client, new_network):
    net = new_network("sdk-gone", driver="overlay")
    assert net.remove() is None
    assert isinstance(api_error(client.networks.get, net.id), docker.errors.NotFound)
    assert client.networks.list(names=["sdk-gone"]) == []
    assert isinstance(api_error(client.api.remove_network, "sdk-gone"), docker.errors.NotFound)
