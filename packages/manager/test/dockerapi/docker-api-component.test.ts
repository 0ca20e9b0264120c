import { describe, expect, it } from "vitest";
import { Cluster, silentLogger, type TlsMaterial, type pki, systemClock } from "@shoal/shared";
import { DockerApiComponent, dockerApiRefusal, loopbackAddress } from "../../src/dockerapi/docker-api-component.js";
import { MemoryStore } from "../../src/state/store/index.js";

const who = (role: pki.CertRole, nodeId: string): pki.CertIdentity => ({
  nodeId,
  role,
  clusterId: "c1",
  serialNumber: "02",
  notBefore: new Date(0),
  notAfter: new Date(0),
  issuerKeyId: undefined,
});

describe("loopbackAddress", () => {
  it("reaches a wildcard listen address over loopback", () => {
    expect(loopbackAddress("0.0.0.0:4242")).toBe("127.0.0.1:4242");
    expect(loopbackAddress("[::]:4242")).toBe("[::1]:4242");
    expect(loopbackAddress("10.0.0.1:4242")).toBe("10.0.0.1:4242");
  });
});

describe("dockerApiRefusal", () => {
  it("admits operators and refuses workers, by the auth policy's rule", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: "c1", spec: {} })));
    expect(dockerApiRefusal(store, () => false, who("client", "ci"))).toBeUndefined();
    expect(dockerApiRefusal(store, () => false, who("worker", "w1"))).toMatch(/worker certificate may not call/);
  });
});

describe("DockerApiComponent", () => {
  it("is off when no address is given", async () => {
    const part = new DockerApiComponent({
      clock: systemClock,
      listen: undefined,
      store: new MemoryStore(),
      credentials: { material: {} as TlsMaterial, nodeId: "m1" },
      listener: { address: "127.0.0.1:1", advertise: "127.0.0.1:1" },
      isRaftMember: () => false,
      logger: silentLogger(),
    });
    await part.run();
    expect(part.address).toBe("");
    await part.stop();
  });
});
