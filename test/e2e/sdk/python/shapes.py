"""Checks of response shapes against what a Docker 20.10 swarm manager answers (API 1.41).

The reference is the recorded exchanges of /work/shared/data (show-trace.js) and Docker's API
types: field names, JSON types, object IDs of 25 characters [0-9a-z], times as RFC 3339 with up
to nanoseconds in UTC, durations as integer nanoseconds, fields Docker omits when empty absent.
Where Docker adds fields Shoal does not model (NetworksAttachments, VirtualIPs, Isolation,
Runtime), the checks do not look at them.
"""

import platform
import re

ID = re.compile(r"^[0-9a-z]{25}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
JOIN_TOKEN = re.compile(r"^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$")
TASK_STATES = {
    "new", "pending", "assigned", "accepted", "preparing", "starting", "running",
    "complete", "shutdown", "failed", "rejected", "remove", "orphaned", "ready",
}  # fmt: skip
PEM = "-----BEGIN CERTIFICATE-----"


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def assert_id(value):
    assert isinstance(value, str) and ID.match(value), f"not a swarm object ID: {value!r}"


def assert_time(value):
    assert isinstance(value, str) and TIME.match(value), f"not an RFC 3339 UTC time: {value!r}"


def assert_meta(obj):
    """ID, Version.Index, CreatedAt and UpdatedAt, as every swarm object has them."""
    assert_id(obj["ID"])
    assert set(obj["Version"]) == {"Index"}
    assert is_int(obj["Version"]["Index"]) and obj["Version"]["Index"] > 0
    assert_time(obj["CreatedAt"])
    assert_time(obj["UpdatedAt"])
    assert obj["UpdatedAt"] >= obj["CreatedAt"][:19]


def assert_node(node):
    """A node of GET /nodes: a worker here (managers are not agents in Shoal)."""
    assert_meta(node)
    spec = node["Spec"]
    assert set(spec) <= {"Name", "Labels", "Role", "Availability"}
    assert isinstance(spec["Labels"], dict)
    assert spec["Role"] == "worker"
    assert spec["Availability"] in ("active", "pause", "drain")
    d = node["Description"]
    assert isinstance(d["Hostname"], str) and d["Hostname"] != ""
    # Docker reports the engine's `uname -m` and OS.
    assert d["Platform"] == {"Architecture": platform.machine(), "OS": "linux"}
    assert is_int(d["Resources"]["NanoCPUs"]) and d["Resources"]["NanoCPUs"] > 0
    assert is_int(d["Resources"]["MemoryBytes"]) and d["Resources"]["MemoryBytes"] > 0
    engine = d["Engine"]
    assert isinstance(engine["EngineVersion"], str) and engine["EngineVersion"] != ""
    plugins = engine["Plugins"]
    assert isinstance(plugins, list) and plugins, "Description.Engine.Plugins lists the engine's plugins"
    for p in plugins:
        assert set(p) == {"Type", "Name"} and all(isinstance(v, str) for v in p.values())
    assert {"Type": "Volume", "Name": "local"} in plugins
    tls = d["TLSInfo"]
    assert tls["TrustRoot"].startswith(PEM)
    assert isinstance(tls["CertIssuerSubject"], str) and tls["CertIssuerSubject"] != ""
    assert isinstance(tls["CertIssuerPublicKey"], str) and tls["CertIssuerPublicKey"] != ""
    assert node["Status"]["State"] in ("unknown", "down", "ready", "disconnected")
    assert isinstance(node["Status"]["Addr"], str)
    assert "ManagerStatus" not in node


def assert_task(task, service_id):
    """A task of GET /tasks or GET /tasks/{id}."""
    assert_meta(task)
    assert task["Labels"] == {}
    assert isinstance(task["Spec"]["ContainerSpec"]["Image"], str)
    assert task["ServiceID"] == service_id
    assert task["DesiredState"] in TASK_STATES
    status = task["Status"]
    assert_time(status["Timestamp"])
    assert status["State"] in TASK_STATES
    assert isinstance(status["Message"], str)
    assert isinstance(status["PortStatus"], dict)
    if status["State"] == "running":
        assert_id(task["NodeID"])
        c = status["ContainerStatus"]
        assert isinstance(c["ContainerID"], str) and len(c["ContainerID"]) == 64
        assert is_int(c["PID"]) and c["PID"] > 0
        assert is_int(c["ExitCode"])
    if "Slot" in task:
        assert is_int(task["Slot"]) and task["Slot"] > 0


def assert_service(svc):
    """A service of GET /services or GET /services/{id}."""
    assert_meta(svc)
    spec = svc["Spec"]
    assert isinstance(spec["Name"], str) and spec["Name"] != ""
    assert isinstance(spec["Labels"], dict)
    assert isinstance(spec["TaskTemplate"]["ContainerSpec"]["Image"], str)
    assert is_int(spec["TaskTemplate"]["ForceUpdate"])
    mode = spec["Mode"]
    assert len(mode) == 1 and ("Global" in mode or "Replicated" in mode), f"Spec.Mode: {mode!r}"
    if "Replicated" in mode:
        assert is_int(mode["Replicated"]["Replicas"])
    assert isinstance(svc["Endpoint"], dict) and isinstance(svc["Endpoint"]["Spec"], dict)
