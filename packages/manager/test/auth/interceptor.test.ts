// The auth interceptor on a real gRPC server over real TLS, in front of small fake services (the
// real generated service definitions) and the real NodeCA: who gets in, who is refused, and why.
import * as grpc from "@grpc/grpc-js";
import {
  ControlClient,
  ControlService,
  DispatcherClient,
  DispatcherService,
  GetInfoResponse,
  HeartbeatResponse,
  JoinResponse,
  NodeCAClient,
  NodeCAService,
  NodeRole,
  ProcessRaftMessageResponse,
  RaftMembershipClient,
  RaftMembershipService,
  RaftTransportClient,
  RaftTransportService,
  RevokedCertificate,
  RootCA,
  channelCredentials,
  fromServiceError,
  getRootCa,
  MANAGER_CHANNEL_OPTIONS,
  pinnedCredentials,
  pki,
  TlsMaterial,
} from "@shoal/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authInterceptor, authorize, authorizeRule, decide, type AuthView } from "../../src/auth/interceptor.js";
import { DOCKER_API_RULE } from "../../src/auth/policy.js";
import { callerOf, forwardedMetadata } from "../../src/auth/caller.js";
import { NodeCaServer } from "../../src/ca/ca-server.js";
import {
  addNode,
  CLUSTER_ID,
  issueFiles,
  material,
  serve,
  testCluster,
  type Served,
  type TestCluster,
} from "../ca/fixtures.js";

let cluster: TestCluster;
let served: Served;
const members = new Set<string>(["m1"]);
const clients: grpc.Client[] = [];

type Callback = (err: grpc.ServiceError | null, res?: unknown) => void;
const reply =
  (make: (call: grpc.ServerUnaryCall<unknown, unknown>) => unknown) =>
  (call: grpc.ServerUnaryCall<unknown, unknown>, callback: Callback): void =>
    callback(null, make(call));

beforeAll(async () => {
  cluster = await testCluster();
  await addNode(cluster.store, "m1", "manager");
  await addNode(cluster.store, "w1", "worker");
  const nodeCa = new NodeCaServer({ store: cluster.store, rootCaOf: cluster.rootCaOf, isLeader: () => true });
  served = await serve(
    await material(cluster.ca, "m1", "manager"),
    [
      [NodeCAService, nodeCa.handlers()],
      // Each fake answers with the caller's node id, as the interceptor passed it on.
      [
        ControlService,
        { getInfo: reply((call) => GetInfoResponse.fromPartial({ nodeId: callerOf(call.metadata)?.nodeId ?? "" })) },
      ],
      [RaftTransportService, { processRaftMessage: reply(() => ProcessRaftMessageResponse.fromPartial({})) }],
      [RaftMembershipService, { join: reply(() => JoinResponse.fromPartial({})) }],
      [
        DispatcherService,
        {
          heartbeat: reply((call) =>
            HeartbeatResponse.fromPartial({ period: { seconds: callerOf(call.metadata)?.nodeId === "w1" ? 1 : 0 } }),
          ),
        },
      ],
    ],
    {
      interceptors: [
        authInterceptor({ store: cluster.store, rootCaOf: cluster.rootCaOf, isRaftMember: (id) => members.has(id) }),
      ],
    },
  );
});

afterAll(() => {
  for (const c of clients.splice(0)) c.close();
  served.server.forceShutdown();
});

type Ctor<C> = new (addr: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions) => C;

/** A client on its own connection (no shared subchannel), so that each test's credentials are its own. */
function connect<C extends grpc.Client>(Client: Ctor<C>, creds: grpc.ChannelCredentials): C {
  const client = new Client(served.addr, creds, { ...MANAGER_CHANNEL_OPTIONS, "grpc.use_local_subchannel_pool": 1 });
  clients.push(client);
  return client;
}

function unary<Res>(
  client: grpc.Client,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
): Promise<Res> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method]!;
  return new Promise<Res>((resolve, reject) =>
    fn.call(client, request, metadata, { deadline: Date.now() + 5_000 }, (err: unknown, res: Res) =>
      err ? reject(fromServiceError(err)) : resolve(res),
    ),
  );
}

interface As {
  control(): Promise<GetInfoResponse>;
  raft(): Promise<unknown>;
  raftJoin(): Promise<unknown>;
  heartbeat(): Promise<HeartbeatResponse>;
  roots(): Promise<unknown>;
}

