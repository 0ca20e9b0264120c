// /nodes over HTTP, against the Control API's node handlers on a store: agents as nodes with the
// cluster's TLS info, managers (not nodes yet) by their id, so that `docker node inspect self` and
// `docker swarm join-token` work.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Node, NodeAvailability, NodeRole, type NodeSpec } from "@shoal/shared";
import { nodeHandlers } from "../../src/dockerapi/nodes.js";
import { dockerRequest, fakeDocker } from "./fake-docker-context.js";
import type { MemoryStore } from "../../src/state/store/index.js";
import { clusterStore, request, serveRoutes, storeControl, type StoreControl } from "./store-control.js";

const MANAGER = "m4nager00000000000000000001";
const OTHER = "m4nager00000000000000000002";
const AGENT = "ag3nt0000000000000000000001";

let store: MemoryStore;
let control: StoreControl;
let server: { base: string; close(): Promise<void> };

beforeEach(async () => {
  store = await clusterStore();
  await store.update((tx) =>
    tx.nodes.create(
      Node.fromPartial({
        id: AGENT,
        role: NodeRole.WORKER,
        description: { hostname: "a1", platform: { os: "linux", architecture: "arm64" } },
      }),
    ),
  );
  control = storeControl(store);
  control.members = [
    { raftId: 1, nodeId: MANAGER, addr: "10.0.0.1:4242" },
    { raftId: 2, nodeId: OTHER, addr: "10.0.0.2:4242" },
  ];
  server = await serveRoutes(control, { nodeId: MANAGER, advertise: "10.0.0.1:4242" });
});
afterEach(() => server.close());

describe("GET /nodes", () => {
  it("lists the agents with the cluster's TLS info and the kernel's name of their architecture", async () => {
    const res = await request(server.base, "GET", "/v1.41/nodes");
    expect(res.status).toBe(200);
    const nodes = res.json as { ID: string; Description: { Platform: unknown; TLSInfo: { TrustRoot?: string } } }[];
    expect(nodes.map((n) => n.ID)).toEqual([AGENT]);
    expect(nodes[0]!.Description.Platform).toEqual({ Architecture: "aarch64", OS: "linux" });
    expect(nodes[0]!.Description.TLSInfo.TrustRoot).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });
});

describe("GET /nodes/{id}", () => {
  it("inspects an agent as a node", async () => {
    expect(await request(server.base, "GET", `/nodes/${AGENT}`)).toMatchObject({
      status: 200,
      json: { ID: AGENT, Spec: { Role: "worker" } },
    });
  });

  it("inspects self and the other managers from the Raft membership, with the address to join", async () => {
    expect(await request(server.base, "GET", "/v1.41/nodes/self")).toMatchObject({
      status: 200,
      json: { ID: MANAGER, Spec: { Role: "manager" }, ManagerStatus: { Leader: true, Addr: "10.0.0.1:4242" } },
    });
    expect(await request(server.base, "GET", `/nodes/${OTHER}`)).toMatchObject({
      status: 200,
      json: { ID: OTHER, ManagerStatus: { Leader: false, Reachability: "unreachable", Addr: "10.0.0.2:4242" } },
    });
  });

  it("answers 404 for an id that is neither a node nor a manager", async () => {
    expect(await request(server.base, "GET", "/nodes/nosuch")).toEqual({
      status: 404,
      json: { message: "node nosuch not found" },
      contentType: "application/json",
    });
  });
});

describe("node update", () => {
  it("takes dockerode's body, which carries the version query parameter too, as Docker does", async () => {
    const docker = fakeDocker();
    const body = { version: 3, Labels: {}, Role: "worker", Availability: "pause" };
    expect(
      await nodeHandlers(docker.ctx)["update"]!(dockerRequest({ params: { id: "n1" }, query: "version=3", body })),
    ).toEqual({ status: 200 });
    const [{ spec }] = docker.requests<{ spec: NodeSpec }>("updateNode") as [{ spec: NodeSpec }];
    expect(spec.availability).toBe(NodeAvailability.PAUSE);
  });

  it("takes field names in any case and keeps label keys as given", async () => {
    const docker = fakeDocker();
    const body = { labels: { Zone: "z1" }, role: "manager", AVAILABILITY: "drain" };
    expect(
      await nodeHandlers(docker.ctx)["update"]!(dockerRequest({ params: { id: "n1" }, query: "version=3", body })),
    ).toEqual({ status: 200 });
    const [{ spec }] = docker.requests<{ spec: NodeSpec }>("updateNode") as [{ spec: NodeSpec }];
    expect(spec).toEqual({
      annotations: { name: "", labels: { Zone: "z1" } },
      desiredRole: NodeRole.MANAGER,
      availability: NodeAvailability.DRAIN,
    });
  });
});
