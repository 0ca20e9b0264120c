// What each node's assignments stream says about networks: the state of each network its tasks
// join (and ingress on every data-plane node while a service publishes an ingress port), before
// the tasks, whole again at each change, and a REMOVE once the node needs it no more.
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import {
  AssignmentAction,
  AssignmentsType,
  EndpointMode,
  HealthState,
  TaskState,
  silentLogger,
  type AssignmentsRequest,
  type AssignmentsResponse,
  type NetworkState,
} from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { streamAssignments } from "../../src/dispatcher/assignments-stream.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { network, node, service, task, word } from "./network-fixtures.js";

class FakeCall extends EventEmitter {
  readonly messages: AssignmentsResponse[] = [];
  write(m: AssignmentsResponse): boolean {
    this.messages.push(m);
    return true;
  }
  end(): void {}

  /** The words of every change sent after message `from`. */
  words(from = 0): string[] {
    return this.messages.slice(from).flatMap((m) => m.changes.map(word));
  }

  /** The last state of network `id` sent. */
  last(id: string): NetworkState | undefined {
    const states = this.messages.flatMap((m) => m.changes.flatMap((c) => (c.network ? [c.network] : [])));
    return states.filter((s) => s.network?.id === id).at(-1);
  }
}

const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

function open(store: MemoryStore, nodeId: string): FakeCall {
  const call = new FakeCall();
  const stream = call as unknown as grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>;
  stops.push(streamAssignments(store, nodeId, stream, silentLogger()));
  return call;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Two networks, three data-plane nodes (n3 has a --data-path-addr), a service on "front". */
async function cluster(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.update((tx) => {
    tx.networks.create(network("front", "10.0.1.0/24"));
    tx.networks.create(network("back", "10.0.2.0/24"));
    tx.networks.create(network("ingress", "10.255.0.0/16", true));
    tx.nodes.create(node("n1", "192.168.0.1", { ingressAddr: "10.255.0.2/16" }));
    tx.nodes.create(node("n2", "192.168.0.2", { ingressAddr: "10.255.0.3/16" }));
    tx.nodes.create(node("n3", "192.168.0.3", { dataPathAddr: "172.16.0.3", ingressAddr: "10.255.0.4/16" }));
    tx.services.create(service("web", [{ target: "front", aliases: ["www"], vip: "10.0.1.2/24" }]));
    tx.services.create(service("db", [{ target: "back" }]));
  });
  return store;
}

describe("assignments: network states", () => {
  it("a node gets the networks its tasks join, before the tasks, and none of the others", async () => {
    const store = await cluster();
    await store.update((tx) => {
      tx.tasks.create(task("w1", "web", "n1", [["front", "10.0.1.5/24"]]));
      tx.tasks.create(task("d1", "db", "n2", [["back", "10.0.2.5/24"]]));
    });
    const n1 = open(store, "n1");
    expect(n1.messages[0]!.type).toBe(AssignmentsType.COMPLETE);
    expect(n1.words()).toEqual(["+net:front", "+task:w1"]);
    const front = n1.last("front")!;
    expect(front.network!.vni).toBe(4096 + 5);
    expect(front.endpoints).toEqual([
      { taskId: "w1", serviceId: "web", nodeId: "n1", address: "10.0.1.5", ready: false },
    ]);
    expect(front.services).toEqual([
      { serviceId: "web", name: "web", aliases: ["www"], mode: EndpointMode.VIP, virtualIp: "10.0.1.2", ports: [] },
    ]);
    expect(front.peers).toEqual([]); // only n1 is on it
    expect(n1.words()).not.toContain("+net:ingress"); // no service publishes an ingress port

    // A task of n2 joins "front": n2 gets it before its task, n1 gets it again with a peer.
    const n2 = open(store, "n2");
    expect(n2.words()).toEqual(["+net:back", "+task:d1"]);
    await store.update((tx) => tx.tasks.create(task("w2", "web", "n2", [["front", "10.0.1.6/24"]])));
    await flush();
    expect(n2.words(1)).toEqual(["+net:front", "+task:w2"]);
    expect(n1.words(1)).toEqual(["+net:front"]);
    expect(n1.last("front")!.peers).toEqual([{ nodeId: "n2", dataPathAddr: "192.168.0.2", nodeAddress: "" }]);
    expect(n2.last("front")!.peers).toEqual([{ nodeId: "n1", dataPathAddr: "192.168.0.1", nodeAddress: "" }]);
    expect(n2.last("front")!.endpoints.map((e) => e.taskId)).toEqual(["w1", "w2"]);
  });

  it("ready follows the task's state, desired state and health; a failed task leaves at once", async () => {
    const store = await cluster();
    const checked = { healthcheck: ["CMD", "true"] };
    await store.update((tx) => {
      tx.tasks.create(task("plain", "web", "n1", [["front", "10.0.1.5/24"]], { state: TaskState.RUNNING }));
      tx.tasks.create(task("hc", "web", "n1", [["front", "10.0.1.6/24"]], { state: TaskState.RUNNING, ...checked }));
      tx.tasks.create(
        task("off", "web", "n1", [["front", "10.0.1.7/24"]], { state: TaskState.RUNNING, healthcheck: ["NONE"] }),
      );
    });
    const n1 = open(store, "n1");
    const ready = (): Record<string, boolean> =>
      Object.fromEntries(n1.last("front")!.endpoints.map((e) => [e.taskId, e.ready]));
    expect(ready()).toEqual({ plain: true, hc: false, off: true });

    const set = (id: string, change: (t: ReturnType<typeof task>) => void): Promise<void> =>
      store.update((tx) => {
        const t = tx.tasks.get(id)!;
        change(t);
        tx.tasks.update(t);
      });
    await set("hc", (t) => (t.status!.health = HealthState.HEALTHY));
    await flush();
    expect(ready()).toEqual({ plain: true, hc: true, off: true });
    await set("hc", (t) => (t.status!.health = HealthState.UNHEALTHY));
    await flush();
    expect(ready()).toEqual({ plain: true, hc: false, off: true });
    await set("off", (t) => (t.desiredState = TaskState.SHUTDOWN));
    await flush();
    expect(ready()).toEqual({ plain: true, hc: false, off: false });
    const before = n1.messages.length;
    await set("plain", (t) => (t.status!.state = TaskState.FAILED));
    await flush();
    // One message for the commit: the network without the failed task (the task's own status is
    // the agent's report, not sent back).
    expect(n1.messages.length).toBe(before + 1);
    expect(ready()).toEqual({ hc: false, off: false });
  });

  it("a REMOVE with the id only once the node's last task on the network ends; the others keep it", async () => {
    const store = await cluster();
    await store.update((tx) => {
      tx.tasks.create(task("w1", "web", "n1", [["front", "10.0.1.5/24"]], { state: TaskState.RUNNING }));
      tx.tasks.create(task("w2", "web", "n1", [["front", "10.0.1.6/24"]], { state: TaskState.RUNNING }));
      tx.tasks.create(task("w3", "web", "n2", [["front", "10.0.1.7/24"]], { state: TaskState.RUNNING }));
    });
    const n1 = open(store, "n1");
    const n2 = open(store, "n2");
    const end = (id: string): Promise<void> =>
      store.update((tx) => {
        const t = tx.tasks.get(id)!;
        tx.tasks.update({ ...t, status: { ...t.status!, state: TaskState.COMPLETE } });
      });
    await end("w1");
    await flush();
    expect(n1.words(1)).toEqual(["+net:front"]); // still needed by w2, one endpoint less
    await end("w2");
    await flush();
    expect(n1.words(2)).toEqual(["-net:front"]);
    const removal = n1.messages.at(-1)!.changes[0]!;
    expect(removal.action).toBe(AssignmentAction.REMOVE);
    expect(removal.network!.network!.id).toBe("front");
    expect(removal.network!.endpoints).toEqual([]);
    expect(n2.last("front")!.peers).toEqual([]);
    expect(n2.last("front")!.endpoints.map((e) => e.taskId)).toEqual(["w3"]);
    expect(n2.words()).not.toContain("-net:front");
  });

  it("ingress on every data-plane node while a service publishes an ingress port, with every peer", async () => {
    const store = await cluster();
    await store.update((tx) => {
      const off = node("n4", "192.168.0.4", { ingressAddr: "10.255.0.5/16" });
      off.description!.networkDataPlane = false; // another agent of its host drives the data plane
      tx.nodes.create(off);
    });
    const n1 = open(store, "n1");
    const n3 = open(store, "n3");
    const n4 = open(store, "n4");
    await store.update((tx) => {
      tx.services.create(service("pub", [], 30080));
      tx.tasks.create(task("p1", "pub", "n1", [["ingress", "10.255.0.10/16"]], { state: TaskState.RUNNING }));
    });
    await flush();
    expect(n1.words(1)).toEqual(["+net:ingress", "+task:p1"]);
    expect(n3.words(1)).toEqual(["+net:ingress"]);
    expect(n4.words(1)).toEqual([]);
    const seenBy3 = n3.last("ingress")!;
    expect(seenBy3.nodeAddress).toBe("10.255.0.4/16");
    expect(seenBy3.peers).toEqual([
      { nodeId: "n1", dataPathAddr: "192.168.0.1", nodeAddress: "10.255.0.2/16" },
      { nodeId: "n2", dataPathAddr: "192.168.0.2", nodeAddress: "10.255.0.3/16" },
    ]);
    expect(seenBy3.endpoints).toEqual([
      { taskId: "p1", serviceId: "pub", nodeId: "n1", address: "10.255.0.10", ready: true },
    ]);
    expect(seenBy3.services[0]!.ports[0]!.publishedPort).toBe(30080);
    expect(n1.last("ingress")!.peers.map((p) => [p.nodeId, p.dataPathAddr])).toEqual([
      ["n2", "192.168.0.2"],
      ["n3", "172.16.0.3"],
    ]);
    // The service and its task go: every node drops ingress.
    await store.update((tx) => {
      tx.tasks.delete("p1");
      tx.services.delete("pub");
    });
    await flush();
    expect(n3.words(2)).toEqual(["-net:ingress"]);
    expect(n1.words(2)).toEqual(["-task:p1", "-net:ingress"]);
  });

  it("one commit changing many endpoints sends each changed network once, and only to its nodes", async () => {
    const store = await cluster();
    await store.update((tx) => {
      tx.tasks.create(task("w1", "web", "n1", [["front", "10.0.1.5/24"]]));
      tx.tasks.create(task("d1", "db", "n1", [["back", "10.0.2.5/24"]]));
      tx.tasks.create(task("d2", "db", "n2", [["back", "10.0.2.6/24"]]));
    });
    const n1 = open(store, "n1");
    const n2 = open(store, "n2");
    await store.update((tx) => {
      for (let i = 0; i < 5; i++) tx.tasks.create(task(`w${i + 2}`, "web", "n3", [["front", `10.0.1.${10 + i}/24`]]));
    });
    await flush();
    expect(n1.words(1)).toEqual(["+net:front"]); // "back" did not change
    expect(n1.last("front")!.endpoints).toHaveLength(6);
    expect(n2.messages).toHaveLength(1); // not on "front"
  });

  it("a node's own change (its data-path address) is sent to the nodes that peer with it", async () => {
    const store = await cluster();
    await store.update((tx) => {
      tx.tasks.create(task("w1", "web", "n1", [["front", "10.0.1.5/24"]]));
      tx.tasks.create(task("w2", "web", "n2", [["front", "10.0.1.6/24"]]));
    });
    const n1 = open(store, "n1");
    await store.update((tx) => {
      const n2 = tx.nodes.get("n2")!;
      tx.nodes.update({ ...n2, description: { ...n2.description!, dataPathAddr: "172.16.0.2" } });
    });
    await flush();
    expect(n1.last("front")!.peers).toEqual([{ nodeId: "n2", dataPathAddr: "172.16.0.2", nodeAddress: "" }]);
  });

  it("no network changes at all in a cluster without networks", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.nodes.create(node("n1", "192.168.0.1"));
      tx.services.create(service("web", []));
      tx.tasks.create(task("w1", "web", "n1", []));
    });
    const n1 = open(store, "n1");
    await store.update((tx) => tx.tasks.create(task("w2", "web", "n1", [])));
    await flush();
    expect(n1.words()).toEqual(["+task:w1", "+task:w2"]);
  });
});
