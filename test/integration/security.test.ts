// Mutual TLS between real managers and nodes in one process, over loopback: who gets in and who
// is refused. Two managers (the second joined with the manager token); nodes join with tokens
// through joinCluster, as agents do; clients call with the admin certificate the founding
// manager wrote to DATA_DIR/client/. Each refusal is checked by its gRPC status and message.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ControlClient,
  DispatcherClient,
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  RaftMembershipClient,
  RaftTransportClient,
  TlsMaterial,
  bootstrapCredentials,
  channelCredentials,
  fromServiceError,
  joinCluster,
  pki,
  readCertFiles,
  silentLogger,
  type JoinResult,
  type ShoalError,
} from "@shoal/shared";
import { FakeExecutor, runSession } from "@shoal/agent";
import { Manager } from "@shoal/manager";
import { TestControl, testClientCertDir, useClientCertDir } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";
import { waitUntil } from "../e2e/support/wait.js";

let root = "";
const managers: Manager[] = [];
const control = new TestControl();
const clients: grpc.Client[] = [];

async function startManager(name: string, join?: string): Promise<Manager> {
  const m = new Manager({
    listen: "127.0.0.1:0",
    dataDir: `${root}/${name}`,
    logger: silentLogger(),
    ...(join ? { join, joinToken: (await joinTokens(control, join)).manager } : {}),
    raft: { tickMs: 20 },
  });
  await m.start();
  if (!join) useClientCertDir(`${root}/${name}/client`);
  managers.push(m);
  return m;
}

const leader = (): Manager => managers.find((m) => m.raft?.isLeader) ?? managers[0]!;

function connect<C extends grpc.Client>(
  Client: new (addr: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions) => C,
  creds: grpc.ChannelCredentials,
  addr = leader().address,
): C {
  const client = new Client(addr, creds, MANAGER_CHANNEL_OPTIONS);
  clients.push(client);
  return client;
}

/** One unary call as a promise; errors as ShoalErrors. */
function unary(client: grpc.Client, method: string, request: unknown): Promise<unknown> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method]!;
  return new Promise((resolve, reject) =>
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err: unknown, res: unknown) =>
      err ? reject(fromServiceError(err)) : resolve(res),
    ),
  );
}

const refusal = (p: Promise<unknown>): Promise<ShoalError> =>
  p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: unknown) => err as ShoalError,
  );

const credentialsOf = (joined: JoinResult): grpc.ChannelCredentials => channelCredentials(joined.material);

async function joinAs(role: "worker" | "manager", token?: string): Promise<JoinResult> {
  const tokens = await joinTokens(control, leader().address);
  return joinCluster({ managers: [leader().address], token: token ?? tokens[role] });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-security-"));
  const first = await startManager("a");
  await startManager("b", first.address);
  // The two agree on a leader that can serve reads.
  await waitUntil(
    "a leader that serves reads",
    () =>
      control
        .call(leader().address, "getCluster", { clusterId: "" }, 2000)
        .then(() => true)
        .catch(() => false),
    30_000,
  );
});

afterAll(async () => {
  for (const c of clients) c.close();
  control.close();
  await Promise.all(managers.map((m) => m.stop()));
  await rm(root, { recursive: true, force: true });
});

