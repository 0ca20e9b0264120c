// NodeCA behind the auth interceptor on a real gRPC server over real TLS: joining with tokens,
// renewal (role from the store, removed nodes refused, during a root rotation), and a renewal
// driven by a manual clock that swaps the certificate under an open stream.
import type * as grpc from "@grpc/grpc-js";
import {
  Node,
  DispatcherClient,
  DispatcherService,
  ManualClock,
  MANAGER_CHANNEL_OPTIONS,
  NodeCAService,
  NodeCaIssuer,
  NodeRole,
  CertificateRenewer,
  RootCA,
  channelCredentials,
  joinCluster,
  leafIdentity,
  pki,
  type SessionResponse,
  type TlsMaterial,
} from "@shoal/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authInterceptor } from "../../src/auth/interceptor.js";
import { callerOf } from "../../src/auth/caller.js";
import { NodeCaServer, issuedRole } from "../../src/ca/ca-server.js";
import { addNode, CLUSTER_ID, material, serve, testCluster, type Served, type TestCluster } from "./fixtures.js";

/** Connections and key generation on a loaded 2-core machine can take more than the default second. */
// Generous: key generation and TLS handshakes are slow on a loaded 2-core machine.
const POLL = { timeout: 30_000 };

let cluster: TestCluster;
let served: Served;
let leader = true;
const sessions: grpc.ServerWritableStream<unknown, SessionResponse>[] = [];
const sessionCallers: string[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  cluster = await testCluster();
  await addNode(cluster.store, "m1", "manager");
  const nodeCa = new NodeCaServer({
    store: cluster.store,
    rootCaOf: cluster.rootCaOf,
    isLeader: () => leader,
    leaderAddr: () => "10.0.0.9:4242",
  });
  served = await serve(
    await material(cluster.ca, "m1", "manager"),
    [
      [NodeCAService, nodeCa.handlers()],
      [
        DispatcherService,
        {
          session: (call: grpc.ServerWritableStream<unknown, SessionResponse>) => {
            const caller = callerOf(call.metadata)!;
            sessionCallers.push(caller.serialNumber);
            sessions.push(call);
            call.write({
              sessionId: caller.nodeId,
              node: undefined,
              managers: [],
              rootCaDigest: "",
              renewCertificate: false,
              imagePull: undefined,
            });
          },
        },
      ],
    ],
    { interceptors: [authInterceptor({ store: cluster.store, rootCaOf: cluster.rootCaOf, isRaftMember: () => true })] },
  );
});

afterAll(() => {
  for (const close of closers.splice(0)) close();
  served.server.forceShutdown();
});

const join = (token: string) => joinCluster({ managers: [served.addr], token, timeoutMs: 5_000 });

function issuerFor(tls: TlsMaterial): NodeCaIssuer {
  const issuer = new NodeCaIssuer(tls, () => [served.addr], 5_000);
  closers.push(() => issuer.close());
  return issuer;
}

async function renew(tls: TlsMaterial): Promise<pki.CertIdentity> {
  const renewer = new CertificateRenewer({ material: tls, issue: issuerFor(tls).issue });
  const running = renewer.run();
  renewer.renewNow();
  await expect.poll(() => renewer.renewals + renewer.failures, { timeout: 10_000 }).toBeGreaterThan(0);
  renewer.stop();
  await running;
  if (renewer.failures > 0) throw new Error("renewal failed");
  return tls.identity;
}

describe("joining through NodeCA", () => {
  it("the worker token gives a worker certificate naming the node id the CA assigned, and a worker node", async () => {
    const joined = await join(cluster.tokens.worker);
    expect(joined.identity).toMatchObject({ role: "worker", clusterId: CLUSTER_ID });
    const node = cluster.store.view((tx) => tx.nodes.get(joined.nodeId));
    expect(node).toMatchObject({ id: joined.nodeId, role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } });
  });

  it("the manager token gives a manager certificate and a manager node", async () => {
    const joined = await join(cluster.tokens.manager);
    expect(joined.role).toBe("manager");
    expect(cluster.store.view((tx) => tx.nodes.get(joined.nodeId))?.role).toBe(NodeRole.MANAGER);
  });

  it("a wrong token, and a rotated one, are PERMISSION_DENIED and create no node", async () => {
    const count = (): number => cluster.store.view((tx) => tx.nodes.find().length);
    const before = count();
    await expect(join(pki.newJoinToken(cluster.ca.digest))).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringMatching(/not valid for this cluster \(wrong, or rotated\)/),
    });
    const old = cluster.tokens.worker;
    await cluster.store.update((tx) => {
      const c = tx.clusters.find()[0]!;
      tx.clusters.update({
        ...c,
        rootJoinTokens: { ...c.rootJoinTokens!, worker: pki.newJoinToken(cluster.ca.digest) },
      });
    });
    await expect(join(old)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    expect(count()).toBe(before);
  });

  it("a token with another CA's digest: the node stops before sending it; the CA refuses it too", async () => {
    const other = await pki.CertificateAuthority.create({ clusterId: "x", now: Date.now() });
    const foreign = pki.newJoinToken(other.digest);
    await expect(join(foreign)).rejects.toMatchObject({ reason: "wrong-ca" });
    const nodeCa = new NodeCaServer({ store: cluster.store, rootCaOf: cluster.rootCaOf, isLeader: () => true });
    const { csrPem } = await pki.createKeyAndCsr();
    await expect(
      nodeCa.issueNodeCertificate({ csr: Buffer.from(csrPem), token: foreign, agentCertificate: false }, undefined),
    ).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringMatching(/made for another CA/),
    });
  });

  it("a follower without a forwarder answers NOT_LEADER (the node tries the next manager); a bad CSR is INVALID_ARGUMENT", async () => {
    leader = false;
    try {
      await expect(join(cluster.tokens.manager)).rejects.toMatchObject({
        code: "UNAVAILABLE",
        message: expect.stringMatching(/10\.0\.0\.9:4242/),
      });
    } finally {
      leader = true;
    }
    const nodeCa = new NodeCaServer({ store: cluster.store, rootCaOf: cluster.rootCaOf, isLeader: () => true });
    await expect(
      nodeCa.issueNodeCertificate(
        {
          csr: Buffer.from("not a csr"),
          token: cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.manager),
          agentCertificate: false,
        },
        undefined,
      ),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/^csr:/) });
  });
});

