// The Control API's checks of a service's networks and endpoint, within the write that stores it.
import { describe, expect, it } from "vitest";
import { EndpointMode, PortProtocol, PublishMode, ServiceSpec, type DeepPartial, type PortConfig } from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { createService, updateService } from "../../src/controlapi/services.js";
import { network } from "../allocator/fixtures.js";

const spec = (name: string, patch: DeepPartial<ServiceSpec> = {}): ServiceSpec =>
  ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: { container: { image: "shoal-base:1" }, ...patch.taskTemplate },
    mode: { $case: "replicated", value: { replicas: 1 } },
    endpoint: patch.endpoint,
  });

const port = (publishedPort: number, publishMode = PublishMode.INGRESS): PortConfig => ({
  name: "",
  protocol: PortProtocol.TCP,
  targetPort: 80,
  publishedPort,
  publishMode,
});

async function storeWithNetworks(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.update((tx) => {
    tx.networks.create(network("4f2a9c0011", "10.0.1.0/24", { name: "backend" }));
    tx.networks.create(network("7bd3e50022", "10.0.2.0/24", { name: "frontend" }));
    tx.networks.create(network("9ce1000033", "10.255.0.0/16", { name: "ingress", ingress: true }));
  });
  return store;
}

const nets = (...targets: string[]) => ({
  taskTemplate: { networks: targets.map((target) => ({ target, aliases: [] })) },
});

describe("service networks in the Control API", () => {
  it("stores each network by id, whether named by id, name or id prefix", async () => {
    const store = await storeWithNetworks();
    const s = (await createService(store, { spec: spec("web", nets("backend", "7bd3")) })).service!;
    expect(s.spec?.taskTemplate?.networks.map((n) => n.target)).toEqual(["4f2a9c0011", "7bd3e50022"]);
    const updated = (
      await updateService(store, {
        serviceId: s.id,
        serviceVersion: s.meta?.version,
        spec: spec("web", nets("4f2a9c0011")),
        rollback: false,
      })
    ).service!;
    expect(updated.spec?.taskTemplate?.networks.map((n) => n.target)).toEqual(["4f2a9c0011"]);
  });

  it("refuses an unknown network, the ingress network and a network named twice, naming the field", async () => {
    const store = await storeWithNetworks();
    await expect(createService(store, { spec: spec("web", nets("backend", "nope")) })).rejects.toThrow(
      "network nope not found",
    );
    await expect(createService(store, { spec: spec("web", nets("ingress")) })).rejects.toThrow(
      /spec.task_template.networks\[0\].target: service cannot be explicitly attached to the ingress network/,
    );
    await expect(createService(store, { spec: spec("web", nets("backend", "4f2a")) })).rejects.toThrow(
      /spec.task_template.networks\[1\].target: network "backend" is already attached/,
    );
    expect(store.view((tx) => tx.services.find())).toEqual([]);
  });

  it("refuses an ingress-mode published port in dnsrr mode, as Docker does", async () => {
    const store = await storeWithNetworks();
    await expect(
      createService(store, { spec: spec("web", { endpoint: { mode: EndpointMode.DNSRR, ports: [port(8080)] } }) }),
    ).rejects.toThrow(
      "spec.endpoint.ports[0].publish_mode: port published with ingress mode can't be used with dnsrr mode",
    );
    const ok = await createService(store, {
      spec: spec("db", { endpoint: { mode: EndpointMode.DNSRR, ports: [port(8081, PublishMode.HOST)] } }),
    });
    expect(ok.service?.spec?.endpoint?.mode).toBe(EndpointMode.DNSRR);
  });

  it("refuses an ingress published port another service holds, and not a host-mode one", async () => {
    const store = await storeWithNetworks();
    const web = (await createService(store, { spec: spec("web", { endpoint: { ports: [port(8080)] } }) })).service!;
    await expect(createService(store, { spec: spec("api", { endpoint: { ports: [port(8080)] } }) })).rejects.toThrow(
      "spec.endpoint.ports[0].published_port: port '8080' is already in use by service 'web'",
    );
    await createService(store, { spec: spec("hosted", { endpoint: { ports: [port(8080, PublishMode.HOST)] } }) });
    // A port the allocator gave (published as 0) is held too.
    await store.update((tx) => {
      const s = tx.services.get(web.id)!;
      s.endpoint = { spec: s.spec!.endpoint, ports: [port(8080), port(30001)], virtualIps: [] };
      tx.services.update(s);
    });
    await expect(createService(store, { spec: spec("api", { endpoint: { ports: [port(30001)] } }) })).rejects.toThrow(
      "port '30001' is already in use by service 'web'",
    );
    // The service itself keeps its port across an update.
    const current = store.view((tx) => tx.services.get(web.id))!;
    await updateService(store, {
      serviceId: web.id,
      serviceVersion: current.meta?.version,
      spec: spec("web", { endpoint: { ports: [port(8080)] } }),
      rollback: false,
    });
    await expect(
      createService(store, { spec: spec("twice", { endpoint: { ports: [port(9090), port(9090)] } }) }),
    ).rejects.toThrow("spec.endpoint.ports[1].published_port: port '9090' is published twice");
  });
});
