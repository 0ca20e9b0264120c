import { Cluster, ErrorCode, NetworkSpec, Service, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { createNetwork, getNetwork, listNetworks, removeNetwork } from "../../src/controlapi/networks.js";
import { MemoryStore } from "../../src/state/store/index.js";

const spec = (name: string, s: DeepPartial<NetworkSpec> = {}): NetworkSpec =>
  NetworkSpec.fromPartial({ annotations: { name, labels: {} }, ...s });
const withSubnet = (subnet: string, gateway = "") => ({ ipam: { configs: [{ subnet, gateway }] } });
const NO_FILTERS = { names: [], namePrefixes: [], idPrefixes: [], labels: {} };

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err: unknown) {
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
  throw new Error("succeeded");
}

describe("networks in the Control API", () => {
  it("creates with a subnet, gateway and VNI from the default pool; gets, lists and removes", async () => {
    const store = new MemoryStore();
    const a = (
      await createNetwork(store, { spec: spec("front", { annotations: { name: "front", labels: { team: "x" } } }) })
    ).network!;
    expect(a.ipam?.configs).toEqual([{ subnet: "10.0.0.0/24", gateway: "10.0.0.1", range: "" }]);
    expect(a.vni).toBe(4096);
    expect(a.spec?.driverConfig?.name).toBe("overlay");
    const b = (await createNetwork(store, { spec: spec("back") })).network!;
    expect(b.ipam?.configs[0]?.subnet).toBe("10.0.1.0/24");
    expect(b.vni).toBe(4097);
    for (const ref of [a.id, a.id.slice(0, 6), "front"])
      expect(getNetwork(store, { networkId: ref }).network?.id).toBe(a.id);
    expect(listNetworks(store, { filters: undefined }).networks.map((n) => n.spec?.annotations?.name)).toEqual([
      "back",
      "front",
    ]);
    expect(listNetworks(store, { filters: { ...NO_FILTERS, labels: { team: "x" } } }).networks).toHaveLength(1);
    expect(listNetworks(store, { filters: { ...NO_FILTERS, names: ["back"] } }).networks[0]?.id).toBe(b.id);
    await removeNetwork(store, { networkId: "front" });
    expect(() => getNetwork(store, { networkId: "front" })).toThrow(/not found/);
    // The VNI and subnet freed are the first taken again.
    const c = (await createNetwork(store, { spec: spec("again") })).network!;
    expect(c.vni).toBe(4096);
    expect(c.ipam?.configs[0]?.subnet).toBe("10.0.0.0/24");
  });

  it("keeps a given subnet and gateway, refuses an overlapping one naming both, and skips it in the pool", async () => {
    const store = new MemoryStore();
    const given = (await createNetwork(store, { spec: spec("mine", withSubnet("10.0.0.0/23", "10.0.1.254")) }))
      .network!;
    expect(given.ipam?.configs[0]).toMatchObject({ subnet: "10.0.0.0/23", gateway: "10.0.1.254" });
    const overlap = await codeOf(createNetwork(store, { spec: spec("other", withSubnet("10.0.1.0/24")) }));
    expect(overlap.code).toBe(ErrorCode.InvalidArgument);
    expect(overlap.message).toMatch(
      /spec.ipam.configs\[0\].subnet: subnet 10.0.1.0\/24 overlaps subnet 10.0.0.0\/23 of network mine/,
    );
    expect((await createNetwork(store, { spec: spec("auto") })).network?.ipam?.configs[0]?.subnet).toBe("10.0.2.0/24");
    expect(listNetworks(store, { filters: undefined }).networks).toHaveLength(2);
  });

  it("takes subnets from the cluster's pool and size, RESOURCE_EXHAUSTED when none is left", async () => {
    const store = new MemoryStore();
    await store.update((tx) =>
      tx.clusters.create(Cluster.fromPartial({ id: "c1", defaultAddressPool: ["192.168.7.0/24"], subnetSize: 25 })),
    );
    const one = (await createNetwork(store, { spec: spec("one") })).network!;
    const two = (await createNetwork(store, { spec: spec("two") })).network!;
    expect([one.ipam?.configs[0]?.subnet, two.ipam?.configs[0]?.subnet]).toEqual([
      "192.168.7.0/25",
      "192.168.7.128/25",
    ]);
    const none = await codeOf(createNetwork(store, { spec: spec("three") }));
    expect(none.code).toBe(ErrorCode.ResourceExhausted);
    expect(none.message).toMatch(/no \/25 subnet is left in the cluster's address pool 192.168.7.0\/24/);
    // A subnet given outside the pool is still fine.
    expect((await createNetwork(store, { spec: spec("three", withSubnet("172.30.0.0/16")) })).network?.vni).toBe(4098);
  });

  it("refuses a taken name, a bad spec and the ingress flag, changing nothing", async () => {
    const store = new MemoryStore();
    await createNetwork(store, { spec: spec("dup") });
    expect(await codeOf(createNetwork(store, { spec: spec("dup") }))).toEqual({
      code: ErrorCode.AlreadyExists,
      message: "network with name dup already exists",
    });
    const bad = await codeOf(createNetwork(store, { spec: spec("x", { driverConfig: { name: "macvlan" } }) }));
    expect(bad).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(bad.message).toMatch(/spec.driver_config.name/);
    const ingress = await codeOf(createNetwork(store, { spec: spec("x", { ingress: true }) }));
    expect(ingress.message).toMatch(/the cluster makes the ingress network/);
    expect(listNetworks(store, { filters: undefined }).networks).toHaveLength(1);
  });

  it("refuses to remove a network a service joins (naming it) and the ingress network", async () => {
    const store = new MemoryStore();
    const net = (await createNetwork(store, { spec: spec("used") })).network!;
    await store.update((tx) => {
      tx.services.create(
        Service.fromPartial({
          id: "s1",
          spec: { annotations: { name: "web" }, taskTemplate: { networks: [{ target: net.id, aliases: [] }] } },
        }),
      );
      tx.networks.create({
        ...net,
        id: "ing",
        spec: { ...net.spec!, annotations: { name: "ingress", labels: {} }, ingress: true },
        vni: 4200,
      });
    });
    const used = await codeOf(removeNetwork(store, { networkId: "used" }));
    expect(used.code).toBe(ErrorCode.FailedPrecondition);
    expect(used.message).toBe("network used is in use by service web");
    const ingress = await codeOf(removeNetwork(store, { networkId: "ingress" }));
    expect(ingress.code).toBe(ErrorCode.FailedPrecondition);
    expect(ingress.message).toMatch(/ingress network .* cannot be removed/);
    expect(listNetworks(store, { filters: undefined }).networks).toHaveLength(2);
    expect((await codeOf(removeNetwork(store, { networkId: "nope" }))).code).toBe(ErrorCode.NotFound);
  });
});