describe("the agent beside a manager", () => {
  const chainOf = (res: { certificateChain: Uint8Array }): string => Buffer.from(res.certificateChain).toString();

  it("a manager asks for its agent's certificate: its node id, role worker; the agent renews as a worker", async () => {
    const manager = await join(cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.manager));
    const nodeCa = new NodeCaServer({
      store: cluster.store,
      rootCaOf: cluster.rootCaOf,
      isLeader: () => true,
      isRaftMember: (id) => id === manager.nodeId,
    });
    const asked = await nodeCa.issueNodeCertificate(
      { csr: Buffer.from((await pki.createKeyAndCsr()).csrPem), token: "", agentCertificate: true },
      manager.identity,
    );
    expect(asked).toMatchObject({ nodeId: manager.nodeId, role: NodeRole.WORKER });
    const agent = leafIdentity(chainOf(asked));
    expect(agent).toMatchObject({ nodeId: manager.nodeId, role: "worker" });
    // The node's desired role is manager, and its manager is a member: the agent stays a worker.
    const renewed = await nodeCa.issueNodeCertificate(
      { csr: Buffer.from((await pki.createKeyAndCsr()).csrPem), token: "", agentCertificate: false },
      agent,
    );
    expect(renewed.role).toBe(NodeRole.WORKER);
    const recorded = cluster.store.view((tx) => tx.nodes.get(manager.nodeId)?.certificate?.serialNumber);
    expect(recorded).toBe(leafIdentity(chainOf(renewed)).serialNumber.toLowerCase());
  });

  it("only a manager asks for it", async () => {
    const worker = await join(cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker));
    const nodeCa = new NodeCaServer({ store: cluster.store, rootCaOf: cluster.rootCaOf, isLeader: () => true });
    await expect(
      nodeCa.issueNodeCertificate(
        { csr: Buffer.from((await pki.createKeyAndCsr()).csrPem), token: "", agentCertificate: true },
        worker.identity,
      ),
    ).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
  });
});

describe("issuedRole", () => {
  const node = (desiredRole: NodeRole): Node => Node.fromPartial({ id: "n1", spec: { desiredRole } });
  it("follows the desired role; the agent of a member stays a worker; a member's manager stays one", () => {
    expect(issuedRole(node(NodeRole.WORKER), "agent", false)).toBe("worker");
    expect(issuedRole(node(NodeRole.MANAGER), "agent", false)).toBe("manager"); // promoted: for its manager
    expect(issuedRole(node(NodeRole.MANAGER), "agent", true)).toBe("worker");
    expect(issuedRole(node(NodeRole.MANAGER), "manager", true)).toBe("manager");
    expect(issuedRole(node(NodeRole.WORKER), "manager", true)).toBe("manager"); // demoted, not yet removed
    expect(issuedRole(node(NodeRole.WORKER), "manager", false)).toBeUndefined(); // demoted and gone
  });
});