describe("mutual TLS between managers, nodes and clients", () => {
  it("serves the admin client certificate's calls, and the managers talk Raft over mutual TLS", async () => {
    const info = await control.call(managers[1]!.address, "getInfo", {});
    expect(info.raft?.members).toHaveLength(2);
    const admin = await readCertFiles(testClientCertDir());
    expect(new TlsMaterial(admin!).identity).toMatchObject({ nodeId: "admin", role: "client" });
  });

  it("never shows the CA key through the Control API", async () => {
    const { cluster } = await control.call(leader().address, "getCluster", { clusterId: "" });
    expect(cluster?.rootCa?.caCert.length).toBeGreaterThan(0);
    expect(cluster?.rootCa?.caKey).toHaveLength(0);
    const digest = cluster!.rootCa!.caCertDigest;
    expect(cluster?.rootJoinTokens?.worker).toMatch(new RegExp(`^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$`));
    expect(pki.parseJoinToken(cluster!.rootJoinTokens!.worker).caDigest).toBe(digest);
  });

  it("refuses a caller with no certificate everywhere but NodeCA", async () => {
    const anon = bootstrapCredentials();
    const err = await refusal(unary(connect(ControlClient, anon), "listNodes", { filters: undefined }));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.message).toMatch(/needs a certificate from this cluster's CA/);
    const raft = await refusal(unary(connect(RaftTransportClient, anon), "processRaftMessage", {}));
    expect(raft.code).toBe(ErrorCode.Unauthenticated);
  });

  it("refuses a wrong token and one with another CA's digest, the latter before sending it", async () => {
    const { worker } = await joinTokens(control, leader().address);
    const wrong = worker.replace(/-[0-9a-z]{25}$/, `-${"0".repeat(25)}`);
    expect(await refusal(joinAs("worker", wrong))).toMatchObject({ code: ErrorCode.PermissionDenied });
    const other = await pki.CertificateAuthority.create({ clusterId: "elsewhere", now: Date.now() });
    const foreign = pki.newJoinToken(other.digest);
    await expect(joinAs("worker", foreign)).rejects.toThrow(/digest/i);
  });

  it("refuses a rotated token; a node that joined with it keeps working", async () => {
    const before = await joinAs("worker");
    const { cluster } = await control.call(leader().address, "getCluster", { clusterId: "" });
    const old = cluster!.rootJoinTokens!.worker;
    await control.call(leader().address, "updateCluster", {
      clusterId: cluster!.id,
      clusterVersion: cluster!.meta!.version,
      spec: cluster!.spec,
      rotation: { worker: true, manager: false, rootCa: false },
    });
    const err = await refusal(joinAs("worker", old));
    expect(err.code).toBe(ErrorCode.PermissionDenied);
    // The node joined before the rotation still opens its session.
    const opened = await session(before);
    expect(opened.node.id).toBe(before.nodeId);
    opened.stop();
  });

  it("refuses a forged certificate (same names, another CA) like none", async () => {
    const forger = await pki.CertificateAuthority.create({
      clusterId: managers[0]!.identity!.clusterId!,
      now: Date.now(),
    });
    const { keyPem, csrPem } = await pki.createKeyAndCsr();
    const forged = await forger.issue(csrPem, {
      nodeId: "admin",
      role: "client",
      clusterId: managers[0]!.identity!.clusterId!,
      now: Date.now(),
    });
    // It trusts the real roots, so the handshake completes; the manager does not verify the certificate.
    const real = (await readCertFiles(testClientCertDir()))!;
    const creds = channelCredentials(new TlsMaterial({ caPem: real.caPem, certChainPem: forged.certChainPem, keyPem }));
    const err = await refusal(unary(connect(ControlClient, creds), "listNodes", { filters: undefined }));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
  });

  it("refuses a worker certificate on the Control API and Raft; a worker speaks to the dispatcher only", async () => {
    const worker = await joinAs("worker");
    const creds = credentialsOf(worker);
    const control_ = await refusal(unary(connect(ControlClient, creds), "listNodes", { filters: undefined }));
    expect(control_.code).toBe(ErrorCode.PermissionDenied);
    expect(control_.message).toMatch(/a worker certificate may not call shoal\.v1\.Control\/ListNodes/);
    const raft = await refusal(unary(connect(RaftTransportClient, creds), "processRaftMessage", {}));
    expect(raft.code).toBe(ErrorCode.PermissionDenied);
    const membership = await refusal(
      unary(connect(RaftMembershipClient, creds), "join", {
        addr: "127.0.0.1:1",
        nodeId: worker.nodeId,
        joinToken: "",
      }),
    );
    expect(membership.code).toBe(ErrorCode.PermissionDenied);
    // And its own dispatcher calls pass (a heartbeat of an unknown session: not found, not refused).
    const hb = await refusal(unary(connect(DispatcherClient, creds), "heartbeat", { sessionId: "nope" }));
    expect(hb.code).toBe(ErrorCode.NotFound);
  });

  it("refuses a removed node at once, its open session included", async () => {
    const node = await joinAs("worker");
    const opened = await session(node);
    await control.call(leader().address, "removeNode", { nodeId: node.nodeId, force: true });
    // The open session ends (its heartbeats are refused), and no new one opens.
    await expect.poll(() => opened.signal.aborted, { timeout: 10_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(opened.sessions()).toBe(1);
    opened.stop();
    const err = await refusal(unary(connect(DispatcherClient, credentialsOf(node)), "heartbeat", { sessionId: "x" }));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.message).toMatch(/not in the cluster \(removed\)/);
  });

  it("issues a client certificate for a key made by the client, and revokes it by name", async () => {
    const { keyPem, csrPem } = await pki.createKeyAndCsr();
    const issued = await control.call(leader().address, "issueClientCertificate", {
      name: "ci",
      csr: Buffer.from(csrPem),
      lifetime: undefined,
    });
    const material = new TlsMaterial({
      caPem: Buffer.from(issued.caCert).toString(),
      certChainPem: Buffer.from(issued.certificateChain).toString(),
      keyPem,
    });
    expect(material.identity).toMatchObject({ nodeId: "ci", role: "client" });
    const ci = connect(ControlClient, channelCredentials(material));
    await unary(ci, "listNodes", { filters: undefined });
    const { revoked } = await control.call(leader().address, "revokeClientCertificate", { name: "ci" });
    expect(revoked).toBe(1);
    await expect
      .poll(async () => (await refusal(unary(ci, "listNodes", { filters: undefined }))).message)
      .toMatch(/has been revoked/);
  });
});

/** An agent session for a joined node until stopped; `done` is the error that ended it. */
async function session(joined: JoinResult): Promise<{
  node: { id: string };
  /** Aborts when the first session ends. */
  signal: AbortSignal;
  sessions(): number;
  stop(): void;
  done: Promise<ShoalError | undefined>;
}> {
  const stop = new AbortController();
  const executor = new FakeExecutor();
  let opened: (first: { node: { id: string }; signal: AbortSignal }) => void = () => undefined;
  const first = new Promise<{ node: { id: string }; signal: AbortSignal }>((resolve) => (opened = resolve));
  let count = 0;
  const done = runSession(
    {
      managers: managers.map((m) => m.address),
      logger: silentLogger(),
      channel: { credentials: credentialsOf(joined), options: MANAGER_CHANNEL_OPTIONS },
      describe: (signal) => executor.describe(signal),
      onSession: (n, _manager, link) => {
        count++;
        opened({ node: n, signal: link.signal });
      },
    },
    stop.signal,
  ).then(
    () => undefined,
    (err: unknown) => err as ShoalError,
  );
  const { node, signal } = await first;
  return { node, signal, sessions: () => count, stop: () => stop.abort(), done };
}
