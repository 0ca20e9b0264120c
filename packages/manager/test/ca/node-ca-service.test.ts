import { describe, expect, it } from "vitest";
import { Cluster, ManualClock, NodeCAService, durationFromMs, silentLogger, type TlsMaterial } from "@shoal/shared";
import { NodeCaService, certLifetimeMs, managerHosts } from "../../src/ca/node-ca-service.js";
import { MemoryStore } from "../../src/state/store/index.js";

const members = [
  { raftId: 1, nodeId: "m1", addr: "10.0.0.1:4242" },
  { raftId: 2, nodeId: "m2", addr: "[fd00::2]:4242" },
];

describe("NodeCaService", () => {
  it("serves NodeCA; reads the certificate only to forward; stop is idempotent", async () => {
    const added: unknown[] = [];
    const service = new NodeCaService({
      server: { addService: (def) => void added.push(def) },
      store: new MemoryStore(),
      raft: { isLeader: false, leaderAddr: () => undefined, members: () => [], isRaftMember: () => false },
      credentials: {
        get material(): TlsMaterial {
          throw new Error("read before a call was forwarded");
        },
      },
      clock: new ManualClock(),
      logger: silentLogger(),
    });
    await service.run();
    expect(added).toEqual([NodeCAService]);
    service.stop();
    service.stop();
  });

  it("names a manager's certificate after the host of its Raft address", () => {
    expect(managerHosts(members, "m2")).toEqual(["127.0.0.1", "localhost", "fd00::2"]);
    expect(managerHosts(members, "m3")).toEqual(["127.0.0.1", "localhost"]);
  });

  it("takes the node certificate lifetime from the cluster's ca_config, else NodeCA's default", () => {
    const withExpiry = Cluster.fromPartial({ spec: { caConfig: { nodeCertExpiry: durationFromMs(86_400_000) } } });
    expect(certLifetimeMs(withExpiry)).toBe(86_400_000);
    expect(certLifetimeMs(Cluster.fromPartial({ spec: {} }))).toBeUndefined();
    expect(certLifetimeMs(Cluster.fromPartial({ spec: { caConfig: { nodeCertExpiry: durationFromMs(0) } } }))).toBe(
      undefined,
    );
  });
});
