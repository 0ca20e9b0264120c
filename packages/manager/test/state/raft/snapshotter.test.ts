import { describe, expect, it } from "vitest";
import { RaftMember, RaftSnapshotData, silentLogger } from "@shoal/shared";
import { MemoryRaftDisk, type Entry } from "@shoal/raft";
import { Snapshotter, type SnapshotPoint } from "../../../src/state/raft/snapshotter.js";
import type { StateMachine } from "../../../src/state/raft/state-machine.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const members = [RaftMember.create({ raftId: 1, nodeId: "n1", addr: "m1:1" })];
const point = (applied: number): SnapshotPoint => ({ applied, confState: { voters: [1] }, members: () => members });

async function diskWith(last: number): Promise<MemoryRaftDisk> {
  const disk = new MemoryRaftDisk();
  const entries: Entry[] = Array.from({ length: last }, (_, i) => ({
    index: i + 1,
    term: 1,
    type: "normal",
    data: new Uint8Array(),
  }));
  await disk.persist({ entries, hardState: { term: 1, vote: 1, commit: last } });
  return disk;
}

function snapshotter(disk: MemoryRaftDisk, interval: number | (() => number) = 10) {
  let saves = 0;
  let prepared = 0;
  const sm: StateMachine = {
    apply: () => undefined,
    save: () => new Uint8Array([++saves]),
    restore: () => undefined,
  };
  const s = new Snapshotter({ disk, stateMachine: sm, logger: silentLogger(), interval, onPrepared: () => prepared++ });
  return { s, prepared: () => prepared, saves: () => saves };
}

describe("Snapshotter", () => {
  it("encodes a snapshot every `interval` applied entries, then writes it at the next run", async () => {
    const disk = await diskWith(25);
    const { s, prepared } = snapshotter(disk);
    await s.run(point(9));
    await turn();
    expect(prepared()).toBe(0);
    await s.run(point(10));
    expect(disk.writes.filter((w) => w.kind === "saveSnapshot")).toHaveLength(0);
    await turn();
    expect(prepared()).toBe(1);
    expect(s.hasPrepared).toBe(true);
    await s.run(point(12));
    const saved = disk.writes.filter((w) => w.kind === "saveSnapshot");
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ snapshot: { metadata: { index: 10, term: 1, confState: { voters: [1] } } } });
    expect(RaftSnapshotData.decode(disk.storage.snapshot().data).members).toEqual(members);
    // The next one counts from 10.
    await s.run(point(19));
    await turn();
    expect(s.hasPrepared).toBe(false);
    await s.run(point(20));
    await turn();
    expect(s.hasPrepared).toBe(true);
  });

  it("reads an interval given as a function at each check (the cluster's, which may change)", async () => {
    const disk = await diskWith(25);
    let interval = 100;
    const { s, prepared } = snapshotter(disk, () => interval);
    await s.run(point(10));
    await turn();
    expect(prepared()).toBe(0);
    interval = 5;
    await s.run(point(10));
    await turn();
    expect(prepared()).toBe(1);
  });

  it("takes one at once when asked (after a data key rotation)", async () => {
    const disk = await diskWith(3);
    const { s } = snapshotter(disk);
    s.requestSoon();
    expect(s.hasWork).toBe(true);
    await s.run(point(3));
    await turn();
    await s.run(point(3));
    expect(disk.storage.snapshot().metadata.index).toBe(3);
    expect(s.hasWork).toBe(false);
  });

  it("drops one encoded before a newer snapshot was installed", async () => {
    const disk = await diskWith(25);
    const { s } = snapshotter(disk);
    await s.run(point(10));
    s.installed(20);
    await turn();
    expect(s.hasPrepared).toBe(false);
    await s.run(point(25));
    await turn();
    expect(s.hasPrepared).toBe(false);
  });
});
