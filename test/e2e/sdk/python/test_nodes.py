"""docker-py's client.nodes: list (with filters), get, update (labels, availability), remove."""

import docker

from helpers import api_error
from shapes import assert_node


def by_hostname(client):
    # The agents' nodes (the manager is a node too, with no agent beside it here).
    return {n.attrs["Description"]["Hostname"]: n for n in client.nodes.list(filters={"role": "worker"})}


def test_list_shows_every_agent_with_its_state(client, cluster):
    nodes = by_hostname(client)
    assert set(nodes) == {h["name"] for h in cluster.hosts}
    for host in cluster.hosts:
        node = nodes[host["name"]]
        assert_node(node.attrs)
        assert node.attrs["Status"]["State"] == host["state"]
        assert node.attrs["Status"]["Addr"] == host["address"]
        assert node.attrs["Spec"]["Availability"] == "active"
    assert len({n.id for n in nodes.values()}) == len(nodes)


def test_list_filters(client, cluster):
    nodes = by_hostname(client)
    h1 = nodes["h1"]
    assert [n.id for n in client.nodes.list(filters={"name": "h1"})] == [h1.id]
    assert [n.id for n in client.nodes.list(filters={"id": h1.id[:10]})] == [h1.id]
    assert len(client.nodes.list(filters={"role": "worker"})) == len(cluster.hosts)
    assert len(client.nodes.list(filters={"membership": "accepted"})) == len(cluster.hosts) + 1  # and the manager
    assert len(client.nodes.list(filters={"role": "manager"})) == 1
    err = api_error(client.nodes.list, filters={"colour": "blue"})
    assert err.status_code == 400
    assert "Invalid filter 'colour'" in err.explanation


def test_get_by_id_hostname_and_prefix(client):
    h1 = by_hostname(client)["h1"]
    assert client.nodes.get(h1.id).attrs == h1.attrs
    assert client.nodes.get("h1").id == h1.id
    assert client.nodes.get(h1.id[:8]).id == h1.id
    missing = api_error(client.nodes.get, "nosuch")
    assert isinstance(missing, docker.errors.NotFound)
    assert missing.explanation == "node nosuch not found"


def test_update_labels_and_availability(client):
    node = client.nodes.get("h2")
    version = node.version
    try:
        spec = {"Labels": {"zone": "b", "sdk": "1"}, "Role": "worker", "Availability": "drain"}
        assert node.update(spec) is True
        node.reload()
        assert node.attrs["Spec"] == spec
        assert node.version > version
        assert [n.id for n in client.nodes.list(filters={"node.label": "zone=b"})] == [node.id]
        assert [n.id for n in client.nodes.list(filters={"node.label": "sdk"})] == [node.id]
        # Updates name the version they read: an old one is refused.
        stale = api_error(client.api.update_node, node.id, version, spec)
        assert stale.status_code == 409, stale.explanation
        assert node.update({"Labels": {"zone": "b"}, "Role": "worker", "Availability": "pause"}) is True
        node.reload()
        assert node.attrs["Spec"] == {"Labels": {"zone": "b"}, "Role": "worker", "Availability": "pause"}
        bad = api_error(node.update, {"Labels": {}, "Role": "worker", "Availability": "asleep"})
        assert bad.status_code == 400
    finally:
        node.reload()
        node.update({"Labels": {"zone": "b"}, "Role": "worker", "Availability": "active"})
    assert client.nodes.get("h2").attrs["Spec"]["Availability"] == "active"


def test_remove_a_down_node(client, cluster):
    down = cluster.down[0]["name"]
    node = client.nodes.get(down)
    assert node.attrs["Status"]["State"] == "down"
    assert node.remove() is True
    assert isinstance(api_error(client.nodes.get, node.id), docker.errors.NotFound)
    assert down not in by_hostname(client)


def test_remove_a_live_node_is_refused(client):
    node = client.nodes.get("h1")
    err = api_error(node.remove)
    # Docker answers a failed precondition with 400.
    assert err.status_code == 400
    assert "is not down" in err.explanation
    assert client.nodes.get("h1").id == node.id
    missing = api_error(client.api.remove_node, "nosuch")
    assert isinstance(missing, docker.errors.NotFound)
    assert missing.explanation == "node nosuch not found"
