"""docker-py against /_ping, /version and /info (and the empty secret and config lists)."""

import docker

from shapes import JOIN_TOKEN, PEM, assert_id, assert_time, is_int


def test_ping(client):
    assert client.ping() is True


def test_version_negotiation_picks_1_41():
    auto = docker.from_env(version="auto", timeout=30)
    try:
        assert auto.api.api_version == "1.41"
    finally:
        auto.close()


def test_version(client):
    v = client.version()
    assert v["ApiVersion"] == "1.41"
    minimum = tuple(int(x) for x in v["MinAPIVersion"].split("."))
    assert minimum[0] == 1 and minimum <= (1, 24)
    for key in ("Version", "GitCommit", "GoVersion", "KernelVersion"):
        assert isinstance(v[key], str) and v[key] != "", key
    assert v["Os"] == "linux"
    assert v["Arch"] == "amd64"
    assert isinstance(v["Platform"]["Name"], str)
    engine = v["Components"][0]
    assert engine["Name"] == "Engine"
    assert engine["Version"] == v["Version"]
    details = engine["Details"]
    assert details["ApiVersion"] == "1.41"
    assert details["MinAPIVersion"] == v["MinAPIVersion"]
    assert details["Os"] == "linux" and details["Arch"] == "amd64"
    assert details["Experimental"] == "false"


def test_info_shows_a_swarm_manager(client):
    info = client.info()
    assert isinstance(info["ID"], str) and info["ID"] != ""
    assert isinstance(info["Name"], str) and info["Name"] != ""
    assert isinstance(info["ServerVersion"], str) and info["ServerVersion"] != ""
    assert info["OSType"] == "linux"
    assert is_int(info["NCPU"]) and info["NCPU"] > 0
    assert is_int(info["MemTotal"]) and info["MemTotal"] > 0
    assert is_int(info["Containers"]) and is_int(info["Images"])
    assert isinstance(info["Labels"], list)

    swarm = info["Swarm"]
    assert_id(swarm["NodeID"])
    assert isinstance(swarm["NodeAddr"], str) and ":" not in swarm["NodeAddr"]
    assert swarm["LocalNodeState"] == "active"
    assert swarm["ControlAvailable"] is True
    assert swarm["Error"] == ""
    assert swarm["Nodes"] == len(client.nodes.list())
    assert swarm["Managers"] == 1
    assert len(swarm["RemoteManagers"]) == 1
    remote = swarm["RemoteManagers"][0]
    assert set(remote) == {"NodeID", "Addr"}
    assert remote["NodeID"] == swarm["NodeID"]
    assert remote["Addr"].rsplit(":", 1)[1].isdigit()

    cluster = swarm["Cluster"]
    assert_id(cluster["ID"])
    assert is_int(cluster["Version"]["Index"])
    assert_time(cluster["CreatedAt"])
    assert_time(cluster["UpdatedAt"])
    spec = cluster["Spec"]
    assert spec["Name"] == "default"
    assert isinstance(spec["Labels"], dict)
    assert is_int(spec["Orchestration"]["TaskHistoryRetentionLimit"])
    assert is_int(spec["Raft"]["SnapshotInterval"]) and is_int(spec["Raft"]["ElectionTick"])
    assert is_int(spec["Dispatcher"]["HeartbeatPeriod"])
    assert is_int(spec["CAConfig"]["NodeCertExpiry"])
    assert isinstance(spec["EncryptionConfig"]["AutoLockManagers"], bool)
    assert cluster["TLSInfo"]["TrustRoot"].startswith(PEM)
    assert cluster["RootRotationInProgress"] is False
    assert is_int(cluster["SubnetSize"]) and is_int(cluster["DataPathPort"])
    # /info never carries the join tokens; /swarm does.
    assert "JoinTokens" not in cluster
    assert not any(JOIN_TOKEN.match(str(v)) for v in cluster.values())


def test_info_and_swarm_name_the_same_cluster(client):
    assert client.info()["Swarm"]["Cluster"]["ID"] == client.api.inspect_swarm()["ID"]


def test_secrets_and_configs_are_empty_lists(client):
    assert client.secrets.list() == []
    assert client.configs.list() == []
    assert client.api.secrets() == []
    assert client.api.configs() == []
