import { describe, expect, it } from "vitest";
import {
  Secret,
  EventAction,
  EventType,
  ManualClock,
  Network,
  Node,
  NodeAvailability,
  NodeState,
  Service,
  Task,
  TaskState,
  type Event,
} from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { EventLog, EventsOverflowError } from "../../src/events/index.js";
import { settle } from "../orchestrator/helpers.js";

const logger = (await import("@shoal/shared")).silentLogger();

function service(id: string, replicas: number): Service {
  return Service.fromPartial({
    id,
    spec: {
      annotations: { name: "web" },
      taskTemplate: { container: { image: "shoal-base:1" } },
      mode: { $case: "replicated", value: { replicas } },
    },
  });
}

function task(id: string, state: TaskState, nodeId = ""): Task {
  return Task.fromPartial({
    id,
    serviceId: "s1",
    slot: 1,
    nodeId,
    serviceAnnotations: { name: "web" },
    desiredState: TaskState.RUNNING,
    status: { state, message: state === TaskState.ASSIGNED ? "scheduled" : "" },
  });
}

async function setup(opts: { listenerCapacity?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const store = new MemoryStore({ clock });
  const log = new EventLog({ store, logger, clock, ...opts });
  log.start();
  await Promise.resolve();
  return { store, log, clock };
}

/** Waits for the listener's next batch. */
const next = async (l: { next(): Promise<Event[] | undefined> }): Promise<Event[]> => (await l.next()) ?? [];

describe("EventLog", () => {
  it("streams creates, updates with the fields that changed, and removals", async () => {
    const { store, log } = await setup();
    const l = log.listen();
    await store.update((tx) => tx.services.create(service("s1", 2)));
    const [created] = await next(l);
    expect(created).toMatchObject({ type: EventType.SERVICE, action: EventAction.CREATE, id: "s1", name: "web" });
    expect(created!.changes).toContainEqual({ field: "replicas", old: "", new: "2" });

    await store.update((tx) => tx.tasks.create(task("t1", TaskState.PENDING)));
    expect((await next(l))[0]).toMatchObject({ type: EventType.TASK, name: "web.1" });
    await store.update((tx) =>
      tx.tasks.update({ ...task("t1", TaskState.ASSIGNED, "n1"), meta: tx.tasks.get("t1")!.meta }),
    );
    const [assigned] = await next(l);
    expect(assigned!.action).toBe(EventAction.UPDATE);
    expect(assigned!.changes).toEqual([
      { field: "state", old: "pending", new: "assigned" },
      { field: "node_id", old: "", new: "n1" },
    ]);
    expect(assigned!.attributes).toMatchObject({ service_id: "s1", node_id: "n1", slot: "1", message: "scheduled" });

    // A change of nothing that matters (the status message) is no event.
    await store.update((tx) => {
      const t = tx.tasks.get("t1")!;
      tx.tasks.update({ ...t, status: { ...t.status!, message: "still assigned" } });
    });
    await store.update((tx) => tx.services.delete("s1"));
    const [removed] = await next(l);
    expect(removed).toMatchObject({ type: EventType.SERVICE, action: EventAction.REMOVE, id: "s1", changes: [] });
    l.close();
    await log.stop();
  });

  it("reports a node's status and availability changes; filters by type", async () => {
    const { store, log } = await setup();
    const nodesOnly = log.listen({ types: [EventType.NODE] });
    const node = Node.fromPartial({
      id: "n1",
      description: { hostname: "host-1" },
      status: { state: NodeState.READY },
    });
    await store.update((tx) => {
      tx.nodes.create(node);
      tx.services.create(service("s1", 1));
    });
    expect((await next(nodesOnly)).map((e) => e.type)).toEqual([EventType.NODE]);
    await store.update((tx) =>
      tx.nodes.update({
        ...tx.nodes.get("n1")!,
        status: { state: NodeState.DOWN, message: "heartbeat failure", addr: "" },
        spec: { annotations: undefined, desiredRole: 0, availability: NodeAvailability.DRAIN },
      }),
    );
    const [down] = await next(nodesOnly);
    expect(down!.name).toBe("host-1");
    expect(down!.changes).toEqual([
      { field: "status", old: "ready", new: "down" },
      { field: "availability", old: "active", new: "drain" },
    ]);
    await log.stop();
  });

  it("reports a secret's creation, label changes and removal by name, never its data", async () => {
    const { store, log } = await setup();
    const l = log.listen({ types: [EventType.SECRET] });
    const data = new TextEncoder().encode("hunter2-secret-bytes");
    const secret = Secret.fromPartial({
      id: "sec1",
      spec: { annotations: { name: "db-pw", labels: { a: "1" } }, data },
    });
    await store.update((tx) => tx.secrets.create(secret));
    const [created] = await next(l);
    expect(created).toMatchObject({ type: EventType.SECRET, action: EventAction.CREATE, id: "sec1", name: "db-pw" });
    await store.update((tx) => {
      const s = tx.secrets.get("sec1")!;
      tx.secrets.update({ ...s, spec: { ...s.spec!, annotations: { name: "db-pw", labels: { a: "2" } } } });
    });
    const [relabelled] = await next(l);
    expect(relabelled!.changes).toEqual([{ field: "labels", old: "a=1", new: "a=2" }]);
    await store.update((tx) => tx.secrets.delete("sec1"));
    const [removed] = await next(l);
    expect(removed).toMatchObject({ action: EventAction.REMOVE, name: "db-pw" });
    expect(JSON.stringify([created, relabelled, removed])).not.toContain("hunter2");
    await log.stop();
  });

  it("reports a network's creation and removal with its subnet and VNI", async () => {
    const { store, log } = await setup();
    const l = log.listen({ types: [EventType.NETWORK] });
    const network = Network.fromPartial({
      id: "net1",
      spec: { annotations: { name: "backend" } },
      ipam: { configs: [{ subnet: "10.0.3.0/24", gateway: "10.0.3.1" }] },
      vni: 4099,
    });
    await store.update((tx) => tx.networks.create(network));
    const [created] = await next(l);
    expect(created).toMatchObject({
      type: EventType.NETWORK,
      action: EventAction.CREATE,
      id: "net1",
      name: "backend",
      attributes: { subnet: "10.0.3.0/24", vni: "4099" },
    });
    await store.update((tx) => tx.networks.delete("net1"));
    const [removed] = await next(l);
    expect(removed).toMatchObject({ type: EventType.NETWORK, action: EventAction.REMOVE, name: "backend" });
    await log.stop();
  });

  it("replays the history since a time, then goes on live", async () => {
    const { store, log, clock } = await setup();
    await store.update((tx) => tx.services.create(service("s1", 1)));
    clock.advance(60_000);
    await store.update((tx) => tx.tasks.create(task("t1", TaskState.NEW)));
    await settle(); // the log reads the commits
    const all = log.listen({ since: new Date(0) });
    expect((await next(all)).map((e) => e.id)).toEqual(["s1", "t1"]);
    const recent = log.listen({ since: new Date(1_000_000 + 30_000) });
    expect((await next(recent)).map((e) => e.id)).toEqual(["t1"]);
    await store.update((tx) => tx.tasks.delete("t1"));
    expect((await next(recent))[0]).toMatchObject({ id: "t1", action: EventAction.REMOVE });
    await log.stop();
    expect(await recent.next()).toBeUndefined();
  });

  it("drops a listener that falls behind instead of queueing without bound", async () => {
    const { store, log } = await setup({ listenerCapacity: 3 });
    const slow = log.listen();
    for (let i = 0; i < 5; i++)
      await store.update((tx) =>
        tx.services.create({
          ...service(`s${i}`, 1),
          spec: { ...service(`s${i}`, 1).spec!, annotations: { name: `web${i}`, labels: {} } },
        }),
      );
    await settle(); // the log reads the commits
    await expect(slow.next()).rejects.toBeInstanceOf(EventsOverflowError);
    await log.stop();
  });
});
