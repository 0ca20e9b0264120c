import { describe, expect, it } from "vitest";
import { InternalRaftRequest, RaftSnapshotData, silentLogger } from "@shoal/shared";
import { MemoryRaftDisk } from "@shoal/raft";
import { prepareDisk } from "../../../src/state/raft/found-cluster.js";
import { TestStateMachine, member } from "./support/test-state-machine.js";

describe("prepareDisk", () => {
  it("founds a cluster of this member alone on an empty disk when asked to bootstrap", async () => {
    const disk = new MemoryRaftDisk();
    expect(await prepareDisk(disk, member(1), new TestStateMachine(), { bootstrap: true }, silentLogger())).toBe(true);
    const snap = disk.storage.snapshot();
    expect(snap.metadata).toEqual({ index: 1, term: 1, confState: { voters: [1] } });
    expect(RaftSnapshotData.decode(snap.data).members).toEqual([member(1)]);
    expect(disk.writes).toMatchObject([{ kind: "persist", mustSync: true, hardState: { term: 1, commit: 1 } }]);
    // Not twice.
    expect(await prepareDisk(disk, member(1), new TestStateMachine(), { bootstrap: true }, silentLogger())).toBe(false);
  });

  it("leaves a disk alone without bootstrap or force (a joiner, a restart)", async () => {
    const disk = new MemoryRaftDisk();
    expect(await prepareDisk(disk, member(2), new TestStateMachine(), { bootstrap: false }, silentLogger())).toBe(
      false,
    );
    expect(disk.writes).toEqual([]);
  });

  it("forces a group of this member alone, folding every entry of the log into the state", async () => {
    const disk = new MemoryRaftDisk();
    await prepareDisk(disk, member(1), new TestStateMachine(), { bootstrap: true }, silentLogger());
    const entry = (index: number, id: number) => ({
      index,
      term: 1,
      type: "normal" as const,
      data: InternalRaftRequest.encode({ id, actions: [], audit: [] }).finish(),
    });
    await disk.persist({ entries: [entry(2, 20), entry(3, 30)], hardState: { term: 1, vote: 1, commit: 2 } });
    const sm = new TestStateMachine();
    const ask = { bootstrap: false, forceNewCluster: true };
    expect(await prepareDisk(disk, member(3), sm, ask, silentLogger())).toBe(true);
    const snap = disk.storage.snapshot();
    expect(snap.metadata.confState.voters).toEqual([3]);
    expect(snap.metadata.index).toBe(4);
    expect(sm.ids()).toEqual([20, 30]);
  });
});
