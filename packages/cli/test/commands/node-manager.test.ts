// NodeManager: the manager a promoted node's agent runs beside it, started and stopped as the
// node's role changes on the session (fake manager module, no CA).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Node, NodeRole, NodeState, Reachability, silentLogger, type TlsMaterial } from "@shoal/shared";
import { NodeManager, type ManagerModule } from "../../src/commands/node-manager.js";

interface Started {
  readonly options: { listen: string; advertise?: string; dataDir: string; join?: string };
  stopped: boolean;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const agentDataDir = await mkdtemp(join(tmpdir(), "shoal-node-manager-"));
  dirs.push(agentDataDir);
  const started: Started[] = [];
  const issued: string[] = [];
  const manager: ManagerModule = {
    Manager: class {
      private readonly record: Started;
      constructor(options: Started["options"]) {
        this.record = { options, stopped: false };
        started.push(this.record);
      }
      start(): Promise<void> {
        return Promise.resolve();
      }
      stop(): Promise<void> {
        this.record.stopped = true;
        return Promise.resolve();
      }
    },
    nodeCertDir: (dataDir) => join(dataDir, "certificates"),
  };
  const nodeManager = new NodeManager({
    agentDataDir,
    material: {} as TlsMaterial,
    listen: "0.0.0.0:4343",
    logger: silentLogger(),
    manager,
    issueCertificate: (via) => {
      issued.push(via);
      return Promise.resolve();
    },
  });
  return { agentDataDir, started, issued, nodeManager };
}

const node = (desiredRole: NodeRole, role: NodeRole, member = false): Node =>
  Node.fromPartial({
    id: "n1",
    role,
    spec: { desiredRole },
    status: { state: NodeState.READY, addr: "10.0.0.4" },
    ...(member
      ? { managerStatus: { raftId: 4, addr: "10.0.0.4:4343", leader: false, reachability: Reachability.REACHABLE } }
      : {}),
  });

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("NodeManager", () => {
  it("starts a manager once a worker is promoted, advertising the node's address, joining through the session's manager", async () => {
    const h = await setup();
    h.nodeManager.onNode(node(NodeRole.WORKER, NodeRole.WORKER), "10.0.0.1:4242");
    await settle();
    expect(h.started).toEqual([]);
    h.nodeManager.onNode(node(NodeRole.MANAGER, NodeRole.WORKER), "10.0.0.1:4242");
    await settle();
    expect(h.issued).toEqual(["10.0.0.1:4242"]);
    expect(h.started).toHaveLength(1);
    expect(h.started[0]!.options).toMatchObject({
      listen: "0.0.0.0:4343",
      advertise: "10.0.0.4:4343",
      join: "10.0.0.1:4242",
      dataDir: join(h.agentDataDir, "manager"),
    });
    // Once a member, and again: nothing more.
    h.nodeManager.onNode(node(NodeRole.MANAGER, NodeRole.MANAGER, true), "10.0.0.1:4242");
    h.nodeManager.onNode(node(NodeRole.MANAGER, NodeRole.WORKER), "10.0.0.1:4242");
    await settle();
    expect(h.started).toHaveLength(1);
  });

  it("leaves a node whose manager runs elsewhere (role manager from its join) alone", async () => {
    const h = await setup();
    h.nodeManager.onNode(node(NodeRole.MANAGER, NodeRole.MANAGER), "10.0.0.1:4242");
    await settle();
    expect(h.started).toEqual([]);
  });

  it("stops the manager and removes its data once demoted and out of the Raft group", async () => {
    const h = await setup();
    h.nodeManager.onNode(node(NodeRole.MANAGER, NodeRole.WORKER), "10.0.0.1:4242");
    await settle();
    // Demoted but still a member: the manager runs on until the leader removes it.
    h.nodeManager.onNode(node(NodeRole.WORKER, NodeRole.MANAGER, true), "10.0.0.1:4242");
    await settle();
    expect(h.started[0]!.stopped).toBe(false);
    h.nodeManager.onNode(node(NodeRole.WORKER, NodeRole.WORKER), "10.0.0.1:4242");
    await settle();
    expect(h.started[0]!.stopped).toBe(true);
    await expect(stat(join(h.agentDataDir, "manager"))).rejects.toThrow(/ENOENT/);
  });
});
