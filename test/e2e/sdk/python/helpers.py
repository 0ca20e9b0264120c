"""Waiting, cleaning up and reading tasks, for the docker-py suite."""

import time

import docker

S = 1_000_000_000
MIB = 1024 * 1024
# A container that writes a numbered line to stdout and one to stderr five times a second.
CHATTY = ["sh", "-c", "i=0; while true; do echo out $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done"]
SLEEP = ["sleep", "3600"]


def remove_quietly(remove, object_id):
    """Removes an object made by a test; one already gone is fine."""
    try:
        remove(object_id)
    except docker.errors.NotFound:
        pass


def wait_until(what, probe, timeout=30.0, interval=0.2):
    """Calls probe() until it returns something truthy, and returns that; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def running_tasks(client, service_id):
    """The service's tasks that should run and do."""
    tasks = client.api.tasks(filters={"service": service_id, "desired-state": "running"})
    return [t for t in tasks if t["Status"]["State"] == "running"]


def wait_running(client, service_id, count, timeout=30.0):
    """Waits until exactly `count` tasks of the service run; returns them."""

    def probe():
        tasks = running_tasks(client, service_id)
        return tasks if len(tasks) == count else None

    return wait_until(f"{count} running tasks of service {service_id}", probe, timeout)


def api_error(call, *args, **kwargs):
    """The docker.errors.APIError that call(*args, **kwargs) raises; fails when it succeeds."""
    try:
        result = call(*args, **kwargs)
    except docker.errors.APIError as err:
        return err
    raise AssertionError(f"expected an API error, got {result!r}")


def node_ids(client):
    """Hostname -> node ID."""
    return {n.attrs["Description"]["Hostname"]: n.id for n in client.nodes.list()}
