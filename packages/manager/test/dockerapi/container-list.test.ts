import { describe, expect, it } from "vitest";
import { HealthState, PortProtocol, Task, TaskState } from "@shoal/shared";
import {
  checkContainerFilters,
  containerStatus,
  humanDuration,
  listContainers,
} from "../../src/dockerapi/container-list.js";
import { parseFilters } from "../../src/dockerapi/filters.js";

const NOW = Date.parse("2026-12-07T12:00:00Z");

function task(
  id: string,
  fields: {
    slot?: number;
    node?: string;
    state?: TaskState;
    container?: string;
    since?: number;
    exit?: number;
    health?: HealthState;
    created?: number;
    labels?: Record<string, string>;
  } = {},
): Task {
  return Task.fromPartial({
    id,
    serviceId: "svc1",
    slot: fields.slot ?? 1,
    nodeId: fields.node ?? "node1",
    meta: { createdAt: new Date(fields.created ?? NOW - 3_600_000) },
    serviceAnnotations: { name: "web" },
    spec: {
      container: { image: "busybox:1", command: ["sh", "-c"], args: ["sleep 1000"], labels: fields.labels ?? {} },
    },
    status: {
      state: fields.state ?? TaskState.RUNNING,
      timestamp: new Date(NOW - (fields.since ?? 180_000)),
      health: fields.health ?? HealthState.NONE,
      containerStatus:
        fields.container === ""
          ? undefined
          : { containerId: fields.container ?? `c-${id}`, exitCode: fields.exit ?? 0 },
      portStatus: { ports: [{ targetPort: 80, publishedPort: 8080, protocol: PortProtocol.TCP }] },
    },
  });
}

const HOSTS = new Map([
  ["node1", "host-one"],
  ["node2", "host-two"],
]);

function ps(tasks: Task[], filters: Record<string, string[]> = {}, all = false): Record<string, unknown>[] {
  const f = parseFilters(JSON.stringify(filters), ["id", "name", "label", "status", "exited", "health", "node"]);
  checkContainerFilters(f);
  return listContainers(tasks, HOSTS, f, { all, limit: -1, now: NOW });
}

const ids = (rows: Record<string, unknown>[]): unknown[] => rows.map((r) => r["Id"]);

describe("humanDuration (Go's units.HumanDuration)", () => {
  it("words a duration as docker ps does", () => {
    expect(humanDuration(400)).toBe("Less than a second");
    expect(humanDuration(1000)).toBe("1 second");
    expect(humanDuration(42_000)).toBe("42 seconds");
    expect(humanDuration(90_000)).toBe("About a minute");
    expect(humanDuration(3 * 60_000)).toBe("3 minutes");
    expect(humanDuration(65 * 60_000)).toBe("About an hour");
    expect(humanDuration(5 * 3_600_000)).toBe("5 hours");
    expect(humanDuration(3 * 86_400_000)).toBe("3 days");
  });
});

describe("containerStatus", () => {
  it("is Up with the health, Exited with the code, or Created", () => {
    expect(containerStatus(task("t1"), NOW)).toBe("Up 3 minutes");
    expect(containerStatus(task("t1", { health: HealthState.HEALTHY }), NOW)).toBe("Up 3 minutes (healthy)");
    expect(containerStatus(task("t1", { health: HealthState.STARTING }), NOW)).toBe("Up 3 minutes (health: starting)");
    expect(containerStatus(task("t1", { state: TaskState.FAILED, exit: 3, since: 7_200_000 }), NOW)).toBe(
      "Exited (3) 2 hours ago",
    );
    expect(containerStatus(task("t1", { state: TaskState.STARTING }), NOW)).toBe("Created");
  });
});

