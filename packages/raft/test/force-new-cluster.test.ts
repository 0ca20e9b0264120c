// Recovery of a lost quorum from one member's log (force-new-cluster): the survivor keeps every
// entry it holds, committed or not, and becomes the only voter of a new group at a higher term.
import { describe, expect, it } from "vitest";
import { forceNewCluster, isEmptySnapshot, openRaftDisk, type Entry, type Snapshot } from "../src/index.js";
import { bytesToString, chainHash, stringToBytes } from "./support/hash.js";
import { Network, type SimNode } from "./support/network.js";
import { makeEntries, tempDir } from "./wal/helpers.js";

/** The SimNode state machine, folded offline: the snapshot's items, then each normal entry's data. */
function foldItems(base: Snapshot, entries: readonly Entry[]): Uint8Array {
  const items =
    isEmptySnapshot(base) || base.data.byteLength === 0
      ? []
      : (JSON.parse(bytesToString(base.data)) as { items: string[] }).items;
  for (const e of entries) if (e.type === "normal" && e.data.byteLength > 0) items.push(bytesToString(e.data));
  return stringToBytes(JSON.stringify({ state: 0, items }));
}

/** A MemoryStorage used as the disk: persist applies the snapshot and the HardState. */
function memoryDisk(sim: SimNode): Parameters<typeof forceNewCluster>[0] {
  return {
    storage: sim.storage,
    persist: (rd) => {
      sim.storage.applySnapshot(rd.snapshot);
      sim.storage.setHardState(rd.hardState);
      return Promise.resolve();
    },
  };
}

describe("forceNewCluster", () => {
  it("restarts a follower alone with every entry it holds, the acknowledged ones past its commit index too", async () => {
    const net = new Network({ ids: [1, 2, 3], config: { checkQuorum: true, preVote: true } });
    const lead = net.electLeader();
    const [f, g] = [1, 2, 3].filter((id) => id !== lead) as [number, number];
    for (const item of ["a", "b"]) expect(net.propose(lead, item)).toBe(true);
    net.deliverAll();
    expect(net.compact(f)).toBe(true); // the follower holds a snapshot and a log after it
    for (const item of ["c", "d"]) expect(net.propose(lead, item)).toBe(true);
    net.deliverAll();

    // "e" reaches f, and the leader commits it with f's ack (and applies it: a client saw success),
    // but nothing telling f of that commit arrives before the leader and g die.
    const eIndex = net.node(lead).storage.lastIndex() + 1;
    net.dropIf = (m) => m.from === lead && (m.to === g || m.commit >= eIndex);
    expect(net.propose(lead, "e")).toBe(true);
    net.deliverAll();
    expect(net.node(lead).items).toEqual(["a", "b", "c", "d", "e"]);
    const follower = net.node(f);
    expect(follower.storage.lastIndex()).toBe(eIndex);
    expect(follower.storage.initialState().hardState.commit).toBeLessThan(eIndex);
    const oldTerm = follower.storage.initialState().hardState.term;
    net.crash(lead);
    net.crash(g);
    net.crash(f);
    net.dropIf = undefined;

    const forced = await forceNewCluster(memoryDisk(follower), { id: f, snapshotData: foldItems });
    expect(forced.previousVoters).toEqual([1, 2, 3]);
    expect(forced.uncommittedKept).toBe(1);
    expect(forced.snapshot.metadata).toEqual({ index: eIndex + 1, term: oldTerm + 1, confState: { voters: [f] } });
    expect(forced.hardState).toEqual({ term: oldTerm + 1, vote: 0, commit: eIndex + 1 });

    // The checker follows one history; the forced snapshot stands for a new entry after f's log.
    follower.chain = Object.assign([], { [eIndex + 1]: chainHash(follower.chain[eIndex] ?? 0, "forced") });
    follower.snapshotIndex = eIndex + 1;
    net.restart(f);
    expect(follower.items).toEqual(["a", "b", "c", "d", "e"]);
    expect(net.electLeader(100, [f])).toBe(f);
    expect(follower.raw.basicStatus().hardState.term).toBeGreaterThan(oldTerm + 1);
    expect(net.propose(f, "after")).toBe(true);
    net.deliverAll();
    expect(follower.items).toEqual(["a", "b", "c", "d", "e", "after"]);

    // Old members' messages find no match: the new history starts at a term no old log holds.
    expect(follower.storage.term(eIndex + 1)).toBe(oldTerm + 1);
  });

  it("writes the new snapshot and HardState durably, in one go, on disk", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir, { sync: false });
    const entries = makeEntries(1, 12, 3).map((e) => ({ ...e, type: "normal" as const }));
    await disk.persist({ hardState: { term: 4, vote: 2, commit: 10 }, entries });
    const seen: number[] = [];
    const forced = await forceNewCluster(disk, {
      id: 7,
      snapshotData: (base, es) => {
        expect(isEmptySnapshot(base)).toBe(true);
        seen.push(...es.map((e) => e.index));
        return new TextEncoder().encode("state@12");
      },
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(forced.uncommittedKept).toBe(2);
    await disk.close();

    const again = await openRaftDisk(dir, { sync: false });
    expect(again.storage.snapshot().metadata).toEqual({ index: 13, term: 5, confState: { voters: [7] } });
    expect(new TextDecoder().decode(again.storage.snapshot().data)).toBe("state@12");
    expect(again.storage.initialState()).toEqual({
      hardState: { term: 5, vote: 0, commit: 13 },
      confState: { voters: [7] },
    });
    expect(again.storage.lastIndex()).toBe(13);
    await again.close();
  });

  it("refuses an empty storage", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir, { sync: false });
    await expect(forceNewCluster(disk, { id: 1, snapshotData: () => new Uint8Array() })).rejects.toThrow(/no log/);
    await disk.close();
  });
});
