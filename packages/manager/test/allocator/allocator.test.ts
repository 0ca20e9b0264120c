import { EndpointMode, TaskState, type Service } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOCATION_MESSAGE } from "../../src/allocator/index.js";
import type { MemoryStore } from "../../src/state/store/index.js";
import { until } from "../orchestrator/helpers.js";
import {
  addressesOf,
  hostPort,
  ingressPort,
  network,
  node,
  service,
  setState,
  setup,
  startAllocator,
  stopAllocators,
  task,
} from "./fixtures.js";

afterEach(stopAllocators);

const allocated = (store: MemoryStore, ids: string[]): boolean => ids.every((id) => addressesOf(store, id).length > 0);
const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const serviceOf = (store: MemoryStore, id: string): Service => store.view((tx) => tx.services.get(id))!;

describe("Allocator: tasks", () => {
  it("gives each task its own address on each network, in order, never the gateway", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.networks.create(network("front", "10.0.1.0/24"));
      tx.networks.create(network("back", "10.0.2.0/24"));
    });
    startAllocator(store, clock);
    await store.update((tx) => {
      for (const id of ids("t", 5)) tx.tasks.create(task(id, { networks: ["front", "back"], aliases: ["api"] }));
    });
    await until(() => allocated(store, ids("t", 5)), "addresses");
    const all = ids("t", 5).map((id) => addressesOf(store, id));
    expect(all.map((a) => a[0]).sort()).toEqual([
      "10.0.1.2/24",
      "10.0.1.3/24",
      "10.0.1.4/24",
      "10.0.1.5/24",
      "10.0.1.6/24",
    ]);
    expect(new Set(all.map((a) => a[1])).size).toBe(5);
    const t = store.view((tx) => tx.tasks.get("t1"))!;
    expect(t.networks.map((n) => n.networkId)).toEqual(["front", "back"]);
    expect(t.networks[0]!.aliases).toEqual(["api"]);
  });

  it("joins a task publishing an ingress port to the ingress network, after its own", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.networks.create(network("ingress-id", "10.255.0.0/16", { ingress: true, name: "ingress" }));
      tx.networks.create(network("front", "10.0.1.0/24"));
      tx.tasks.create(task("web", { networks: ["front"], ports: [ingressPort(80, 8080)] }));
      tx.tasks.create(task("host", { ports: [hostPort(80, 8081)] }));
    });
    startAllocator(store, clock);
    await until(() => allocated(store, ["web"]), "addresses");
    const web = store.view((tx) => tx.tasks.get("web"))!;
    expect(web.networks.map((n) => [n.networkId, n.addresses])).toEqual([
      ["front", ["10.0.1.2/24"]],
      ["ingress-id", ["10.255.0.2/16"]],
    ]);
    expect(addressesOf(store, "host")).toEqual([]); // a host-mode port joins nothing
  });

  it("frees a task's address when it ends, and gives it again only after the others", async () => {
    const { store, clock } = setup();
    await store.update((tx) => tx.networks.create(network("n", "10.0.3.0/24")));
    startAllocator(store, clock);
    await store.update((tx) => {
      for (const id of ids("a", 3)) tx.tasks.create(task(id, { networks: ["n"] }));
    });
    await until(() => allocated(store, ids("a", 3)), "first addresses");
    const first = addressesOf(store, "a1")[0]!;
    await setState(store, "a1", TaskState.FAILED);
    await store.update((tx) => tx.tasks.create(task("b1", { networks: ["n"] })));
    await until(() => allocated(store, ["b1"]), "next address");
    expect(addressesOf(store, "b1")).toEqual(["10.0.3.5/24"]);
    expect(addressesOf(store, "b1")).not.toContain(first);
    // A deleted task frees its address too.
    await store.update((tx) => tx.tasks.delete("a2"));
    expect(first).toBe("10.0.3.2/24");
  });

  it("leaves the tasks a full network cannot take pending with the reason, and goes on when one ends", async () => {
    const { store, clock } = setup();
    // A /29: .1 is the gateway, .7 the broadcast: 5 addresses to give.
    await store.update((tx) => tx.networks.create(network("small-id", "10.0.4.0/29", { name: "small" })));
    startAllocator(store, clock);
    await store.update((tx) => {
      for (const id of ids("t", 7)) tx.tasks.create(task(id, { networks: ["small-id"] }));
    });
    const pending = (): string[] =>
      store
        .view((tx) => tx.tasks.find())
        .filter((t) => t.status?.err === "network small has no free address")
        .map((t) => t.id);
    await until(() => pending().length === 2, "two pending");
    const given = ids("t", 7).flatMap((id) => addressesOf(store, id));
    expect(given.sort()).toEqual(["10.0.4.2/29", "10.0.4.3/29", "10.0.4.4/29", "10.0.4.5/29", "10.0.4.6/29"]);
    const waiting = store.view((tx) => tx.tasks.get(pending()[0]!))!;
    expect(waiting.status).toMatchObject({ state: TaskState.PENDING, message: ALLOCATION_MESSAGE });
    expect(waiting.networks).toEqual([]);
    const holder = ids("t", 7).find((id) => addressesOf(store, id)[0] === "10.0.4.4/29")!;
    await setState(store, holder, TaskState.COMPLETE);
    await until(() => pending().length === 1, "one allocated");
    const now = ids("t", 7)
      .filter((id) => id !== holder)
      .flatMap((id) => addressesOf(store, id));
    expect(now).toContain("10.0.4.4/29");
    const moved = store.view((tx) => tx.tasks.find()).find((t) => t.status?.message === "networks allocated");
    expect(moved?.status?.err).toBe("");
  });

  it("writes nothing of a task whose second network is full", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.networks.create(network("wide", "10.0.5.0/24"));
      tx.networks.create(network("full", "10.0.6.0/30")); // one address: .2
      tx.tasks.create(task("x", { networks: ["full"] }));
    });
    startAllocator(store, clock);
    await until(() => allocated(store, ["x"]), "x");
    await store.update((tx) => tx.tasks.create(task("y", { networks: ["wide", "full"] })));
    await until(() => store.view((tx) => tx.tasks.get("y"))?.status?.err !== "", "y waits");
    expect(store.view((tx) => tx.tasks.get("y"))!.networks).toEqual([]);
    await store.update((tx) => tx.tasks.create(task("z", { networks: ["wide"] })));
    await until(() => allocated(store, ["z"]), "z");
    expect(addressesOf(store, "z")).toEqual(["10.0.5.2/24"]); // y kept nothing of "wide"
  });

  it("never gives an address twice across a leader change", async () => {
    const { store, clock } = setup();
    await store.update((tx) => tx.networks.create(network("n", "10.0.7.0/24")));
    const first = startAllocator(store, clock);
    await store.update((tx) => {
      for (const id of ids("a", 4)) tx.tasks.create(task(id, { networks: ["n"] }));
    });
    await until(() => allocated(store, ids("a", 4)), "first term");
    await setState(store, "a4", TaskState.SHUTDOWN); // freed: not given at once by the next leader either
    await first.stop();
    await store.update((tx) => {
      for (const id of ids("b", 4)) tx.tasks.create(task(id, { networks: ["n"] }));
    });
    startAllocator(store, clock);
    await until(() => allocated(store, ids("b", 4)), "second term");
    const live = [...ids("a", 3), ...ids("b", 4)].map((id) => addressesOf(store, id)[0]);
    expect(new Set(live).size).toBe(7);
    expect(ids("b", 4).map((id) => addressesOf(store, id)[0])).toEqual([
      "10.0.7.6/24",
      "10.0.7.7/24",
      "10.0.7.8/24",
      "10.0.7.9/24",
    ]);
  });

  it("gives addresses from the IPAM range only", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.networks.create(network("n", "10.0.8.0/24", { range: "10.0.8.128/25" }));
      tx.tasks.create(task("t", { networks: ["n"] }));
    });
    startAllocator(store, clock);
    await until(() => allocated(store, ["t"]), "t");
    expect(addressesOf(store, "t")).toEqual(["10.0.8.128/24"]);
  });
});