describe("listContainers", () => {
  it("shows a task's container as Docker's ContainerSummary, with the node in its labels", () => {
    const [row] = ps([task("t1", { labels: { "com.docker.stack.namespace": "st" } })]);
    expect(row).toMatchObject({
      Id: "c-t1",
      Names: ["/web.1.t1"],
      Image: "busybox:1",
      Command: "sh -c sleep 1000",
      Created: Math.floor((NOW - 3_600_000) / 1000),
      State: "running",
      Status: "Up 3 minutes",
      Ports: [{ IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" }],
    });
    expect(row!["Labels"]).toMatchObject({
      "com.docker.stack.namespace": "st",
      "com.docker.swarm.node.id": "node1",
      "com.docker.swarm.service.id": "svc1",
      "com.docker.swarm.service.name": "web",
      "com.docker.swarm.task.id": "t1",
      "com.docker.swarm.task.name": "web.1.t1",
      "com.shoal.node.hostname": "host-one",
    });
  });

  it("names a global task's container by its node", () => {
    expect(ps([task("t1", { slot: 0, node: "node2" })])[0]!["Names"]).toEqual(["/web.node2.t1"]);
  });

  it("lists running containers, and with all the stopped ones too, newest first, never a task without one", () => {
    const tasks = [
      task("old", { state: TaskState.SHUTDOWN, created: NOW - 7_200_000 }),
      task("run", { created: NOW - 60_000 }),
      task("none", { container: "", state: TaskState.PREPARING }),
      task("new", { created: NOW - 1000 }),
    ];
    expect(ids(ps(tasks))).toEqual(["c-new", "c-run"]);
    expect(ids(ps(tasks, {}, true))).toEqual(["c-new", "c-run", "c-old"]);
  });

  it("filters by label (the node id), name, status, exited, health, id and node", () => {
    const tasks = [
      task("a", { node: "node1" }),
      task("b", { node: "node2", slot: 2, health: HealthState.UNHEALTHY }),
      task("c", { state: TaskState.FAILED, exit: 2, slot: 3 }),
    ];
    expect(ids(ps(tasks, { label: ["com.docker.swarm.node.id=node2"] }))).toEqual(["c-b"]);
    expect(ids(ps(tasks, { label: ["com.shoal.node.hostname=host-one"] }, true)).sort()).toEqual(["c-a", "c-c"]);
    expect(ids(ps(tasks, { name: ["web.2"] }))).toEqual(["c-b"]);
    expect(ids(ps(tasks, { name: ["^/web\\.1\\."] }))).toEqual(["c-a"]);
    expect(ids(ps(tasks, { name: ["^web\\.1\\."] }))).toEqual(["c-a"]);
    // A status filter lists stopped containers without `all`, as Docker.
    expect(ids(ps(tasks, { status: ["exited"] }))).toEqual(["c-c"]);
    expect(ids(ps(tasks, { exited: ["2"] }, true))).toEqual(["c-c"]);
    expect(ids(ps(tasks, { exited: ["0"] }, true))).toEqual([]);
    expect(ids(ps(tasks, { health: ["unhealthy"] }))).toEqual(["c-b"]);
    expect(ids(ps(tasks, { id: ["c-a"] }))).toEqual(["c-a"]);
    expect(ids(ps(tasks, { node: ["host-two"] }))).toEqual(["c-b"]);
  });

  it("refuses an unknown filter or a bad value, naming it", () => {
    expect(() => ps([], { color: ["red"] })).toThrow(/Invalid filter 'color'/);
    expect(() => ps([], { status: ["sleeping"] })).toThrow(/invalid filter 'status=sleeping'/);
    expect(() => ps([], { exited: ["x"] })).toThrow(/invalid filter 'exited=x'/);
  });

  it("lists 10,000 tasks in a few seconds at most, even on a loaded machine", () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      task(`t${i}`, { slot: i + 1, node: i % 2 ? "node1" : "node2" }),
    );
    const start = performance.now();
    const rows = ps(many, { label: ["com.docker.swarm.node.id=node1"] });
    expect(rows).toHaveLength(5000);
    expect(performance.now() - start).toBeLessThan(3000);
  });
});
