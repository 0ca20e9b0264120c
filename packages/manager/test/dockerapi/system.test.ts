// /info and /version: Docker 20.10's fields and types (as recorded from a real swarm manager), with
// the cluster's values, and counts that agree with `docker node ls`.
import { machine } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Node, NodeRole, Reachability } from "@shoal/shared";
import type { MemoryStore } from "../../src/state/store/index.js";
import { INFO_WARNING } from "../../src/dockerapi/system.js";
import { dockerAnswer, shapeDifferences } from "./json-kinds.js";
import { CLUSTER_ID, clusterStore, request, serveRoutes, storeControl, type StoreControl } from "./store-control.js";

const MANAGER = "m4nager00000000000000000001";

let store: MemoryStore;
let control: StoreControl;
let server: { base: string; close(): Promise<void> };

beforeEach(async () => {
  store = await clusterStore();
  control = storeControl(store);
  control.members = [
    { raftId: 1, nodeId: MANAGER, addr: "10.0.0.1:4242" },
    { raftId: 2, nodeId: "m4nager00000000000000000002", addr: "10.0.0.2:4242" },
  ];
  server = await serveRoutes(control, { nodeId: MANAGER, advertise: "10.0.0.1:4242" });
});
afterEach(() => server.close());

async function get(path: string): Promise<Record<string, unknown>> {
  const res = await request(server.base, "GET", path);
  expect(res.status).toBe(200);
  return res.json as Record<string, unknown>;
}

describe("GET /info", () => {
  it("has every field of Docker 20.10's, of the same types", async () => {
    expect(shapeDifferences(await get("/v1.41/info"), dockerAnswer("docker-20.10-info.json"))).toEqual([]);
  });

  it("describes the manager's host and says in one warning that it runs no containers", async () => {
    const info = await get("/info");
    expect(info).toMatchObject({
      ID: MANAGER,
      OSType: "linux",
      Architecture: machine(),
      Containers: 0,
      Images: 0,
      Warnings: [INFO_WARNING],
    });
    expect(info["OperatingSystem"]).not.toBe("");
  });

  it("counts the nodes docker node ls lists and the managers among them, and lists the Raft group's addresses", async () => {
    await store.update((tx) => {
      tx.nodes.create(Node.fromPartial({ id: "w0rker00000000000000000001", role: NodeRole.WORKER }));
      tx.nodes.create(
        Node.fromPartial({
          id: "w0rker00000000000000000002",
          role: NodeRole.MANAGER,
          managerStatus: { raftId: 9, addr: "10.0.0.9:4242", leader: false, reachability: Reachability.REACHABLE },
        }),
      );
    });
    const swarm = (await get("/info"))["Swarm"] as Record<string, unknown>;
    expect(swarm).toMatchObject({
      NodeID: MANAGER,
      NodeAddr: "10.0.0.1",
      LocalNodeState: "active",
      ControlAvailable: true,
      Nodes: 2,
      Managers: 1,
      RemoteManagers: [
        { NodeID: MANAGER, Addr: "10.0.0.1:4242" },
        { NodeID: "m4nager00000000000000000002", Addr: "10.0.0.2:4242" },
      ],
      Cluster: { ID: CLUSTER_ID, Spec: { Name: "default" } },
    });
    const nodes = (await request(server.base, "GET", "/nodes")).json as unknown[];
    expect(nodes).toHaveLength(swarm["Nodes"] as number);
  });

  it("shows the cluster exactly as GET /swarm does, without the join tokens", async () => {
    const { JoinTokens: _tokens, ...cluster } = await get("/swarm");
    expect((await get("/info"))["Swarm"]).toMatchObject({ Cluster: cluster });
  });
});

describe("GET /version", () => {
  it("has every field of Docker 20.10's, of the same types", async () => {
    const version = await get("/v1.41/version");
    expect(shapeDifferences(version, dockerAnswer("docker-20.10-version.json"))).toEqual([]);
    expect(version).toMatchObject({ ApiVersion: "1.41", Os: "linux", Components: [{ Name: "Engine" }] });
  });
});