describe("Allocator: services", () => {
  it("gives a virtual IP per network in VIP mode, none on ingress or in dnsrr mode", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.networks.create(network("ingress-id", "10.255.0.0/16", { ingress: true }));
      tx.networks.create(network("front", "10.0.1.0/24"));
      tx.networks.create(network("back", "10.0.2.0/24"));
      tx.services.create(service("web", { networks: ["front", "back"], ports: [ingressPort(80, 8080)] }));
      tx.services.create(service("db", { networks: ["back"], mode: EndpointMode.DNSRR }));
    });
    startAllocator(store, clock);
    await until(() => serviceOf(store, "web").endpoint !== undefined, "endpoints");
    const web = serviceOf(store, "web").endpoint!;
    expect(web.virtualIps).toEqual([
      { networkId: "front", addr: "10.0.1.2/24" },
      { networkId: "back", addr: "10.0.2.2/24" },
    ]);
    expect(web.ports).toEqual([ingressPort(80, 8080)]);
    expect(web.spec?.ports).toEqual([ingressPort(80, 8080)]);
    await until(() => serviceOf(store, "db").endpoint !== undefined, "db's endpoint");
    expect(serviceOf(store, "db").endpoint).toMatchObject({ spec: { mode: EndpointMode.DNSRR }, virtualIps: [] });

    // Leaving a network frees its virtual IP; the one kept stays.
    await store.update((tx) => {
      const s = tx.services.get("web")!;
      s.spec!.taskTemplate!.networks = [{ target: "back", aliases: [] }];
      tx.services.update(s);
    });
    await until(() => serviceOf(store, "web").endpoint!.virtualIps.length === 1, "one VIP");
    expect(serviceOf(store, "web").endpoint!.virtualIps).toEqual([{ networkId: "back", addr: "10.0.2.2/24" }]);
    // dnsrr: no virtual IP at all.
    await store.update((tx) => {
      const s = tx.services.get("web")!;
      s.spec!.endpoint!.mode = EndpointMode.DNSRR;
      s.spec!.endpoint!.ports = [];
      tx.services.update(s);
    });
    await until(() => serviceOf(store, "web").endpoint!.virtualIps.length === 0, "no VIP");
    // A removed service's addresses go back: a new one gets them after the others.
    await store.update((tx) => tx.services.delete("db"));
    await store.update((tx) => tx.services.create(service("api", { networks: ["front"] })));
    await until(() => serviceOf(store, "api")?.endpoint !== undefined, "api");
    expect(serviceOf(store, "api").endpoint!.virtualIps).toEqual([{ networkId: "front", addr: "10.0.1.3/24" }]);
  });

  it("gives an ingress port published as 0 a port from 30000-32767, kept across updates", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.services.create(service("a", { ports: [ingressPort(80)] }));
      tx.services.create(service("b", { ports: [ingressPort(80), hostPort(90, 0)] }));
    });
    startAllocator(store, clock);
    const published = (id: string): number | undefined => serviceOf(store, id).endpoint?.ports[0]?.publishedPort;
    await until(() => published("a") !== undefined && published("b") !== undefined, "ports");
    const [pa, pb] = [published("a")!, published("b")!];
    for (const p of [pa, pb]) expect(p).toBeGreaterThanOrEqual(30000);
    for (const p of [pa, pb]) expect(p).toBeLessThanOrEqual(32767);
    expect(pa).not.toBe(pb);
    expect(serviceOf(store, "b").endpoint!.ports[1]).toEqual(hostPort(90, 0)); // host mode: as given
    // An update that keeps the port keeps its number.
    await store.update((tx) => {
      const s = tx.services.get("a")!;
      s.spec!.endpoint!.ports.push(ingressPort(443));
      tx.services.update(s);
    });
    await until(() => serviceOf(store, "a").endpoint!.ports.length === 2, "two ports");
    expect(published("a")).toBe(pa);
    // A service asking for a port another holds gets no endpoint until it is free.
    await store.update((tx) => tx.services.create(service("c", { ports: [ingressPort(80, pb)] })));
    await store.update((tx) => tx.services.create(service("d", { ports: [ingressPort(80, 8080)] })));
    await until(() => serviceOf(store, "d").endpoint !== undefined, "d");
    expect(serviceOf(store, "c").endpoint).toBeUndefined();
    await store.update((tx) => tx.services.delete("b"));
    await until(() => serviceOf(store, "c").endpoint !== undefined, "c once b is gone");
    expect(published("c")).toBe(pb);
  });
});

describe("Allocator: nodes", () => {
  it("gives each node with a data plane an ingress address, once the ingress network exists", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.nodes.create(node("n1", true));
      tx.nodes.create(node("n2", false));
    });
    startAllocator(store, clock);
    await store.update((tx) => tx.networks.create(network("ingress-id", "10.255.0.0/16", { ingress: true })));
    const attachments = (id: string) => store.view((tx) => tx.nodes.get(id))!.attachments;
    await until(() => attachments("n1").length > 0, "n1's address");
    expect(attachments("n1")).toEqual([{ networkId: "ingress-id", addresses: ["10.255.0.2/16"], aliases: [] }]);
    await store.update((tx) => tx.nodes.create(node("n3", true)));
    await until(() => attachments("n3").length > 0, "n3's address");
    expect(attachments("n3")[0]!.addresses).toEqual(["10.255.0.3/16"]);
    expect(attachments("n2")).toEqual([]);
  });
});
