import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock, silentLogger, type JoinResponse, type TlsMaterial } from "@shoal/shared";
import type { RaftKeys } from "../../../src/encryption/index.js";
import { loadIdentity, type ManagerIdentity } from "../../../src/identity.js";
import { RaftHandle } from "../../../src/state/raft/raft-handle.js";
import type { RaftNode } from "../../../src/state/raft/raft-node.js";
import { RaftStart, type RaftStartOptions } from "../../../src/state/raft/raft-start.js";
import type { StartRaftNodeOptions } from "../../../src/state/raft/start-raft-node.js";
import { MemoryStore } from "../../../src/state/store/index.js";

let dataDir = "";
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-raft-start-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const JOINED: JoinResponse = {
  raftId: 0x22,
  members: [{ raftId: 0x11, nodeId: "founder", addr: "10.0.0.1:4242" }],
  removedMembers: [],
};

function setup(
  loaded: ManagerIdentity,
  over: Partial<RaftStartOptions> = {},
): { start: RaftStart; raft: RaftHandle; started: StartRaftNodeOptions[]; node: RaftNode } {
  const raft = new RaftHandle();
  const started: StartRaftNodeOptions[] = [];
  const node = { stop: () => Promise.resolve() } as unknown as RaftNode;
  const keys = { keyRing: () => undefined, released: () => Promise.resolve() } as unknown as RaftKeys;
  const start = new RaftStart({
    handle: raft,
    dataDir,
    identity: { loaded },
    credentials: { material: {} as TlsMaterial, nodeId: "me", clusterId: "c1" },
    listener: { advertise: "10.0.0.9:4242" },
    unlock: { keys },
    stateMachine: new MemoryStore(),
    onLeadership: () => undefined,
    clock: systemClock,
    logger: silentLogger(),
    raft: { tickMs: 20 },
    startRaftNode: (options) => {
      started.push(options);
      return Promise.resolve(node);
    },
    ...over,
  });
  return { start, raft, started, node };
}

describe("RaftStart", () => {
  it("restarts a member from its data dir: no join, no bootstrap", async () => {
    const { start, raft, started, node } = setup({ nodeId: "me", raftId: 0x33, clusterId: "c1" });
    await start.run(new AbortController().signal);
    expect(started[0]).toMatchObject({
      raftId: 0x33,
      nodeId: "me",
      addr: "10.0.0.9:4242",
      bootstrap: false,
      tickMs: 20,
    });
    expect(started[0]!.dataDir).toBe(join(dataDir, "raft"));
    expect(raft.node).toBe(node);
    expect(start.identity).toEqual({ nodeId: "me", raftId: 0x33, clusterId: "c1" });
  });

  it("founds a new cluster without --join: a new raft id, recorded, and bootstrap", async () => {
    const { start, started } = setup({ nodeId: "me", raftId: 0, clusterId: "c1" });
    await start.run(new AbortController().signal);
    expect(started[0]!.bootstrap).toBe(true);
    const raftId = start.identity!.raftId;
    expect(raftId).toBeGreaterThan(0);
    expect(started[0]!.raftId).toBe(raftId);
    expect((await loadIdentity(dataDir)).identity).toEqual({ nodeId: "me", raftId, clusterId: "c1" });
  });

  it("joins with --join: the raft id and members the leader gave, heard while joining", async () => {
    let heardDuringJoin = false;
    const { start, raft, started } = setup(
      { nodeId: "me", raftId: 0, clusterId: "c1" },
      {
        join: "10.0.0.1:4242",
        joinCluster: vi.fn((options) => {
          heardDuringJoin = raft.isRaftMember("anyone");
          expect(options).toMatchObject({ target: "10.0.0.1:4242", nodeId: "me", addr: "10.0.0.9:4242" });
          return Promise.resolve(JOINED);
        }),
      },
    );
    await start.run(new AbortController().signal);
    expect(heardDuringJoin).toBe(true);
    expect(started[0]).toMatchObject({ raftId: 0x22, bootstrap: false, knownMembers: JOINED.members });
    expect((await loadIdentity(dataDir)).identity.raftId).toBe(0x22);
  });

  it("tells the manager about leadership", async () => {
    const onLeadership = vi.fn();
    const { start, started } = setup({ nodeId: "me", raftId: 0x33, clusterId: "c1" }, { onLeadership });
    await start.run(new AbortController().signal);
    started[0]!.onLeadership!(true);
    expect(onLeadership).toHaveBeenCalledWith(true);
  });
});
