"""docker-py's Service: update, scale, force_update, rollback, healthcheck changes, logs."""

import copy
import re

import docker
from docker.types import Healthcheck, RollbackConfig, UpdateConfig

from helpers import CHATTY, S, SLEEP, api_error, running_tasks, wait_running, wait_until
from shapes import assert_service, assert_time

WARNINGS_NULL = {"Warnings": None}


def rollback(client, svc):
    """`docker service rollback`'s request, POST /services/{id}/update?rollback=previous with the
    current spec: docker-py has no call for it, so it goes through its APIClient's session."""
    api = client.api
    url = api._url("/services/{0}/update", svc.id)
    res = api._post_json(url, data=svc.attrs["Spec"], params={"version": svc.version, "rollback": "previous"})
    return api._result(res, json=True)


def update_state(client, service_id):
    return client.services.get(service_id).attrs.get("UpdateStatus", {}).get("State")


def test_update_changes_the_spec_and_keeps_the_previous_one(client, cluster, new_service):
    svc = new_service(
        cluster.image,
        command=SLEEP,
        name="sdk-upd",
        env=["A=1"],
        stop_grace_period=S,  # sleep as PID 1 ignores SIGTERM: no 10 s wait for the old task
        update_config=UpdateConfig(parallelism=1, monitor=S, failure_action="pause"),
    )
    first = wait_running(client, svc.id, 1)[0]
    version = svc.version
    result = svc.update(image=cluster.image2, env=["A=2", "B=3"], container_labels={"v": "2"}, labels={"rev": "2"})
    assert result == WARNINGS_NULL
    svc.reload()
    assert_service(svc.attrs)
    assert svc.version > version
    spec = svc.attrs["Spec"]
    assert spec["Labels"] == {"rev": "2"}
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert container["Image"] == cluster.image2
    assert container["Command"] == SLEEP
    assert container["Env"] == ["A=2", "B=3"]
    assert container["Labels"] == {"v": "2"}
    previous = svc.attrs["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]
    assert previous["Image"] == cluster.image and previous["Env"] == ["A=1"]
    status = svc.attrs["UpdateStatus"]
    assert status["State"] in ("updating", "completed")
    assert_time(status["StartedAt"])
    assert isinstance(status["Message"], str)

    def replaced():
        tasks = running_tasks(client, svc.id)
        return [t for t in tasks if t["ID"] != first["ID"] and t["Spec"]["ContainerSpec"]["Image"] == cluster.image2]

    wait_until("the task on the new image", replaced)
    wait_until("the update to complete", lambda: update_state(client, svc.id) == "completed")
    done = client.services.get(svc.id).attrs["UpdateStatus"]
    assert_time(done["CompletedAt"])
    assert done["Message"] == "update completed"


def test_stale_version_is_refused(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-stale")
    stale = svc.version
    svc.update(env=["X=1"])
    two = {"Replicated": {"Replicas": 2}}
    err = api_error(client.api.update_service, svc.id, stale, mode=two, fetch_current_spec=True)
    assert err.status_code == 409, err.explanation
    assert client.services.get(svc.id).attrs["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}


def test_update_and_rollback_configs_round_trip(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-cfg")
    result = client.api.update_service(
        svc.id,
        svc.version,
        fetch_current_spec=True,
        update_config=UpdateConfig(
            parallelism=2, delay=S, failure_action="pause", monitor=3 * S, max_failure_ratio=0.4, order="start-first"
        ),
        rollback_config=RollbackConfig(
            parallelism=3,
            delay=2 * S,
            failure_action="continue",
            monitor=4 * S,
            max_failure_ratio=0.1,
            order="stop-first",
        ),
    )
    assert result == WARNINGS_NULL
    svc.reload()
    spec = svc.attrs["Spec"]
    assert spec["UpdateConfig"] == {
        "Parallelism": 2,
        "Delay": S,
        "FailureAction": "pause",
        "Monitor": 3 * S,
        "MaxFailureRatio": 0.4,
        "Order": "start-first",
    }
    assert spec["RollbackConfig"] == {
        "Parallelism": 3,
        "Delay": 2 * S,
        "FailureAction": "continue",
        "Monitor": 4 * S,
        "MaxFailureRatio": 0.1,
        "Order": "stop-first",
    }


def test_scale(client, cluster, new_service):
    svc = new_service(cluster.image, command=SLEEP, name="sdk-scale")
    wait_running(client, svc.id, 1)
    svc.reload()
    assert svc.scale(3) == WARNINGS_NULL
    svc.reload()
    assert svc.attrs["Spec"]["Mode"] == {"Replicated": {"Replicas": 3}}
    tasks = wait_running(client, svc.id, 3)
    assert sorted(t["Slot"] for t in tasks) == [1, 2, 3]
    svc.reload()
    assert svc.scale(1) == WARNINGS_NULL
    wait_running(client, svc.id, 1)


def test_force_update(client, cluster, new_service):
    # sleep as PID 1 ignores SIGTERM: the old task would wait out the default 10 s grace.
    svc = new_service(cluster.image, command=SLEEP, name="sdk-force", stop_grace_period=S)
    before = wait_running(client, svc.id, 1)[0]
    svc.reload()
    assert svc.force_update() == WARNINGS_NULL
    svc.reload()
    assert svc.attrs["Spec"]["TaskTemplate"]["ForceUpdate"] == 1
    # Nothing else changed, and still the task is replaced.
    after = wait_until(
        "a new task", lambda: [t for t in running_tasks(client, svc.id) if t["ID"] != before["ID"]], timeout=30
    )
    assert after[0]["Spec"]["ForceUpdate"] == 1
    assert after[0]["Slot"] == before["Slot"]


def test_rollback(client, cluster, new_service):
    # sleep as PID 1 ignores SIGTERM: each replaced task would wait out the default 10 s grace.
    svc = new_service(cluster.image, command=SLEEP, name="sdk-rollback", env=["V=1"], stop_grace_period=S)
    wait_running(client, svc.id, 1)
    never_updated = api_error(rollback, client, svc)
    assert never_updated.status_code == 400
    assert "previous spec" in never_updated.explanation
    svc.update(env=["V=2"])
    svc.reload()
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=2"]
    assert rollback(client, svc) == WARNINGS_NULL
    svc.reload()
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=1"]
    assert svc.attrs["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=2"]
    status = svc.attrs["UpdateStatus"]
    assert status["State"] in ("rollback_started", "rollback_completed")
    assert_time(status["StartedAt"])
    wait_until("the rollback to complete", lambda: update_state(client, svc.id) == "rollback_completed")
    assert client.services.get(svc.id).attrs["UpdateStatus"]["Message"] == "rollback completed"

    def on_v1():
        tasks = running_tasks(client, svc.id)
        return len(tasks) == 1 and tasks[0]["Spec"]["ContainerSpec"]["Env"] == ["V=1"]

    wait_until("the task of the rolled back spec", on_v1)


def test_healthcheck_none_and_removal(client, cluster, new_service):
    svc = new_service(
        cluster.image, command=SLEEP, name="sdk-health", healthcheck=Healthcheck(test=["CMD-SHELL", "true"], interval=S)
    )
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": S,
    }
    # `docker service update --no-healthcheck` sends Test ["NONE"]: kept as sent.
    assert svc.update(healthcheck=Healthcheck(test=["NONE"])) == WARNINGS_NULL
    svc.reload()
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"] == {"Test": ["NONE"]}
    # An update replaces the whole spec: one sent without a healthcheck leaves none.
    spec = svc.attrs["Spec"]
    template = copy.deepcopy(spec["TaskTemplate"])
    del template["ContainerSpec"]["Healthcheck"]
    client.api.update_service(svc.id, svc.version, task_template=template, name=spec["Name"], mode=spec["Mode"])
    svc.reload()
    assert "Healthcheck" not in svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Command"] == SLEEP


def test_logs(client, cluster, new_service):
    svc = new_service(cluster.image, command=CHATTY, name="sdk-logs")
    task = wait_running(client, svc.id, 1)[0]
    wait_until("eight lines of logs", lambda: len(list(svc.logs(stdout=True, stderr=True))) >= 8)
    lines = list(svc.logs(stdout=True, stderr=True, tail=4))
    assert len(lines) == 4, lines
    for line in lines:
        assert re.fullmatch(rb"(out|err) \d+\n", line), line
    assert {line.split(b" ")[0] for line in lines} == {b"out", b"err"}
    out = list(svc.logs(stdout=True, tail=6))
    assert out and all(line.startswith(b"out ") for line in out)
    err = list(svc.logs(stderr=True, tail=6))
    assert err and all(line.startswith(b"err ") for line in err)
    detailed = list(svc.logs(stdout=True, stderr=True, tail=2, timestamps=True, details=True))
    assert len(detailed) == 2
    context = (
        f"com.docker.swarm.node.id={task['NodeID']},com.docker.swarm.service.id={svc.id},"
        f"com.docker.swarm.task.id={task['ID']}"
    ).encode()
    for line in detailed:
        assert re.fullmatch(
            rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z " + re.escape(context) + rb" (out|err) \d+\n", line
        ), line
    by_name = list(client.api.service_logs("sdk-logs", stdout=True, tail=1))
    assert len(by_name) <= 1 and all(line.startswith(b"out ") for line in by_name)
    neither = api_error(lambda: list(svc.logs()))
    assert neither.status_code == 400
    missing = api_error(lambda: list(client.api.service_logs("nosuch", stdout=True, is_tty=False)))
    assert isinstance(missing, docker.errors.NotFound)
