// startRaftNode with its real parts: a disk in a temporary directory, the gRPC transport (no peer
// here), the system clock.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, type TlsMaterial } from "@shoal/shared";
import { startRaftNode } from "../../../src/state/raft/start-raft-node.js";
import { material, testCluster } from "../../ca/fixtures.js";
import { TestStateMachine } from "./support/test-state-machine.js";

let tls: TlsMaterial;
let dir: string;

beforeAll(async () => {
  const { ca } = await testCluster();
  tls = await material(ca, "m1", "manager");
  dir = await mkdtemp(join(tmpdir(), "shoal-start-raft-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("startRaftNode", () => {
  it("opens the data dir, founds a cluster, leads it, and starts again from the disk", async () => {
    const options = {
      raftId: 0x1234,
      nodeId: "m1",
      addr: "127.0.0.1:1",
      material: tls,
      dataDir: join(dir, "raft"),
      logger: silentLogger(),
      bootstrap: true,
      tickMs: 10,
      sync: false,
    };
    const sm = new TestStateMachine();
    let leading = false;
    const node = await startRaftNode({ ...options, stateMachine: sm, onLeadership: (l) => (leading = l) });
    await expect.poll(() => leading).toBe(true);
    const index = await node.propose([]);
    await node.linearizableRead();
    expect(node.memberList().map((m) => m.raftId)).toEqual([0x1234]);
    expect(node.status().progress.get(0x1234)?.reachable).toBe(true);
    await node.stop();
    expect((await readdir(join(dir, "raft"))).sort()).toEqual(["snap", "wal"]);

    const again = new TestStateMachine();
    const restarted = await startRaftNode({ ...options, bootstrap: false, stateMachine: again });
    await expect.poll(() => restarted.isLeader).toBe(true);
    await restarted.waitApplied(index);
    expect(again.applied.map((a) => a.index)).toContain(index);
    await restarted.stop();
  });
});