describe("renewal through NodeCA", () => {
  it("keeps the node id; the role comes from the store's desired role (promotion by renewal)", async () => {
    const joined = await join(cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker));
    const first = joined.identity.serialNumber;
    expect(await renew(joined.material)).toMatchObject({ nodeId: joined.nodeId, role: "worker" });
    expect(joined.material.identity.serialNumber).not.toBe(first);
    await cluster.store.update((tx) => {
      const node = tx.nodes.get(joined.nodeId)!;
      node.spec!.desiredRole = NodeRole.MANAGER;
      tx.nodes.update(node);
    });
    expect(await renew(joined.material)).toMatchObject({ nodeId: joined.nodeId, role: "manager" });
  });

  it("a removed node cannot renew", async () => {
    const joined = await join(cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker));
    await cluster.store.update((tx) => tx.nodes.delete(joined.nodeId));
    await expect(renew(joined.material)).rejects.toThrow("renewal failed");
    const nodeCa = new NodeCaServer({ store: cluster.store, rootCaOf: cluster.rootCaOf, isLeader: () => true });
    const { csrPem } = await pki.createKeyAndCsr();
    await expect(
      nodeCa.issueNodeCertificate({ csr: Buffer.from(csrPem), token: "", agentCertificate: false }, joined.identity),
    ).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
      message: expect.stringMatching(/has been removed from the cluster/),
    });
    await expect(
      nodeCa.issueNodeCertificate({ csr: Buffer.from(csrPem), token: "", agentCertificate: false }, undefined),
    ).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
      message: expect.stringMatching(/joining needs a join token/),
    });
  });

  it("during a root rotation: a certificate from the new key, accepted through the cross-signed root, and both roots", async () => {
    const joined = await join(cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker));
    const rotation = await pki.startRootRotation(cluster.ca, { clusterId: CLUSTER_ID, now: Date.now() });
    const before = cluster.rootCa();
    cluster.setRootCa(
      RootCA.fromPartial({
        ...before,
        rootRotation: {
          caCert: Buffer.from(rotation.signer.certPem),
          caKey: Buffer.from(rotation.signer.exportKeyPem()),
          crossSignedCaCert: Buffer.from(rotation.crossSignedPem),
        },
      }),
    );
    try {
      const renewed = await renew(joined.material); // checked against the old root alone
      expect(renewed.issuerKeyId).not.toBe(joined.identity.issuerKeyId);
      expect(joined.material.files.caPem).toContain(rotation.signer.certPem.trim());
      expect(joined.material.files.caPem).toContain(cluster.ca.certPem.trim());
    } finally {
      cluster.setRootCa(before);
    }
  });

  it("a renewal at its time (manual clock) swaps the certificate without dropping an open stream", async () => {
    const joined = await join(cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker));
    const creds = channelCredentials(joined.material);
    const client = new DispatcherClient(served.addr, creds, {
      ...MANAGER_CHANNEL_OPTIONS,
      "grpc.use_local_subchannel_pool": 1,
    });
    closers.push(() => client.close());
    const stream = client.session({ description: undefined, nodeId: "", joinToken: "" } as never);
    const received: string[] = [];
    stream.on("data", (m: SessionResponse) => received.push(m.sessionId));
    stream.on("error", () => undefined);
    await expect.poll(() => received, POLL).toEqual([joined.nodeId]);
    const open = sessions.at(-1)!;

    const clock = new ManualClock(Date.now());
    const renewer = new CertificateRenewer({
      material: joined.material,
      issue: issuerFor(joined.material).issue,
      clock,
      random: () => 0,
    });
    const running = renewer.run();
    const first = joined.identity.serialNumber;
    await new Promise((resolve) => setImmediate(resolve));
    const due = renewer.delayMs();
    expect(due).toBeGreaterThan(40 * 24 * 60 * 60 * 1000); // 50% of 90 days, less the back-dating
    clock.advance(due);
    await expect.poll(() => renewer.renewals, POLL).toBe(1);
    renewer.stop();
    await running;
    expect(joined.material.identity.serialNumber).not.toBe(first);

    open.write({
      sessionId: "still-open",
      node: undefined,
      managers: [],
      rootCaDigest: "",
      renewCertificate: false,
      imagePull: undefined,
    });
    await expect.poll(() => received, POLL).toEqual([joined.nodeId, "still-open"]);
    // A new connection presents the renewed certificate.
    const second = new DispatcherClient(served.addr, creds, {
      ...MANAGER_CHANNEL_OPTIONS,
      "grpc.use_local_subchannel_pool": 1,
    });
    closers.push(() => second.close());
    const other = second.session({ description: undefined, nodeId: "", joinToken: "" } as never);
    other.on("data", () => undefined);
    other.on("error", () => undefined);
    await expect.poll(() => sessionCallers.at(-1), POLL).toBe(joined.material.identity.serialNumber);
    for (const s of sessions) s.end();
  }, 90_000);
});

describe("certificate lifetime", () => {
  it("follows the cluster's setting (2 minutes, back-dated 12 s)", async () => {
    const nodeCa = new NodeCaServer({
      store: cluster.store,
      rootCaOf: cluster.rootCaOf,
      isLeader: () => true,
      certLifetimeMs: (c) => (c.id === CLUSTER_ID ? 2 * 60_000 : undefined),
    });
    const { csrPem } = await pki.createKeyAndCsr();
    const token = cluster.store.view((tx) => tx.clusters.find()[0]!.rootJoinTokens!.worker);
    const res = await nodeCa.issueNodeCertificate(
      { csr: Buffer.from(csrPem), token, agentCertificate: false },
      undefined,
    );
    const leaf = new pki.x509.X509Certificate(Buffer.from(res.certificateChain).toString());
    expect(leaf.notAfter.getTime() - leaf.notBefore.getTime()).toBe(2 * 60_000 + 12_000);
  });
});
