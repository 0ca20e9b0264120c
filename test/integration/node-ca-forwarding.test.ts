// A node given only a follower's address, as `docker swarm join --token T ANY-MANAGER` allows:
// three real managers in one process over mutual TLS on loopback. The node joins with the worker
// token the way an agent does (agentCertificate, joinCluster), through the follower, which
// forwards IssueNodeCertificate to the leader; it then runs an agent told of that follower alone,
// whose session follows the follower's NOT_LEADER to the leader; and it renews through the
// follower under the same node id.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertificateRenewer, NodeCaIssuer, NodeRole, NodeState, silentLogger, type TlsMaterial } from "@shoal/shared";
import { Manager } from "@shoal/manager";
import { Agent, FakeExecutor, agentCertificate } from "@shoal/agent";
import { TestControl, useClientCertDir } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";

/** Key generation, handshakes and elections are slow on a loaded 2-core machine. */
const POLL = { timeout: 30_000, interval: 100 };

let root = "";
const managers: Manager[] = [];
const control = new TestControl();
const stopAgent = new AbortController();
let agentRun: Promise<void> | undefined;

async function startManager(name: string, join?: string): Promise<Manager> {
  const m = new Manager({
    listen: "127.0.0.1:0",
    dataDir: `${root}/${name}`,
    logger: silentLogger(),
    ...(join ? { join, joinToken: (await joinTokens(control, join)).manager } : {}),
    raft: { tickMs: 20 },
  });
  await m.start();
  // The founder's admin client certificate is the test's.
  if (!join) useClientCertDir(`${root}/${name}/client`);
  managers.push(m);
  return m;
}

async function leader(): Promise<Manager> {
  let found: Manager | undefined;
  await expect.poll(() => (found = managers.find((m) => m.raft?.isLeader)) !== undefined, POLL).toBe(true);
  return found!;
}

/** A manager that is not the leader and knows who is. */
async function follower(): Promise<Manager> {
  const l = await leader();
  const f = managers.find((m) => m !== l)!;
  await expect.poll(() => f.raft?.leaderAddr() === l.address, POLL).toBe(true);
  return f;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-node-ca-forwarding-"));
  const founder = await startManager("a");
  await startManager("b", founder.address);
  await startManager("c", founder.address);
});

afterAll(async () => {
  stopAgent.abort();
  await agentRun?.catch(() => undefined);
  control.close();
  await Promise.all(managers.map((m) => m.stop()));
  await rm(root, { recursive: true, force: true });
});

describe("a node given only a follower's address", () => {
  let material: TlsMaterial;
  let nodeId = "";

  it("joins with the worker token, and its agent opens a session", async () => {
    const f = await follower();
    expect(f.raft?.isLeader).toBe(false);
    const { worker } = await joinTokens(control, f.address);
    const dataDir = join(root, "agent");
    material = await agentCertificate({ dataDir, managers: [f.address], token: worker, logger: silentLogger() });
    nodeId = material.identity.nodeId;
    expect(material.identity).toMatchObject({ role: "worker", clusterId: f.identity!.clusterId });

    const agent = new Agent({
      managers: [f.address],
      executor: new FakeExecutor(),
      dataDir,
      logger: silentLogger(),
      material,
    });
    agentRun = agent.run(stopAgent.signal);
    const l = await leader();
    await expect
      .poll(async () => (await control.call(l.address, "getNode", { nodeId }).catch(() => undefined))?.node, POLL)
      .toMatchObject({ id: nodeId, role: NodeRole.WORKER, status: { state: NodeState.READY } });
  }, 60_000);

  it("renews through the follower and keeps its identity", async () => {
    expect(nodeId).not.toBe("");
    const f = await follower();
    const before = material.identity;
    const issuer = new NodeCaIssuer(material, () => [f.address]);
    const renewer = new CertificateRenewer({ material, issue: issuer.issue });
    const running = renewer.run();
    try {
      renewer.renewNow();
      await expect.poll(() => renewer.renewals + renewer.failures, POLL).toBeGreaterThan(0);
      expect(renewer.failures).toBe(0);
    } finally {
      renewer.stop();
      await running;
      issuer.close();
    }
    expect(material.identity).toMatchObject({ nodeId, role: "worker", clusterId: before.clusterId });
    expect(material.identity.serialNumber).not.toBe(before.serialNumber);
    // The leader signed it, and recorded the new certificate on the same node.
    const l = await leader();
    await expect
      .poll(async () => (await control.call(l.address, "getNode", { nodeId })).node?.certificate?.serialNumber, POLL)
      .toBe(material.identity.serialNumber);
  }, 60_000);
});
