import { describe, expect, it } from "vitest";
import { PortProtocol, PublishMode, TaskState, type Node, type Task } from "@shoal/shared";
import {
  ellipsis,
  humanDuration,
  parseTaskFilters,
  psJson,
  psTable,
  selectContainers,
  taskContainers,
} from "../../../src/commands/task/task-table.js";

const NOW = Date.parse("2026-12-07T12:00:00Z");

function task(id: string, slot: number, nodeId: string, state: TaskState, more: Partial<Task> = {}): Task {
  return {
    id,
    serviceId: "svc1",
    slot,
    nodeId,
    serviceAnnotations: { name: "web", labels: {} },
    annotations: { name: `web.${slot}`, labels: {} },
    meta: { version: undefined, createdAt: new Date(NOW - 10 * 60_000), updatedAt: undefined },
    spec: { container: { image: "shoal-base:1", command: ["sleep"], args: ["1000000"], labels: { tier: "front" } } },
    desiredState: TaskState.RUNNING,
    status: {
      state,
      timestamp: new Date(NOW - 3 * 60_000),
      message: "",
      err: "",
      health: 0,
      portStatus: undefined,
      containerStatus: { containerId: `${id}c0ffee0123456789`, pid: 1, exitCode: state === TaskState.FAILED ? 3 : 0 },
    },
    ...more,
  } as unknown as Task;
}

const nodes = new Map<string, Node>([
  ["n1", { id: "n1", description: { hostname: "host-a" } } as unknown as Node],
  ["n2", { id: "n2", description: { hostname: "host-b" } } as unknown as Node],
]);

describe("humanDuration (go-units, as docker ps)", () => {
  it.each([
    [500, "Less than a second"],
    [1000, "1 second"],
    [59_000, "59 seconds"],
    [60_000, "About a minute"],
    [119_000, "About a minute"],
    [180_000, "3 minutes"],
    [3_600_000, "About an hour"],
    [5 * 3_600_000, "5 hours"],
    [3 * 86_400_000, "3 days"],
    [21 * 86_400_000, "3 weeks"],
    [90 * 86_400_000, "3 months"],
    [800 * 86_400_000, "2 years"],
  ])("%i ms is %s", (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe("task ps", () => {
  const tasks = [
    task("t1", 1, "n1", TaskState.RUNNING),
    task("t2", 2, "n2", TaskState.RUNNING, {
      status: {
        ...task("t2", 2, "n2", TaskState.RUNNING).status!,
        portStatus: {
          ports: [
            {
              name: "",
              protocol: PortProtocol.TCP,
              targetPort: 80,
              publishedPort: 8080,
              publishMode: PublishMode.HOST,
            },
            {
              name: "",
              protocol: PortProtocol.TCP,
              targetPort: 81,
              publishedPort: 30001,
              publishMode: PublishMode.INGRESS,
            },
          ],
        },
      },
    }),
    task("t3", 3, "n2", TaskState.FAILED),
    task("t4", 4, "n1", TaskState.PENDING, { status: { state: TaskState.PENDING } as Task["status"] }),
  ];
  const containers = taskContainers(tasks, nodes, NOW);

  it("lists the tasks that have a container, with docker ps' columns and the node", () => {
    expect(containers.map((c) => c.name)).toEqual(["web.1.t1", "web.2.t2", "web.3.t3"]);
    const table = psTable(selectContainers(containers, [], false)).split("\n");
    expect(table[0]).toMatch(/^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +NODE$/);
    expect(table[1]).toMatch(
      /^t1c0ffee0123 +shoal-base:1 +"sleep 1000000" +10 minutes ago +Up 3 minutes +web\.1\.t1 +host-a$/,
    );
    expect(table[2]).toContain("0.0.0.0:8080->80/tcp   web.2.t2   host-b");
    expect(table[2]).not.toContain("30001");
    expect(table).toHaveLength(4); // two rows and the final newline: the failed one needs --all
  });

  it("shows stopped containers with --all, as Exited (code)", () => {
    const table = psTable(selectContainers(containers, [], true));
    expect(table).toMatch(/web\.3\.t3 +host-b/);
    expect(table).toContain("Exited (3) 3 minutes ago");
  });

  it("filters by node, service, name, label, id and status", () => {
    const names = (f: string[], all = false): string[] =>
      selectContainers(containers, parseTaskFilters(f), all).map((c) => c.name);
    expect(names(["node=host-b"])).toEqual(["web.2.t2"]);
    expect(names(["node=host-b"], true)).toEqual(["web.2.t2", "web.3.t3"]);
    expect(names(["status=exited"])).toEqual(["web.3.t3"]);
    expect(names(["name=web.1", "name=web.2"])).toEqual(["web.1.t1", "web.2.t2"]);
    expect(names(["label=tier=front", "node=n1"])).toEqual(["web.1.t1"]);
    expect(names(["label=tier=back"])).toEqual([]);
    expect(names(["label=com.shoal.task.id"])).toHaveLength(2);
    expect(names(["id=t2c0ff"])).toEqual(["web.2.t2"]);
    expect(names(["service=web"])).toHaveLength(2);
  });

  it("refuses an unknown filter or status, naming the flag", () => {
    expect(() => parseTaskFilters(["colour=red"])).toThrow(/--filter.*invalid filter "colour=red"/);
    expect(() => parseTaskFilters(["node"])).toThrow(/KEY=VALUE/);
    expect(() => parseTaskFilters(["status=sleeping"])).toThrow(/created, running or exited/);
  });

  it("prints JSON with the node and the task", () => {
    const [first] = JSON.parse(psJson(containers.slice(0, 1))) as Record<string, unknown>[];
    expect(first).toMatchObject({ name: "web.1.t1", node: "host-a", nodeId: "n1", taskId: "t1", state: "running" });
    expect(first).not.toHaveProperty("labels");
  });

  it("truncates the command as docker does", () => {
    expect(ellipsis("sh -c 'while true; do sleep 1; done'", 20)).toBe("sh -c 'while true; …");
    expect(ellipsis("sleep 1", 20)).toBe("sleep 1");
  });
});
