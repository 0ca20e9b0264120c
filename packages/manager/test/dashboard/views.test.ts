import {
  HealthState,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  PortProtocol,
  Reachability,
  Service,
  Task,
  TaskState,
  UpdateState,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { DashboardFeed, changeOf } from "../../src/dashboard/feed.js";
import { isCurrentTask, nodeView, serviceView, taskView } from "../../src/dashboard/views.js";
import { MemoryStore } from "../../src/state/store/index.js";
import type { ObjectEvent } from "../../src/state/store/types.js";
import { silentLogger } from "@shoal/shared";

const task = (over: Partial<Task> = {}): Task =>
  Task.fromPartial({
    id: "t1",
    serviceId: "s1",
    slot: 3,
    nodeId: "n1",
    serviceAnnotations: { name: "web" },
    desiredState: TaskState.RUNNING,
    spec: { container: { image: "img:1" }, resources: { reservations: { nanoCpus: 5e8, memoryBytes: 1024 } } },
    status: {
      state: TaskState.RUNNING,
      message: "started",
      health: HealthState.HEALTHY,
      containerStatus: { containerId: "c1" },
      timestamp: new Date("2026-01-02T03:04:05Z"),
    },
    meta: { version: { index: 9 } },
    ...over,
  });

describe("dashboard views", () => {
  it("a node: role, status, availability, manager status, resources, as the CLI names them", () => {
    const v = nodeView(
      Node.fromPartial({
        id: "n1",
        role: NodeRole.MANAGER,
        spec: { availability: NodeAvailability.DRAIN, annotations: { labels: { zone: "a" } } },
        status: { state: NodeState.READY, addr: "10.0.0.1" },
        managerStatus: { leader: false, reachability: Reachability.REACHABLE },
        description: {
          hostname: "h1",
          resources: { nanoCpus: 2e9, memoryBytes: 4096 },
          engine: { engineVersion: "20.10" },
        },
        meta: { version: { index: 4 } },
      }),
    );
    expect(v).toEqual({
      id: "n1",
      hostname: "h1",
      role: "manager",
      status: "ready",
      availability: "drain",
      managerStatus: "reachable",
      addr: "10.0.0.1",
      engineVersion: "20.10",
      labels: { zone: "a" },
      resources: { nanoCpus: 2e9, memoryBytes: 4096 },
      version: 4,
    });
    expect(nodeView(Node.fromPartial({ id: "w" })).managerStatus).toBe("");
  });

  it("a service: mode, replicas, image, update status and published ports", () => {
    const v = serviceView(
      Service.fromPartial({
        id: "s1",
        spec: {
          annotations: { name: "web" },
          taskTemplate: { container: { image: "img:2" } },
          mode: { $case: "replicated", value: { replicas: 5 } },
        },
        updateStatus: { state: UpdateState.ROLLBACK_STARTED, message: "rolling back" },
        endpoint: { ports: [{ publishedPort: 8080, targetPort: 80, protocol: PortProtocol.UDP }] },
        meta: { createdAt: new Date("2026-01-01T00:00:00Z"), version: { index: 7 } },
      }),
    );
    expect(v).toMatchObject({
      name: "web",
      mode: "replicated",
      replicas: 5,
      image: "img:2",
      updateStatus: { state: "rollback_started", message: "rolling back" },
      ports: ["8080:80/udp"],
      createdAt: "2026-01-01T00:00:00.000Z",
      version: 7,
    });
    const global = serviceView(Service.fromPartial({ id: "g", spec: { mode: { $case: "global", value: {} } } }));
    expect(global.mode).toBe("global");
    expect(global.replicas).toBeUndefined();
    expect(global.updateStatus).toBeUndefined();
  });

  it("a task: its name, states, health, container and reservation", () => {
    expect(taskView(task())).toEqual({
      id: "t1",
      serviceId: "s1",
      name: "web.3",
      slot: 3,
      nodeId: "n1",
      desiredState: "running",
      state: "running",
      health: "healthy",
      message: "started",
      error: "",
      containerId: "c1",
      image: "img:1",
      since: "2026-01-02T03:04:05.000Z",
      reserved: { nanoCpus: 5e8, memoryBytes: 1024 },
      version: 9,
    });
    expect(taskView(task({ slot: 0 })).name).toBe("web.n1");
    expect(taskView(task({ status: { ...task().status!, health: HealthState.NONE } })).health).toBe("");
  });

  it("current tasks: desired running, or not yet ended", () => {
    expect(isCurrentTask(task())).toBe(true);
    const stopping = task({ desiredState: TaskState.SHUTDOWN });
    expect(isCurrentTask(stopping)).toBe(true);
    expect(isCurrentTask({ ...stopping, status: { ...stopping.status!, state: TaskState.SHUTDOWN } })).toBe(false);
  });

  it("a task that ends is a removal for the page; one that stays ended is nothing", () => {
    const running = task();
    const ended = task({ desiredState: TaskState.SHUTDOWN, status: { ...running.status!, state: TaskState.SHUTDOWN } });
    const ev = (kind: string, object: Task, oldObject?: Task): ObjectEvent =>
      ({ index: 1, table: "tasks", kind, object, oldObject }) as ObjectEvent;
    expect(changeOf(ev("create", running))).toMatchObject({ kind: "task", action: "upsert" });
    expect(changeOf(ev("update", ended, running))).toEqual({ kind: "task", action: "remove", id: "t1" });
    expect(changeOf(ev("update", ended, ended))).toBeUndefined();
    expect(changeOf(ev("delete", ended))).toEqual({ kind: "task", action: "remove", id: "t1" });
    expect(changeOf(ev("create", ended))).toBeUndefined();
  });
});

describe("dashboard feed", () => {
  it("serves watchers from the batches it kept, one per entry, and resyncs one from too far back", async () => {
    const store = new MemoryStore();
    const feed = new DashboardFeed(store, silentLogger(), 2);
    feed.start();
    await new Promise((r) => setTimeout(r, 10));
    const start = store.appliedIndex;
    for (let i = 1; i <= 3; i++) {
      await store.update((tx) => tx.tasks.create(task({ id: `t${i}`, slot: i })));
    }
    await new Promise((r) => setTimeout(r, 10));
    const seen: number[] = [];
    let resynced = 0;
    const watcher = (since: number) => ({
      since,
      write: (index: number, text: string) => {
        expect(text).toMatch(/^event: change\n/);
        seen.push(index);
      },
      resync: () => resynced++,
    });
    // Two batches kept: the first entry is gone, so a watcher from before it must resync.
    feed.watch(watcher(start));
    expect(resynced).toBe(1);
    const stop = feed.watch(watcher(start + 1));
    expect(seen).toEqual([start + 2, start + 3]);
    await store.update((tx) => tx.tasks.create(task({ id: "t4", slot: 4 })));
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([start + 2, start + 3, start + 4]);
    stop();
    const snap = feed.snapshot({ clusterId: "c", managerNodeId: "m", isLeader: true });
    expect(snap.index).toBe(store.appliedIndex);
    expect(snap.tasks.map((t) => t.name)).toEqual(["web.1", "web.2", "web.3", "web.4"]);
    feed.watch(watcher(store.appliedIndex));
    await feed.stop();
    expect(resynced).toBe(2);
  });
});
