// /networks over the Control API's own network methods on a store: create, list with filters,
// inspect (Docker's swarm overlay shape), delete (409 in use, 404 unknown) and refused fields.
import { Service } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/state/store/index.js";
import { request, serveRoutes, storeControl } from "./store-control.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(): Promise<{ base: string; store: MemoryStore }> {
  const store = new MemoryStore();
  const served = await serveRoutes(storeControl(store));
  close = served.close;
  return { base: served.base, store };
}

describe("/networks", () => {
  it("creates an overlay network (field names in any case) and shows it as Docker's swarm network", async () => {
    const { base } = await serve();
    const body = {
      name: "stk_net",
      driver: "overlay",
      labels: { "com.docker.stack.namespace": "stk" },
      attachable: true,
      IPAM: { Driver: "default", Config: [{ Subnet: "10.30.0.0/24", Gateway: "10.30.0.254" }] },
    };
    const made = await request(base, "POST", "/v1.41/networks/create", body);
    expect(made.status).toBe(201);
    const id = (made.json as { Id: string }).Id;
    const shown = await request(base, "GET", "/v1.41/networks/stk_net");
    expect(shown.json).toEqual({
      Name: "stk_net",
      Id: id,
      Created: expect.any(String),
      Scope: "swarm",
      Driver: "overlay",
      EnableIPv6: false,
      IPAM: { Driver: "default", Options: null, Config: [{ Subnet: "10.30.0.0/24", Gateway: "10.30.0.254" }] },
      Internal: false,
      Attachable: true,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: null,
      Options: { "com.docker.network.driver.overlay.vxlanid_list": "4096" },
      Labels: { "com.docker.stack.namespace": "stk" },
    });
    // Without a subnet: the next free one of the pool.
    await request(base, "POST", "/v1.41/networks/create", { Name: "other" });
    const other = (await request(base, "GET", "/v1.41/networks/other")).json as { IPAM: { Config: unknown[] } };
    expect(other.IPAM.Config).toEqual([{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }]);
    const taken = await request(base, "POST", "/v1.41/networks/create", { Name: "stk_net" });
    expect(taken.status).toBe(409);
  });

  it("lists with the name, id, label, driver, scope and type filters", async () => {
    const { base } = await serve();
    await request(base, "POST", "/v1.41/networks/create", { Name: "stk_front", Labels: { tier: "front" } });
    await request(base, "POST", "/v1.41/networks/create", { Name: "back" });
    const names = async (filters: object): Promise<string[]> => {
      const q = encodeURIComponent(JSON.stringify(filters));
      const res = await request(base, "GET", `/v1.41/networks?filters=${q}`);
      return (res.json as { Name: string }[]).map((n) => n.Name);
    };
    expect(await names({})).toEqual(["back", "stk_front"]);
    expect(await names({ name: { stk: true } })).toEqual(["stk_front"]);
    expect(await names({ label: { "tier=front": true } })).toEqual(["stk_front"]);
    expect(await names({ driver: { bridge: true } })).toEqual([]);
    expect(await names({ scope: { swarm: true }, type: { custom: true } })).toEqual(["back", "stk_front"]);
    const id = ((await request(base, "GET", "/v1.41/networks/back")).json as { Id: string }).Id;
    expect(await names({ id: { [id.slice(0, 8)]: true } })).toEqual(["back"]);
  });

  it("refuses what Shoal does not do, naming the field, and creates nothing", async () => {
    const { base } = await serve();
    const cases: [object, string][] = [
      [{ Name: "n", Driver: "bridge" }, "Driver"],
      [{ Name: "n", Internal: true }, "Internal"],
      [{ Name: "n", Ingress: true }, "Ingress"],
      [{ Name: "n", EnableIPv6: true }, "EnableIPv6"],
      [{ Name: "n", ConfigOnly: true }, "ConfigOnly"],
      [{ Name: "n", ConfigFrom: { Network: "x" } }, "ConfigFrom"],
      [{ Name: "n", Options: { encrypted: "" } }, "Options"],
      [{ Name: "n", IPAM: { Config: [{ Subnet: "10.0.0.0/30" }] } }, "spec.ipam.configs[0].subnet"],
      [{ Name: "-n" }, "spec.annotations.name"],
    ];
    for (const [body, field] of cases) {
      const res = await request(base, "POST", "/v1.41/networks/create", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.json as { message: string }).message).toContain(`${field}:`);
    }
    expect((await request(base, "GET", "/v1.41/networks")).json).toEqual([]);
  });

  it("deletes a network: 409 while a service joins it, 404 when unknown", async () => {
    const { base, store } = await serve();
    const made = await request(base, "POST", "/v1.41/networks/create", { Name: "used" });
    const id = (made.json as { Id: string }).Id;
    await store.update((tx) =>
      tx.services.create(
        Service.fromPartial({
          id: "s1",
          spec: { annotations: { name: "web" }, taskTemplate: { networks: [{ target: id, aliases: [] }] } },
        }),
      ),
    );
    const inUse = await request(base, "DELETE", "/v1.41/networks/used");
    expect(inUse.status).toBe(409);
    expect((inUse.json as { message: string }).message).toBe("network used is in use by service web");
    await store.update((tx) => tx.services.delete("s1"));
    expect((await request(base, "DELETE", `/v1.41/networks/${id}`)).status).toBe(204);
    const gone = await request(base, "DELETE", "/v1.41/networks/used");
    expect(gone.status).toBe(404);
    expect((gone.json as { message: string }).message).toBe("network used not found");
  });
});
