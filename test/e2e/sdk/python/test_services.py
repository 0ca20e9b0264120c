"""docker-py's client.services: create (every mode and option), list with filters, get, tasks, remove."""

import docker
from docker.types import (
    DNSConfig,
    EndpointSpec,
    Healthcheck,
    Resources,
    RestartPolicy,
    ServiceMode,
    UpdateConfig,
)

from helpers import MIB, S, SLEEP, api_error, node_ids, wait_running, wait_until
from shapes import assert_id, assert_service, assert_task


def test_create_replicated_with_every_option(client, cluster, new_network, new_service):
    net = new_network("sdk-full-net", driver="overlay")
    svc = new_service(
        cluster.image,
        command=["sleep"],
        args=["3600"],
        name="sdk-full",
        mode=ServiceMode("replicated", replicas=2),
        labels={"team": "sdk"},
        container_labels={"cl": "1"},
        env=["A=1", "B=two"],
        workdir="/",
        user="0",
        stop_signal="SIGTERM",
        stop_grace_period=3 * S,
        healthcheck=Healthcheck(test=["CMD-SHELL", "true"], interval=S, timeout=2 * S, retries=3, start_period=S),
        constraints=["node.role==worker"],
        preferences=[("spread", "node.labels.zone")],
        maxreplicas=2,
        resources=Resources(cpu_limit=S // 2, mem_limit=64 * MIB, cpu_reservation=S // 10, mem_reservation=16 * MIB),
        restart_policy=RestartPolicy(condition="on-failure", delay=2 * S, max_attempts=3, window=10 * S),
        update_config=UpdateConfig(
            parallelism=1, delay=S, failure_action="rollback", monitor=2 * S, max_failure_ratio=0.4, order="start-first"
        ),
        endpoint_spec=EndpointSpec(mode="vip", ports={18091: (8080, "tcp", "host")}),
        networks=["sdk-full-net"],
        # The rest of the container spec: applied to the containers, and given back as sent.
        hostname="sdk-full",
        hosts={"sdk.example": "10.9.9.9"},
        dns_config=DNSConfig(nameservers=["10.9.9.53"], search=["example"], options=["ndots:1"]),
        groups=["100"],
        init=False,
        read_only=True,
        cap_add=["CAP_NET_ADMIN"],
        cap_drop=["CAP_MKNOD"],
    )
    assert_service(svc.attrs)
    spec = svc.attrs["Spec"]
    template = spec["TaskTemplate"]
    container = {
        "Image": cluster.image,
        "Command": ["sleep"],
        "Args": ["3600"],
        "Labels": {"cl": "1"},
        "Env": ["A=1", "B=two"],
        "Dir": "/",
        "User": "0",
        "StopSignal": "SIGTERM",
        "StopGracePeriod": 3 * S,
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": S, "Timeout": 2 * S, "Retries": 3, "StartPeriod": S},
        "Hostname": "sdk-full",
        "Hosts": ["10.9.9.9 sdk.example"],
        "DNSConfig": {"Nameservers": ["10.9.9.53"], "Search": ["example"], "Options": ["ndots:1"]},
        "Groups": ["100"],
        "Init": False,
        "ReadOnly": True,
        "CapabilityAdd": ["CAP_NET_ADMIN"],
        "CapabilityDrop": ["CAP_MKNOD"],
    }
    ports = [{"Protocol": "tcp", "TargetPort": 8080, "PublishedPort": 18091, "PublishMode": "host"}]
    expected = {
        "Name": "sdk-full",
        "Labels": {"team": "sdk"},
        "Mode": {"Replicated": {"Replicas": 2}},
        "ContainerSpec": container,
        "Resources": {
            "Limits": {"NanoCPUs": S // 2, "MemoryBytes": 64 * MIB},
            "Reservations": {"NanoCPUs": S // 10, "MemoryBytes": 16 * MIB},
        },
        "RestartPolicy": {"Condition": "on-failure", "Delay": 2 * S, "MaxAttempts": 3, "Window": 10 * S},
        "Placement": {
            "Constraints": ["node.role==worker"],
            "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
            "MaxReplicas": 2,
        },
        "Networks": [{"Target": net.id}],
        "ForceUpdate": 0,
        "UpdateConfig": {
            "Parallelism": 1,
            "Delay": S,
            "FailureAction": "rollback",
            "Monitor": 2 * S,
            "MaxFailureRatio": 0.4,
            "Order": "start-first",
        },
        "EndpointSpec": {"Mode": "vip", "Ports": ports},
        "Endpoint.Spec": {"Mode": "vip", "Ports": ports},
        "Endpoint.Ports": ports,
    }
    # Compared in one go, so that the report lists every difference.
    got = {
        "Name": spec.get("Name"),
        "Labels": spec.get("Labels"),
        "Mode": spec.get("Mode"),
        "ContainerSpec": {k: template["ContainerSpec"].get(k, "<absent>") for k in container},
        **{k: template.get(k, "<absent>") for k in ("Resources", "RestartPolicy", "Placement", "Networks")},
        "ForceUpdate": template.get("ForceUpdate"),
        "UpdateConfig": spec.get("UpdateConfig"),
        "EndpointSpec": spec.get("EndpointSpec"),
        "Endpoint.Spec": svc.attrs["Endpoint"].get("Spec"),
        "Endpoint.Ports": svc.attrs["Endpoint"].get("Ports"),
    }
    assert got == expected
    assert isinstance(spec["UpdateConfig"]["MaxFailureRatio"], float)

    # One task per worker (the host port allows no more), each running.
    tasks = wait_running(client, svc.id, 2)
    assert sorted(t["Slot"] for t in tasks) == [1, 2]
    assert {t["NodeID"] for t in tasks} == {node_ids(client)[h["name"]] for h in cluster.ready}


def test_create_answers_the_id(client, cluster, new_service):
    created = client.api.create_service(
        docker.types.TaskTemplate(docker.types.ContainerSpec(cluster.image, command=SLEEP)), name="sdk-low"
    )
    new_service.track(created["ID"])
    assert set(created) <= {"ID", "Warnings"}
    assert_id(created["ID"])
    assert client.services.get(created["ID"]).name == "sdk-low"


def test_create_global(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-global", mode=ServiceMode("global"))
    assert svc.attrs["Spec"]["Mode"] == {"Global": {}}
    tasks = wait_running(client, svc.id, len(cluster.ready))
    assert {t["NodeID"] for t in tasks} == {node_ids(client)[h["name"]] for h in cluster.ready}
    for t in tasks:
        assert_task(t, svc.id)
        assert "Slot" not in t


def test_defaults(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-defaults")
    spec = svc.attrs["Spec"]
    # No mode: one replica, stored as such.
    assert spec["Mode"] == {"Replicated": {"Replicas": 1}}
    assert spec["Labels"] == {}
    assert "UpdateConfig" not in spec and "RollbackConfig" not in spec
    assert "StopGracePeriod" not in spec["TaskTemplate"]["ContainerSpec"]
    full = client.services.get(svc.id, insert_defaults=True).attrs["Spec"]
    assert full["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"] == 10 * S
    assert full["TaskTemplate"]["RestartPolicy"] == {"Condition": "any", "Delay": 5 * S, "MaxAttempts": 0}
    defaults = {
        "Parallelism": 1,
        "FailureAction": "pause",
        "Monitor": 5 * S,
        "MaxFailureRatio": 0,
        "Order": "stop-first",
    }
    assert full["UpdateConfig"] == defaults
    assert full["RollbackConfig"] == defaults


def test_list_with_filters(client, cluster, new_service):
    web = new_service(cluster.image, command=SLEEP, name="sdk-ls-web", labels={"tier": "web", "team": "a"})
    db = new_service(cluster.image, command=SLEEP, name="sdk-ls-db", labels={"tier": "db"})

    def ids(**filters):
        return sorted(s.id for s in client.services.list(filters=filters))

    assert ids(name="sdk-ls-") == sorted([web.id, db.id])
    assert ids(name="sdk-ls-web") == [web.id]
    assert ids(id=db.id[:12]) == [db.id]
    assert ids(label="tier=web") == [web.id]
    assert ids(label="tier") == sorted([web.id, db.id])
    assert ids(label=["tier", "team=a"]) == [web.id]
    assert ids(name="sdk-nosuch") == []
    for s in client.services.list(filters={"name": "sdk-ls-"}):
        assert_service(s.attrs)
    err = api_error(client.services.list, filters={"colour": "blue"})
    assert err.status_code == 400
    assert "Invalid filter 'colour'" in err.explanation
    glob = new_service(cluster.image, command=SLEEP, name="sdk-ls-glob", mode=ServiceMode("global"))
    assert ids(mode="global", name="sdk-ls-") == [glob.id]
    assert ids(mode="replicated", name="sdk-ls-") == sorted([web.id, db.id])


def test_get_by_id_name_and_prefix(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-get")
    assert client.services.get("sdk-get").id == svc.id
    assert client.services.get(svc.id[:10]).id == svc.id
    assert client.services.get(svc.id).attrs == svc.attrs
    missing = api_error(client.services.get, "nosuch")
    assert isinstance(missing, docker.errors.NotFound)
    assert missing.explanation == "service nosuch not found"


def test_duplicate_name_is_a_conflict(client, cluster, new_service):
    new_service(cluster.image, command=SLEEP, name="sdk-dup")
    err = api_error(client.services.create, cluster.image, command=SLEEP, name="sdk-dup")
    assert err.status_code == 409


def test_tasks(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-tasks", env=["K=v"])
    tasks = wait_running(client, svc.id, 1)
    assert [t["ID"] for t in svc.tasks()] == [tasks[0]["ID"]]
    task = tasks[0]
    assert_task(task, svc.id)
    assert task["Slot"] == 1
    assert task["DesiredState"] == "running"
    assert task["Spec"]["ContainerSpec"]["Env"] == ["K=v"]
    assert task["Spec"]["ContainerSpec"]["Image"] == cluster.image
    inspected = client.api.inspect_task(task["ID"])
    assert_task(inspected, svc.id)
    assert inspected["ID"] == task["ID"]
    by_name = client.api.tasks(filters={"service": "sdk-tasks", "desired-state": "running"})
    assert [t["ID"] for t in by_name] == [task["ID"]]
    node = client.nodes.get(task["NodeID"])
    assert [t["ID"] for t in svc.tasks(filters={"node": node.id})] == [task["ID"]]
    assert svc.tasks(filters={"desired-state": "shutdown"}) == []
    missing = api_error(client.api.inspect_task, "nosuch")
    assert isinstance(missing, docker.errors.NotFound)
    assert missing.explanation == "task nosuch not found"


def test_remove(client, cluster, new_service):
    # sleep as PID 1 ignores SIGTERM: its task would go only after the default 10 s grace.
    svc = new_service(cluster.image, command=SLEEP, name="sdk-rm", stop_grace_period=S)
    wait_running(client, svc.id, 1)
    assert svc.remove() is True
    assert isinstance(api_error(client.services.get, svc.id), docker.errors.NotFound)
    # Its tasks go with it.
    wait_until("the removed service's tasks to go", lambda: client.api.tasks(filters={"service": svc.id}) == [])
    missing = api_error(client.api.remove_service, "nosuch")
    assert isinstance(missing, docker.errors.NotFound)
    assert missing.explanation == "service nosuch not found"
