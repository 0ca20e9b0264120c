// The durable storage of one Raft node: a snapshot directory and a write-ahead log, replayed at open into
// the MemoryStorage that the core reads from. The driver's loop is: persist(rd) -> send -> apply ->
// advance; and, now and then, saveSnapshot(snap) with a snapshot of the applied state.
//
// Layout: <dir>/snap/<term>-<index>.snap and <dir>/wal/<seq>-<firstIndex>.wal.
//
// The WAL is kept back to the second newest snapshot (not only the newest): if the newest snapshot file
// turns out corrupt at start, the previous one plus the log rebuild the same state.
import { join } from "node:path";
import { SnapOutOfDateError } from "../errors.js";
import type { RaftLogger } from "../logger.js";
import { silentLogger } from "../logger.js";
import { MemoryStorage } from "../memory-storage.js";
import { SnapshotStore } from "../snapshot/snapshot-store.js";
import type { Entry, HardState, Snapshot } from "../types.js";
import { isEmptySnapshot } from "../types.js";
import type { SnapshotMarker } from "./codec.js";
import { DiskClosedError, DiskInvalidArgumentError } from "./errors.js";
import { Wal } from "./wal.js";

export interface RaftDiskOptions {
  logger?: RaftLogger;
  /** WAL segment size. Default 64 MiB. */
  segmentBytes?: number;
  /** fdatasync when a Ready asks for it (mustSync). Default true; false only for tests and benchmarks. */
  sync?: boolean;
  /** Snapshot files kept. Default 3. */
  retainSnapshots?: number;
}

/** The part of a Ready that is persisted. */
export interface PersistInput {
  hardState?: HardState | undefined;
  entries: readonly Entry[];
  /** A snapshot received from the leader: replaces the log. */
  snapshot?: Snapshot | undefined;
  /** Whether to fdatasync before resolving. Default true. */
  mustSync?: boolean;
}

export interface SaveSnapshotOptions {
  /** Entries to keep in memory before the snapshot index, for followers slightly behind. Default 0. */
  retainEntries?: number;
}

export interface RaftDisk {
  /** What the core reads: filled from the snapshot and the WAL, kept up to date by persist(). */
  readonly storage: MemoryStorage;
  /** Persist a Ready's snapshot, entries and hardState (durable once resolved, when mustSync), then make
   *  them visible in `storage`. */
  persist(rd: PersistInput): Promise<void>;
  /** Save a snapshot of the applied state: the file, then the WAL marker; then compact `storage` and
   *  release WAL segments the previous snapshot covers. */
  saveSnapshot(snapshot: Snapshot, options?: SaveSnapshotOptions): Promise<void>;
  /** Wait for writes in flight and release the WAL. Idempotent. */
  close(): Promise<void>;
}

function markerOf(s: Snapshot): SnapshotMarker {
  return { index: s.metadata.index, term: s.metadata.term };
}

export async function openRaftDisk(dir: string, options: RaftDiskOptions = {}): Promise<RaftDisk> {
  const logger = options.logger ?? silentLogger;
  const retain = options.retainSnapshots ?? 3;
  const snapshots = new SnapshotStore(join(dir, "snap"), { logger, retain });
  let restored: Snapshot | undefined;
  const opened = await Wal.open(join(dir, "wal"), {
    logger,
    ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
    ...(options.sync === undefined ? {} : { sync: options.sync }),
    // A snapshot file newer than the log's newest marker was saved just before a crash, without its
    // marker: ignore it, the log says where to start.
    replayFrom: async (latest) => {
      if (latest.index === 0) return latest;
      restored = await snapshots.load({ maxIndex: latest.index });
      if (restored === undefined) {
        logger.warn("no usable snapshot file; replaying the whole log", {
          component: "raft-disk",
          marker: latest.index,
        });
        return { index: 0, term: 0 };
      }
      if (restored.metadata.index < latest.index) {
        logger.warn("newest snapshot unusable; restoring an older one and more of the log", {
          component: "raft-disk",
          marker: latest.index,
          restored: restored.metadata.index,
        });
      }
      return markerOf(restored);
    },
  });
  const { wal } = opened;
  const storage = new MemoryStorage();
  if (restored !== undefined && opened.snapshot.index > 0) storage.applySnapshot(restored);
  storage.setHardState(opened.hardState);
  storage.append(opened.entries);

  // The newest snapshot marker in the log: the WAL is released up to it when the next snapshot is saved.
  let newestMarker = opened.snapshot.index;
  let snapshotChain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const serialize = <T>(op: () => Promise<T>): Promise<T> => {
    const p = snapshotChain.then(op, op);
    snapshotChain = p.catch(() => undefined);
    return p;
  };
  const releaseAfter = async (index: number): Promise<void> => {
    const upTo = retain >= 2 ? newestMarker : index;
    newestMarker = index;
    if (upTo > 0) await wal.releaseTo(upTo);
  };

  const persistSnapshot = (rd: PersistInput, snap: Snapshot, sync: boolean): Promise<void> =>
    serialize(async () => {
      await snapshots.save(snap);
      await wal.save(rd.hardState, rd.entries, { sync, snapshot: markerOf(snap) });
      storage.applySnapshot(snap);
      storage.append(rd.entries);
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
      await releaseAfter(snap.metadata.index);
    });

  return {
    storage,

    async persist(rd: PersistInput): Promise<void> {
      if (closed) throw new DiskClosedError(`raft storage ${dir}`);
      const sync = rd.mustSync ?? true;
      if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) return persistSnapshot(rd, rd.snapshot, sync);
      await wal.save(rd.hardState, rd.entries, { sync });
      storage.append(rd.entries);
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    },

    saveSnapshot(snapshot: Snapshot, opts: SaveSnapshotOptions = {}): Promise<void> {
      if (closed) return Promise.reject(new DiskClosedError(`raft storage ${dir}`));
      return serialize(async () => {
        const { index, term, confState } = snapshot.metadata;
        const held = storage.snapshot().metadata;
        if (index < held.index || (index === held.index && index > 0 && held.term !== term)) {
          throw new SnapOutOfDateError();
        }
        if (index > held.index) {
          if (index > storage.lastIndex()) {
            throw new DiskInvalidArgumentError(`snapshot ${index} is past the last index ${storage.lastIndex()}`);
          }
          if (storage.term(index) !== term) {
            throw new DiskInvalidArgumentError(`snapshot ${index} has term ${term}, the log ${storage.term(index)}`);
          }
        }
        await snapshots.save(snapshot);
        await wal.saveSnapshot({ index, term }, { sync: true });
        if (index > storage.snapshot().metadata.index) storage.createSnapshot(index, confState, snapshot.data);
        const compactTo = index - (opts.retainEntries ?? 0);
        if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
        await releaseAfter(index);
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await snapshotChain;
      await wal.close();
    },
  };
}
