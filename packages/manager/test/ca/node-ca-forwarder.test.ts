// NodeCA on followers that forward IssueNodeCertificate to the leader: three NodeCaServers behind
// the auth interceptor, over real gRPC and real TLS on loopback, sharing one store. Each server
// records the callers its handler saw, so the tests tell who signed, and for whom.
import {
  CertificateRenewer,
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  NodeCAClient,
  NodeCAService,
  NodeCaIssuer,
  NodeRole,
  channelCredentials,
  joinCluster,
  pki,
  unaryCall,
  type NodeCAServer,
  type TlsMaterial,
} from "@shoal/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { authInterceptor } from "../../src/auth/interceptor.js";
import { callerOf, forwardedMetadata } from "../../src/auth/caller.js";
import { NodeCaServer } from "../../src/ca/ca-server.js";
import { NodeCaForwarder } from "../../src/ca/node-ca-forwarder.js";
import { CLUSTER_ID, material, serve, testCluster, type Served, type TestCluster } from "./fixtures.js";

const MANAGERS = ["m1", "m2", "m3"];

interface Ca {
  readonly name: string;
  readonly served: Served;
  /** Who the handler saw on each IssueNodeCertificate: a node id, or "anonymous". */
  readonly seen: string[];
  /** Where this manager believes the leader is; undefined: none known. */
  leader: string | undefined;
}

let cluster: TestCluster;
const cas = new Map<string, Ca>();
const forwarders: NodeCaForwarder[] = [];
const closers: (() => void)[] = [];

/** Manager `name`'s NodeCA; it signs if `leading`, else forwards with its own manager certificate. */
async function startCa(name: string, leading: boolean): Promise<Ca> {
  const tls = await material(cluster.ca, name, "manager");
  const forwarder = new NodeCaForwarder({ material: () => tls, timeoutMs: 5_000 });
  forwarders.push(forwarder);
  const entry = { name, seen: [] as string[], leader: undefined as string | undefined };
  const server = new NodeCaServer({
    store: cluster.store,
    rootCaOf: cluster.rootCaOf,
    isLeader: () => leading,
    leaderAddr: () => entry.leader,
    isRaftMember: (id) => MANAGERS.includes(id),
    forwardToLeader: (leader, request, caller, signal) => forwarder.issue(leader, request, caller, signal),
  });
  const handlers = server.handlers();
  const recording: NodeCAServer = {
    ...handlers,
    issueNodeCertificate: (call, callback) => {
      entry.seen.push(callerOf(call.metadata)?.nodeId ?? "anonymous");
      handlers.issueNodeCertificate(call, callback);
    },
  };
  const interceptor = authInterceptor({
    store: cluster.store,
    rootCaOf: cluster.rootCaOf,
    isRaftMember: (id) => MANAGERS.includes(id),
  });
  const served = await serve(tls, [[NodeCAService, recording]], { interceptors: [interceptor] });
  const started: Ca = Object.assign(entry, { served });
  cas.set(name, started);
  return started;
}

const ca = (name: string): Ca => cas.get(name)!;
const workerToken = (): string => cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker);
const join = (via: Ca) => joinCluster({ managers: [via.served.addr], token: workerToken(), timeoutMs: 10_000 });

beforeAll(async () => {
  cluster = await testCluster();
  const leader = await startCa("m1", true);
  await startCa("m2", false);
  await startCa("m3", false);
  ca("m2").leader = leader.served.addr;
  ca("m3").leader = leader.served.addr;
});

beforeEach(() => {
  for (const c of cas.values()) c.seen.length = 0;
  ca("m2").leader = ca("m1").served.addr;
});

afterAll(() => {
  for (const close of closers.splice(0)) close();
  for (const f of forwarders) f.close();
  for (const c of cas.values()) c.served.server.forceShutdown();
});

async function renewThrough(via: Ca, tls: TlsMaterial): Promise<void> {
  const issuer = new NodeCaIssuer(tls, () => [via.served.addr], 10_000);
  closers.push(() => issuer.close());
  const renewer = new CertificateRenewer({ material: tls, issue: issuer.issue });
  const running = renewer.run();
  renewer.renewNow();
  await expect.poll(() => renewer.renewals + renewer.failures, { timeout: 20_000 }).toBeGreaterThan(0);
  renewer.stop();
  await running;
  if (renewer.failures > 0) throw new Error("renewal failed");
}

