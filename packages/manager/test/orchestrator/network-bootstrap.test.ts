// The networks the cluster makes: the ingress network once the cluster exists, and the move of
// networks kept in cluster labels by earlier versions into the table (ids kept, labels removed).
import { Cluster } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { createNetwork } from "../../src/controlapi/networks.js";
import { NetworkBootstrap } from "../../src/orchestrator/network-bootstrap.js";
import { setup, settle } from "./helpers.js";

const running: NetworkBootstrap[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe("network bootstrap", () => {
  it("makes the ingress network once the cluster exists, and only one", async () => {
    const { store, clock, logger } = setup();
    const boot = new NetworkBootstrap({ store, clock, logger });
    running.push(boot);
    void boot.run();
    await settle();
    expect(store.view((tx) => tx.networks.find())).toHaveLength(0);
    await store.update((tx) =>
      tx.clusters.create(Cluster.fromPartial({ id: "c1", spec: { annotations: { name: "default" } } })),
    );
    await settle();
    const nets = store.view((tx) => tx.networks.find());
    expect(nets).toHaveLength(1);
    expect(nets[0]).toMatchObject({
      spec: { annotations: { name: "ingress" }, ingress: true },
      ipam: { configs: [{ subnet: "10.255.0.0/16", gateway: "10.255.0.1" }] },
      vni: 4096,
    });
    // Another network's change does not make a second one.
    await createNetwork(store, {
      spec: {
        annotations: { name: "n1", labels: {} },
        driverConfig: undefined,
        attachable: false,
        ingress: false,
        ipam: undefined,
      },
    });
    await settle();
    expect(store.view((tx) => tx.networks.find().filter((n) => n.spec?.ingress))).toHaveLength(1);
  });

  it("moves networks kept in cluster labels into the table, keeping their ids, and removes the labels", async () => {
    const { store, clock, logger } = setup();
    const kept = (id: string, name: string, extra: object = {}) =>
      JSON.stringify({
        Id: id,
        Name: name,
        Created: "2026-01-01T00:00:00Z",
        Driver: "overlay",
        Attachable: false,
        Labels: {},
        ...extra,
      });
    await store.update((tx) =>
      tx.clusters.create(
        Cluster.fromPartial({
          id: "c1",
          spec: {
            annotations: {
              name: "default",
              labels: {
                keep: "me",
                "com.shoal.network/stk_net": kept("id-stk", "stk_net", {
                  Labels: { "com.docker.stack.namespace": "stk" },
                  Attachable: true,
                }),
                "com.shoal.network/other": kept("id-other", "other"),
                "com.shoal.network/broken": "{not json",
              },
            },
          },
        }),
      ),
    );
    const boot = new NetworkBootstrap({ store, clock, logger });
    running.push(boot);
    void boot.run();
    await settle();
    const nets = store
      .view((tx) => tx.networks.find())
      .sort((a, b) => a.spec!.annotations!.name.localeCompare(b.spec!.annotations!.name));
    expect(nets.map((n) => [n.id, n.spec?.annotations?.name])).toEqual([
      [expect.any(String), "ingress"],
      ["id-other", "other"],
      ["id-stk", "stk_net"],
    ]);
    const stk = nets[2]!;
    expect(stk.spec).toMatchObject({
      attachable: true,
      annotations: { labels: { "com.docker.stack.namespace": "stk" } },
    });
    expect(stk.ipam?.configs[0]?.subnet).toMatch(/^10\.0\.\d+\.0\/24$/);
    expect(new Set(nets.map((n) => n.vni)).size).toBe(3);
    expect(store.view((tx) => tx.clusters.get("c1")!.spec!.annotations!.labels)).toEqual({ keep: "me" });
  });
});