function as(creds: grpc.ChannelCredentials): As {
  return {
    control: () => unary(connect(ControlClient, creds), "getInfo", {}),
    raft: () => unary(connect(RaftTransportClient, creds), "processRaftMessage", { message: undefined }),
    raftJoin: () => unary(connect(RaftMembershipClient, creds), "join", { addr: "", nodeId: "", joinToken: "" }),
    heartbeat: () => unary(connect(DispatcherClient, creds), "heartbeat", { sessionId: "s" }),
    roots: () => getRootCa(connect(NodeCAClient, creds), { timeoutMs: 5_000 }),
  };
}

const refused = (code: string, message: RegExp) =>
  expect.objectContaining({ code, message: expect.stringMatching(message) });

describe("the auth interceptor over mutual TLS", () => {
  it("no certificate: only NodeCA", async () => {
    const anonymous = as(pinnedCredentials(cluster.ca.certPem));
    await expect(anonymous.roots()).resolves.toBeDefined();
    await expect(anonymous.control()).rejects.toEqual(
      refused("UNAUTHENTICATED", /needs a certificate from this cluster's CA/),
    );
    await expect(anonymous.raft()).rejects.toEqual(refused("UNAUTHENTICATED", /needs a certificate/));
    await expect(anonymous.heartbeat()).rejects.toEqual(refused("UNAUTHENTICATED", /needs a certificate/));
  });

  it("a forged certificate (same names, another CA) is no identity: refused like none", async () => {
    const other = await pki.CertificateAuthority.create({ clusterId: CLUSTER_ID, now: Date.now() });
    const forged = as(
      channelCredentials(new TlsMaterial(await issueFiles(other, "m1", "manager", cluster.ca.certPem))),
    );
    await expect(forged.control()).rejects.toEqual(refused("UNAUTHENTICATED", /did not verify/));
    await expect(forged.raft()).rejects.toEqual(refused("UNAUTHENTICATED", /did not verify/));
  });

  it("a worker: its own dispatcher calls, as itself; Control and Raft are PERMISSION_DENIED", async () => {
    const worker = as(channelCredentials(await material(cluster.ca, "w1", "worker")));
    await expect(worker.heartbeat()).resolves.toMatchObject({ period: { seconds: 1 } }); // the handler saw w1
    await expect(worker.control()).rejects.toEqual(
      refused("PERMISSION_DENIED", /a worker certificate may not call shoal\.v1\.Control\/GetInfo/),
    );
    await expect(worker.raft()).rejects.toEqual(
      refused("PERMISSION_DENIED", /a worker certificate may not call shoal\.v1\.RaftTransport/),
    );
    await expect(worker.raftJoin()).rejects.toEqual(refused("PERMISSION_DENIED", /worker certificate/));
  });

  it("a manager that is a member: Control, Raft, the dispatcher; the handler sees its node id", async () => {
    const manager = as(channelCredentials(await material(cluster.ca, "m1", "manager")));
    await expect(manager.control()).resolves.toMatchObject({ nodeId: "m1" });
    await expect(manager.raft()).resolves.toBeDefined();
    await expect(manager.heartbeat()).resolves.toBeDefined();
  });

  it("a manager not (yet) in the Raft group may join it, not speak Raft", async () => {
    await addNode(cluster.store, "m2", "manager");
    const manager = as(channelCredentials(await material(cluster.ca, "m2", "manager")));
    await expect(manager.raftJoin()).resolves.toBeDefined();
    await expect(manager.raft()).rejects.toEqual(refused("PERMISSION_DENIED", /not a member of the Raft group/));
  });

  it("a removed node reconnecting is refused at once, though its certificate has not expired", async () => {
    await addNode(cluster.store, "w9", "worker");
    const creds = channelCredentials(await material(cluster.ca, "w9", "worker"));
    const dispatcher = connect(DispatcherClient, creds);
    await expect(unary(dispatcher, "heartbeat", { sessionId: "s" })).resolves.toBeDefined();
    await cluster.store.update((tx) => tx.nodes.delete("w9"));
    // On the connection it already has, and on a new one.
    await expect(unary(dispatcher, "heartbeat", { sessionId: "s" })).rejects.toEqual(
      refused("UNAUTHENTICATED", /node w9 is not in the cluster \(removed\)/),
    );
    await expect(as(creds).heartbeat()).rejects.toEqual(refused("UNAUTHENTICATED", /removed/));
  });

  it("a demoted manager keeps manager calls until it leaves the Raft group, then loses them; keeps its node's dispatcher calls", async () => {
    await addNode(cluster.store, "m3", "manager");
    members.add("m3");
    const manager = as(channelCredentials(await material(cluster.ca, "m3", "manager")));
    await expect(manager.control()).resolves.toBeDefined();
    await cluster.store.update((tx) => {
      const node = tx.nodes.get("m3")!;
      node.spec!.desiredRole = NodeRole.WORKER;
      tx.nodes.update(node);
    });
    // Still a member: the leader's removal (and a leader's handover) needs it to speak Raft.
    await expect(manager.control()).resolves.toBeDefined();
    members.delete("m3");
    await expect(manager.control()).rejects.toEqual(refused("PERMISSION_DENIED", /no longer a manager \(demoted\)/));
    await expect(manager.raft()).rejects.toEqual(refused("PERMISSION_DENIED", /demoted/));
    await expect(manager.heartbeat()).resolves.toBeDefined();
  });

  it("a client certificate: Control; not the dispatcher, not Raft; refused once revoked", async () => {
    const files = await issueFiles(cluster.ca, "admin", "client");
    const client = as(channelCredentials(new TlsMaterial(files)));
    await expect(client.control()).resolves.toMatchObject({ nodeId: "admin" });
    await expect(client.heartbeat()).rejects.toEqual(
      refused("PERMISSION_DENIED", /a client certificate may not call shoal\.v1\.Dispatcher/),
    );
    await expect(client.raft()).rejects.toEqual(refused("PERMISSION_DENIED", /client certificate/));
    const serialNumber = new TlsMaterial(files).identity.serialNumber;
    cluster.setRootCa(
      RootCA.fromPartial({
        ...cluster.rootCa(),
        revoked: [RevokedCertificate.fromPartial({ serialNumber: serialNumber.toUpperCase(), name: "admin" })],
      }),
    );
    await expect(client.control()).rejects.toEqual(
      refused("UNAUTHENTICATED", /client certificate admin .* has been revoked/),
    );
  });
});

describe("calls forwarded by a follower", () => {
  it("a manager forwards for a client (the handler sees the client) or an anonymous joiner; not for a worker on Control", async () => {
    const creds = channelCredentials(await material(cluster.ca, "m1", "manager"));
    const admin = new TlsMaterial(await issueFiles(cluster.ca, "ops", "client")).identity;
    const worker = new TlsMaterial(await issueFiles(cluster.ca, "w1", "worker")).identity;
    await expect(unary(connect(ControlClient, creds), "getInfo", {}, forwardedMetadata(admin))).resolves.toMatchObject({
      nodeId: "ops",
    });
    await expect(
      unary(connect(NodeCAClient, creds), "getRootCaCertificate", {}, forwardedMetadata(undefined)),
    ).resolves.toBeDefined();
    await expect(unary(connect(ControlClient, creds), "getInfo", {}, forwardedMetadata(undefined))).rejects.toEqual(
      refused("UNAUTHENTICATED", /needs a certificate/),
    );
    await expect(unary(connect(ControlClient, creds), "getInfo", {}, forwardedMetadata(worker))).rejects.toEqual(
      refused("PERMISSION_DENIED", /a worker certificate may not call/),
    );
  });

  it("only a manager may forward, and the header must be well formed", async () => {
    const worker = channelCredentials(await material(cluster.ca, "w1", "worker"));
    const admin = new TlsMaterial(await issueFiles(cluster.ca, "ops", "client")).identity;
    await expect(
      unary(connect(DispatcherClient, worker), "heartbeat", { sessionId: "s" }, forwardedMetadata(admin)),
    ).rejects.toEqual(refused("PERMISSION_DENIED", /only a manager may forward/));
    const manager = channelCredentials(await material(cluster.ca, "m1", "manager"));
    const bad = new grpc.Metadata();
    bad.set("shoal-forwarded-for", "{not json");
    await expect(unary(connect(ControlClient, manager), "getInfo", {}, bad)).rejects.toEqual(
      refused("INVALID_ARGUMENT", /malformed shoal-forwarded-for/),
    );
  });
});

describe("authorize (the decision alone)", () => {
  const identity = (role: pki.CertRole, nodeId: string, clusterId = CLUSTER_ID): pki.CertIdentity => ({
    nodeId,
    role,
    clusterId,
    serialNumber: "01",
    notBefore: new Date(0),
    notAfter: new Date(0),
    issuerKeyId: undefined,
  });
  const view: AuthView = {
    clusterId: CLUSTER_ID,
    node: (id) => (id === "w1" ? ({ id, role: NodeRole.WORKER } as never) : undefined),
    rootCa: undefined,
    isRaftMember: () => false,
  };

  it("refuses a certificate of another cluster, and methods nobody may call", () => {
    expect(authorize("/shoal.v1.Dispatcher/Heartbeat", identity("worker", "w1", "elsewhere"), view)).toMatchObject({
      ok: false,
      code: grpc.status.PERMISSION_DENIED,
      message: expect.stringMatching(/for cluster elsewhere/),
    });
    expect(authorize("/shoal.v1.Unknown/Call", identity("worker", "w1"), view)).toMatchObject({
      ok: false,
      message: "shoal.v1.Unknown/Call is not open to any caller",
    });
    expect(authorize("/shoal.v1.Dispatcher/Heartbeat", identity("worker", "w1"), view)).toMatchObject({ ok: true });
  });

  it("IssueNodeCertificate forwarded by a manager: the joiner stays anonymous, a renewal keeps its node", () => {
    const issue = "/shoal.v1.NodeCA/IssueNodeCertificate";
    const follower = identity("manager", "m2");
    const members = { ...view, isRaftMember: (id: string) => id === "m2" };
    // The handler gets no identity, not the follower's: a join needs its token, a renewal fails.
    expect(decide(issue, follower, forwardedMetadata(undefined), members)).toEqual({ ok: true, identity: undefined });
    expect(decide(issue, follower, forwardedMetadata(identity("worker", "w1")), members)).toMatchObject({
      ok: true,
      identity: { nodeId: "w1", role: "worker" },
    });
    expect(decide(issue, follower, forwardedMetadata(identity("worker", "gone")), members)).toMatchObject({
      ok: false,
      code: grpc.status.UNAUTHENTICATED,
    });
    // A worker cannot renew as another node by naming it.
    expect(decide(issue, identity("worker", "w1"), forwardedMetadata(identity("worker", "w2")), view)).toMatchObject({
      ok: false,
      code: grpc.status.PERMISSION_DENIED,
      message: "only a manager may forward a call on behalf of another caller",
    });
  });
});

describe("authorizeRule (endpoints outside the gRPC table)", () => {
  const view: AuthView = {
    clusterId: CLUSTER_ID,
    node: (id) => (id === "w1" ? ({ id, role: NodeRole.WORKER } as never) : undefined),
    rootCa: undefined,
    isRaftMember: () => false,
  };
  const who = (role: pki.CertRole, nodeId: string): pki.CertIdentity => ({
    nodeId,
    role,
    clusterId: CLUSTER_ID,
    serialNumber: "02",
    notBefore: new Date(0),
    notAfter: new Date(0),
    issuerKeyId: undefined,
  });

  it("the Docker Engine API: clients yes; workers and no certificate no", () => {
    expect(authorizeRule(DOCKER_API_RULE, "the Docker Engine API", who("client", "ci"), view)).toMatchObject({
      ok: true,
    });
    expect(authorizeRule(DOCKER_API_RULE, "the Docker Engine API", who("worker", "w1"), view)).toMatchObject({
      ok: false,
      code: grpc.status.PERMISSION_DENIED,
      message: expect.stringMatching(/a worker certificate may not call the Docker Engine API/),
    });
    expect(authorizeRule(DOCKER_API_RULE, "the Docker Engine API", undefined, view)).toMatchObject({
      ok: false,
      code: grpc.status.UNAUTHENTICATED,
    });
  });
});

describe("a manager whose store does not exist yet", () => {
  it("answers UNAVAILABLE", async () => {
    const early = await serve(
      await material(cluster.ca, "m1", "manager"),
      [[ControlService, { getInfo: reply(() => GetInfoResponse.fromPartial({})) }]],
      {
        interceptors: [
          authInterceptor({ store: () => undefined, rootCaOf: cluster.rootCaOf, isRaftMember: () => true }),
        ],
      },
    );
    try {
      const client = new ControlClient(early.addr, channelCredentials(await material(cluster.ca, "m1", "manager")), {
        ...MANAGER_CHANNEL_OPTIONS,
        "grpc.use_local_subchannel_pool": 1,
      });
      clients.push(client);
      await expect(unary(client, "getInfo", {})).rejects.toEqual(refused("UNAVAILABLE", /starting/));
    } finally {
      early.server.forceShutdown();
    }
  });
});
