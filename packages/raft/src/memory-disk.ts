// The in-memory twin of RaftDisk (wal/raft-disk.ts), for fast and deterministic tests of a driver. What
// persist() and saveSnapshot() are given lands in a MemoryStorage at once (no file, no fsync), and every
// call is recorded in order, with its mustSync, so a test can check what was written and when. reopen()
// gives a new disk holding exactly what was persisted, as a restart of the process would.
import { CLEAR, type DataKey } from "./crypto/data-key.js";
import { SnapOutOfDateError } from "./errors.js";
import { MemoryStorage } from "./memory-storage.js";
import type { Entry, HardState, Snapshot } from "./types.js";
import { isEmptySnapshot } from "./types.js";
import { DiskClosedError, DiskInvalidArgumentError } from "./wal/errors.js";
import type { PersistInput, RaftDisk, SaveSnapshotOptions } from "./wal/raft-disk.js";

/** One call made on a MemoryRaftDisk, as recorded. */
export type MemoryDiskWrite =
  | {
      readonly kind: "persist";
      readonly hardState: HardState | undefined;
      readonly entries: readonly Entry[];
      readonly snapshot: Snapshot | undefined;
      readonly mustSync: boolean;
    }
  | { readonly kind: "saveSnapshot"; readonly snapshot: Snapshot; readonly retainEntries: number }
  | { readonly kind: "rotateKey"; readonly keyId: string };

export interface MemoryRaftDiskOptions {
  /** Called with each write once it is done (to interleave it with other events in one trace). */
  readonly onWrite?: (write: MemoryDiskWrite) => void;
}

export class MemoryRaftDisk implements RaftDisk {
  readonly storage: MemoryStorage;
  /** Every write, in order. */
  readonly writes: MemoryDiskWrite[] = [];
  private currentKey: string = CLEAR;
  private readonly keysUsed = new Set<string>();
  private closed = false;

  constructor(
    private readonly options: MemoryRaftDiskOptions = {},
    storage: MemoryStorage = new MemoryStorage(),
  ) {
    this.storage = storage;
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  persist(rd: PersistInput): Promise<void> {
    if (this.closed) return Promise.reject(new DiskClosedError("memory raft disk"));
    const snapshot = rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot) ? rd.snapshot : undefined;
    if (snapshot !== undefined) this.storage.applySnapshot(snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
    this.keysUsed.add(this.currentKey);
    this.record({
      kind: "persist",
      hardState: rd.hardState,
      entries: [...rd.entries],
      snapshot,
      mustSync: rd.mustSync ?? true,
    });
    return Promise.resolve();
  }

  saveSnapshot(snapshot: Snapshot, options: SaveSnapshotOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new DiskClosedError("memory raft disk"));
    try {
      const { index, term, confState } = snapshot.metadata;
      const held = this.storage.snapshot().metadata;
      if (index < held.index || (index === held.index && index > 0 && held.term !== term)) {
        throw new SnapOutOfDateError();
      }
      if (index > held.index) {
        if (index > this.storage.lastIndex() || this.storage.term(index) !== term) {
          throw new DiskInvalidArgumentError(`snapshot ${index}/${term} does not match the log`);
        }
        this.storage.createSnapshot(index, confState, snapshot.data);
      }
      const retainEntries = options.retainEntries ?? 0;
      const compactTo = index - retainEntries;
      if (compactTo >= this.storage.firstIndex()) this.storage.compact(compactTo);
      // A snapshot replaces the data under every older key, as on disk.
      this.keysUsed.clear();
      this.keysUsed.add(this.currentKey);
      this.record({ kind: "saveSnapshot", snapshot, retainEntries });
      return Promise.resolve();
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  rotateKey(key: DataKey): Promise<void> {
    if (this.closed) return Promise.reject(new DiskClosedError("memory raft disk"));
    this.currentKey = key.id;
    this.record({ kind: "rotateKey", keyId: key.id });
    return Promise.resolve();
  }

  keysInUse(): Promise<Set<string>> {
    return Promise.resolve(new Set(this.keysUsed));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** A new disk holding what this one persisted (its snapshot, HardState and entries): a restart. */
  reopen(options: MemoryRaftDiskOptions = this.options): MemoryRaftDisk {
    const storage = new MemoryStorage();
    const snapshot = this.storage.snapshot();
    if (!isEmptySnapshot(snapshot)) storage.applySnapshot(snapshot);
    storage.setHardState(this.storage.initialState().hardState);
    const first = this.storage.firstIndex();
    const last = this.storage.lastIndex();
    if (last >= first) storage.append(this.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER));
    const disk = new MemoryRaftDisk(options, storage);
    disk.currentKey = this.currentKey;
    for (const id of this.keysUsed) disk.keysUsed.add(id);
    return disk;
  }

  private record(write: MemoryDiskWrite): void {
    this.writes.push(write);
    this.options.onWrite?.(write);
  }
}
