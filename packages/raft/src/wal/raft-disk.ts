// The durable storage of one Raft node: a snapshot directory and a write-ahead log, replayed at open into
// the MemoryStorage that the core reads from. The driver's loop is: persist(rd) -> send -> apply ->
// advance; and, now and then, saveSnapshot(snap) with a snapshot of the applied state.
//
// Layout: <dir>/snap/<term>-<index>.snap and <dir>/wal/<seq>-<firstIndex>.wal.
//
// The WAL is kept back to the second newest snapshot (not only the newest): if the newest snapshot file
// turns out corrupt at start, the previous one plus the log rebuild the same state.
//
// Encryption at rest: with a key ring, WAL records and snapshot files are sealed with its current data key
// (crypto/). Data under any other key (a previous key, or clear data from before encryption was turned on)
// is read with the ring and replaced, not rewritten in place: from the moment the key changes (at open, or
// rotateKey()) new records go to a new segment, and the next snapshot, sealed with the new key, releases
// every segment it covers and every older snapshot file (not only those before the previous snapshot).
// keysInUse() then says whether an old key is still needed.
import { join } from "node:path";
import type { DataKey } from "../crypto/data-key.js";
import { CLEAR, KeyRing } from "../crypto/data-key.js";
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
  /** Data keys: write with the current one, read with any (see the top of this file). Without a ring (or
   *  a current key) the files are written in clear, and encrypted files fail the open with DiskKeyError. */
  keys?: KeyRing;
  /** Called after a snapshot that released data under other keys, with the keys (or CLEAR) still in use:
   *  when only the current key is left, older keys may be forgotten. */
  onKeysReleased?: (inUse: ReadonlySet<string>) => void;
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
  /** New writes are sealed with `key` (added to the ring; the older keys stay readable), in a new WAL
   *  segment; the next snapshot replaces the data under the older keys. */
  rotateKey(key: DataKey): Promise<void>;
  /** The data keys (ids, or CLEAR) that data on disk is under. */
  keysInUse(): Promise<Set<string>>;
  /** Wait for writes in flight and release the WAL. Idempotent. */
  close(): Promise<void>;
}

function markerOf(s: Snapshot): SnapshotMarker {
  return { index: s.metadata.index, term: s.metadata.term };
}

export async function openRaftDisk(dir: string, options: RaftDiskOptions = {}): Promise<RaftDisk> {
  const logger = options.logger ?? silentLogger;
  const retain = options.retainSnapshots ?? 3;
  const keys = options.keys ?? new KeyRing();
  const snapshots = new SnapshotStore(join(dir, "snap"), { logger, retain, keys });
  let restored: Snapshot | undefined;
  const opened = await Wal.open(join(dir, "wal"), {
    logger,
    keys,
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
  const keysInUse = async (): Promise<Set<string>> => {
    const ids = wal.keyIdsInUse();
    for (const id of await snapshots.keyIdsInUse()) ids.add(id);
    return ids;
  };
  const foreignKeys = async (): Promise<Set<string>> => {
    const ids = await keysInUse();
    ids.delete(keys.current?.id ?? CLEAR);
    return ids;
  };
  // Data under another key than the current one: write from a new segment, replace it at the next snapshot.
  let purgePending = false;
  const foreign = await foreignKeys();
  if (foreign.size > 0) {
    purgePending = true;
    await wal.startSegment();
    logger.info("data on disk is under other keys than the current one: replaced at the next snapshot", {
      component: "raft-disk",
      current: keys.current?.id ?? CLEAR,
      others: [...foreign].join(","),
    });
  }
  const releaseAfter = async (index: number): Promise<void> => {
    if (purgePending) {
      newestMarker = index;
      await wal.releaseTo(index);
      await snapshots.keepNewestOnly();
      const inUse = await keysInUse();
      const left = [...inUse].filter((id) => id !== (keys.current?.id ?? CLEAR));
      purgePending = left.length > 0;
      logger.info("released data under older keys", {
        component: "raft-disk",
        snapshot: index,
        stillUnderOlderKeys: left.join(","),
      });
      options.onKeysReleased?.(inUse);
      return;
    }
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

    rotateKey(key: DataKey): Promise<void> {
      if (closed) return Promise.reject(new DiskClosedError(`raft storage ${dir}`));
      return serialize(async () => {
        keys.setCurrent(key);
        purgePending = true;
        await wal.startSegment();
        logger.info("data key rotated: new writes use the new key", { component: "raft-disk", key: key.id });
      });
    },

    keysInUse,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await snapshotChain;
      await wal.close();
    },
  };
}
