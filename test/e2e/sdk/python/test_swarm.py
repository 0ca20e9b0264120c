"""docker-py's client.swarm: inspect (attrs, reload), join tokens, update, unlock key."""

import re

from helpers import api_error
from shapes import JOIN_TOKEN, PEM, assert_id, assert_time, is_int

NINETY_DAYS_NS = 7776000000000000


def test_inspect_shape(client):
    swarm = client.swarm
    attrs = swarm.attrs
    assert_id(attrs["ID"])
    assert swarm.id == attrs["ID"]
    assert is_int(swarm.version) and swarm.version > 0
    assert_time(attrs["CreatedAt"])
    assert_time(attrs["UpdatedAt"])
    spec = attrs["Spec"]
    assert spec["Name"] == "default"
    assert spec["Labels"] == {}
    assert is_int(spec["Orchestration"]["TaskHistoryRetentionLimit"])
    raft = spec["Raft"]
    for key in ("SnapshotInterval", "LogEntriesForSlowFollowers", "ElectionTick", "HeartbeatTick"):
        assert is_int(raft[key]), key
    assert is_int(spec["Dispatcher"]["HeartbeatPeriod"])
    assert is_int(spec["CAConfig"]["NodeCertExpiry"])
    assert spec["TaskDefaults"] == {}
    assert spec["EncryptionConfig"] == {"AutoLockManagers": False}
    tls = attrs["TLSInfo"]
    assert tls["TrustRoot"].startswith(PEM)
    assert isinstance(tls["CertIssuerSubject"], str) and tls["CertIssuerSubject"] != ""
    assert isinstance(tls["CertIssuerPublicKey"], str) and tls["CertIssuerPublicKey"] != ""
    assert attrs["RootRotationInProgress"] is False
    assert is_int(attrs["SubnetSize"]) and is_int(attrs["DataPathPort"])
    tokens = attrs["JoinTokens"]
    assert set(tokens) == {"Worker", "Manager"}
    assert JOIN_TOKEN.match(tokens["Worker"]) and JOIN_TOKEN.match(tokens["Manager"])
    assert tokens["Worker"] != tokens["Manager"]
    # Both pin the same CA.
    assert tokens["Worker"].split("-")[2] == tokens["Manager"].split("-")[2]


def test_rotate_worker_token(client):
    swarm = client.swarm
    before = dict(swarm.attrs["JoinTokens"])
    version = swarm.version
    assert swarm.update(rotate_worker_token=True) is True
    swarm.reload()
    after = swarm.attrs["JoinTokens"]
    assert after["Worker"] != before["Worker"]
    assert JOIN_TOKEN.match(after["Worker"])
    assert after["Manager"] == before["Manager"]
    assert swarm.version > version


def test_update_task_history_limit(client):
    swarm = client.swarm
    assert swarm.update(task_history_retention_limit=7) is True
    swarm.reload()
    spec = swarm.attrs["Spec"]
    assert spec["Orchestration"] == {"TaskHistoryRetentionLimit": 7}
    # docker-py sends the 90 days Docker defaults to, and Docker keeps what is sent.
    assert spec["CAConfig"]["NodeCertExpiry"] == NINETY_DAYS_NS
    assert client.info()["Swarm"]["Cluster"]["Spec"]["Orchestration"] == {"TaskHistoryRetentionLimit": 7}
    assert swarm.update(task_history_retention_limit=5) is True


def test_stale_update_is_refused(client):
    swarm = client.swarm
    stale = swarm.version
    assert swarm.update(task_history_retention_limit=6) is True
    err = api_error(client.api.update_swarm, version=stale, swarm_spec=client.api.create_swarm_spec(name="default"))
    assert err.status_code == 409, err.explanation


def test_unlock_key_follows_autolock(client):
    swarm = client.swarm
    # Docker answers an empty key while autolock is off (the CLI then says "no unlock key is set").
    assert swarm.get_unlock_key() == {"UnlockKey": ""}
    try:
        assert swarm.update(autolock_managers=True) is True
        swarm.reload()
        assert swarm.attrs["Spec"]["EncryptionConfig"] == {"AutoLockManagers": True}
        key = swarm.get_unlock_key()["UnlockKey"]
        assert re.match(r"^SWMKEY-1-\S+$", key), key
        assert swarm.update(autolock_managers=True, rotate_manager_unlock_key=True) is True
        swarm.reload()
        rotated = swarm.get_unlock_key()["UnlockKey"]
        assert rotated != key and rotated.startswith("SWMKEY-1-")
    finally:
        swarm.reload()
        swarm.update(autolock_managers=False)
    assert swarm.get_unlock_key() == {"UnlockKey": ""}