describe("IssueNodeCertificate on a follower that knows the leader", () => {
  it("a node given only the follower's address joins: the leader signs, for an anonymous caller", async () => {
    const joined = await join(ca("m2"));
    expect(joined.identity).toMatchObject({ role: "worker", clusterId: CLUSTER_ID });
    expect(cluster.store.view((tx) => tx.nodes.get(joined.nodeId))?.role).toBe(NodeRole.WORKER);
    // The leader's handler saw no identity: not the follower's manager certificate.
    expect(ca("m2").seen).toEqual(["anonymous"]);
    expect(ca("m1").seen).toEqual(["anonymous"]);
  });

  it("a renewal through the follower keeps the node's identity; the leader renews that node", async () => {
    const joined = await join(ca("m1"));
    const serial = joined.identity.serialNumber;
    ca("m1").seen.length = 0;
    await renewThrough(ca("m2"), joined.material);
    expect(joined.material.identity).toMatchObject({ nodeId: joined.nodeId, role: "worker" });
    expect(joined.material.identity.serialNumber).not.toBe(serial);
    expect(ca("m2").seen).toEqual([joined.nodeId]);
    expect(ca("m1").seen).toEqual([joined.nodeId]);
  });

  it("a worker cannot renew as another node by naming it in shoal-forwarded-for", async () => {
    const [mine, other] = [await join(ca("m1")), await join(ca("m1"))];
    const client = new NodeCAClient(ca("m2").served.addr, channelCredentials(mine.material), MANAGER_CHANNEL_OPTIONS);
    closers.push(() => client.close());
    const { csrPem } = await pki.createKeyAndCsr();
    const call = unaryCall(
      client,
      "issueNodeCertificate",
      { csr: Buffer.from(csrPem), token: "", agentCertificate: false },
      { metadata: forwardedMetadata(other.identity), timeoutMs: 10_000 },
    );
    await expect(call).rejects.toMatchObject({
      code: ErrorCode.PermissionDenied,
      message: "only a manager may forward a call on behalf of another caller",
    });
    expect(ca("m1").seen).not.toContain(other.nodeId);
  });
});

describe("when a follower does not forward", () => {
  it("a forwarded call is not forwarded again: two followers with stale views answer NOT_LEADER", async () => {
    ca("m2").leader = ca("m3").served.addr;
    ca("m3").leader = ca("m2").served.addr;
    try {
      await expect(join(ca("m2"))).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message: expect.stringContaining(`not the leader; the leader is ${ca("m2").served.addr}`),
      });
    } finally {
      ca("m3").leader = ca("m1").served.addr;
    }
    expect(ca("m2").seen).toEqual(["anonymous"]);
    expect(ca("m3").seen).toEqual(["anonymous"]);
    expect(ca("m1").seen).toEqual([]);
  });

  it("with no leader known, NOT_LEADER as before: the node tries its next manager", async () => {
    ca("m2").leader = undefined;
    await expect(join(ca("m2"))).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(/no leader is known now/),
    });
    const joined = await joinCluster({
      managers: [ca("m2").served.addr, ca("m3").served.addr],
      token: workerToken(),
      timeoutMs: 10_000,
    });
    expect(joined.role).toBe("worker");
    expect(ca("m3").seen).toEqual(["anonymous"]);
    expect(ca("m1").seen).toEqual(["anonymous"]);
  });

  it("a leader that cannot be reached: UNAVAILABLE, naming it", async () => {
    ca("m2").leader = "127.0.0.1:1";
    await expect(join(ca("m2"))).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(/the leader at 127\.0\.0\.1:1 cannot be reached from this manager/),
    });
  });
});

describe("NodeCaForwarder.close", () => {
  it("cancels the calls in flight and refuses new ones; it is idempotent", async () => {
    const tls = await material(cluster.ca, "m2", "manager");
    const silent = await serve(tls, [[NodeCAService, { issueNodeCertificate: () => undefined }]]);
    closers.push(() => silent.server.forceShutdown());
    const forwarder = new NodeCaForwarder({ material: () => tls, timeoutMs: 20_000 });
    const request = { csr: Buffer.from("csr"), token: "t", agentCertificate: false };
    const pending = forwarder.issue(silent.addr, request, undefined);
    // Once the call is out (a connection made), close cuts it short of its deadline.
    await new Promise((resolve) => setTimeout(resolve, 500));
    forwarder.close();
    forwarder.close();
    const stopping = { code: ErrorCode.Unavailable, message: expect.stringMatching(/this manager is stopping/) };
    await expect(pending).rejects.toMatchObject(stopping);
    await expect(forwarder.issue(silent.addr, request, undefined)).rejects.toMatchObject(stopping);
  });
});
