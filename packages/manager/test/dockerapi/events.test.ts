// GET /events: the cluster's events as Docker's messages (a task container's start and end, an
// exec, swarm-scope services and nodes) and Docker's filters on them.
import { EventAction, EventType, type Event } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { dockerEvent, matchesEvent } from "../../src/dockerapi/events.js";
import { parseFilters } from "../../src/dockerapi/filters.js";

const time = new Date("2026-12-07T12:00:00.250Z");

function taskEvent(oldState: string, newState: string, containerId = "c0ffee"): Event {
  return {
    type: EventType.TASK,
    action: EventAction.UPDATE,
    id: "task1",
    name: "web.2",
    time,
    index: 9,
    changes: [{ field: "state", old: oldState, new: newState }],
    attributes: {
      service_id: "svc1",
      node_id: "node1",
      slot: "2",
      ...(containerId ? { container_id: containerId } : {}),
    },
  };
}

const filters = (json: object): ReturnType<typeof parseFilters> =>
  parseFilters(JSON.stringify(json), ["type", "event", "container", "service", "node", "scope"]);

describe("dockerEvent", () => {
  it("makes a task container's start and end container events, named as docker ps names it", () => {
    expect(dockerEvent(taskEvent("starting", "running"))).toEqual({
      status: "start",
      id: "c0ffee",
      from: "",
      Type: "container",
      Action: "start",
      Actor: {
        ID: "c0ffee",
        Attributes: {
          name: "web.2.task1",
          "com.docker.swarm.task.id": "task1",
          "com.docker.swarm.task.name": "web.2",
          "com.docker.swarm.service.id": "svc1",
          "com.docker.swarm.node.id": "node1",
        },
      },
      scope: "local",
      time: 1796644800,
      timeNano: 1796644800250000000,
    });
    expect(dockerEvent(taskEvent("running", "failed"))?.Action).toBe("die");
    expect(dockerEvent(taskEvent("failed", "shutdown"))).toBeUndefined(); // it died once
    expect(dockerEvent(taskEvent("pending", "assigned", ""))).toBeUndefined(); // no container yet
  });

  it("makes an exec the container's exec_start, and services and nodes swarm-scope events", () => {
    const exec: Event = {
      type: EventType.EXEC,
      action: EventAction.CREATE,
      id: "task1",
      name: "web.2",
      time,
      index: 10,
      changes: [],
      attributes: { task_id: "task1", container_id: "c0ffee", cmd: "sh -c date", caller: "admin" },
    };
    expect(dockerEvent(exec)).toMatchObject({ Type: "container", Action: "exec_start: sh -c date", id: "c0ffee" });
    const service: Event = {
      type: EventType.SERVICE,
      action: EventAction.UPDATE,
      id: "svc1",
      name: "web",
      time,
      index: 11,
      changes: [{ field: "replicas", old: "2", new: "4" }],
      attributes: {},
    };
    expect(dockerEvent(service)).toEqual({
      Type: "service",
      Action: "update",
      Actor: { ID: "svc1", Attributes: { name: "web", "replicas.old": "2", "replicas.new": "4" } },
      scope: "swarm",
      time: 1796644800,
      timeNano: 1796644800250000000,
    });
  });
});

describe("matchesEvent", () => {
  const start = dockerEvent(taskEvent("starting", "running"))!;
  const exec = dockerEvent({
    ...taskEvent("", ""),
    type: EventType.EXEC,
    attributes: { task_id: "task1", container_id: "c0ffee", cmd: "ls" },
  })!;

  it("filters by type, event, container (id prefix or name), service, node and scope", () => {
    expect(matchesEvent(start, filters({ type: { container: true } }))).toBe(true);
    expect(matchesEvent(start, filters({ type: { service: true } }))).toBe(false);
    expect(matchesEvent(start, filters({ event: { start: true, die: true } }))).toBe(true);
    expect(matchesEvent(exec, filters({ event: { exec_start: true } }))).toBe(true);
    expect(matchesEvent(start, filters({ container: { c0f: true } }))).toBe(true);
    expect(matchesEvent(start, filters({ container: { "web.2.task1": true } }))).toBe(true);
    expect(matchesEvent(start, filters({ container: { beef: true } }))).toBe(false);
    expect(matchesEvent(start, filters({ service: { svc1: true }, node: { node1: true } }))).toBe(true);
    expect(matchesEvent(start, filters({ node: { node2: true } }))).toBe(false);
    expect(matchesEvent(start, filters({ scope: { swarm: true } }))).toBe(false);
  });

  it("refuses a filter it does not know, naming it", () => {
    expect(() => filters({ image: { busybox: true } })).toThrow(/Invalid filter 'image'/);
  });
});
