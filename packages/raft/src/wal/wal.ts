// The write-ahead log: the durable half of Raft's storage. It is written on every Ready and read only once,
// at start, to rebuild a MemoryStorage that the core reads from (as etcd does).
//
// A save() encodes its records into one buffer and writes it with one write(); when sync is set the write
// is durable before the save resolves (O_DSYNC, see segment-writer.ts): the driver sends nothing before
// that. Saves issued while a write is in flight are coalesced into the next write (group commit), in order.
//
// Segments roll past `segmentBytes` and are released whole once a snapshot covers them (segment-set.ts:
// a new segment starts with a copy of the current hardState and newest snapshot marker).
//
// With a key ring (`keys`), the records of one write() (every save coalesced into it) are sealed together
// with the ring's current key, as one record: one cipher per write, so group commit keeps its gain. They
// are read with whichever key of the ring they name.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { KeyRing } from "../crypto/data-key.js";
import { CLEAR } from "../crypto/data-key.js";
import type { RaftLogger } from "../logger.js";
import { silentLogger } from "../logger.js";
import type { Entry, HardState } from "../types.js";
import type { SnapshotMarker, WalRecord } from "./codec.js";
import { SEALED_RECORD_OVERHEAD, encodeRecords, sealFrames } from "./codec.js";
import { DataLossError, DiskClosedError, DiskInvalidArgumentError } from "./errors.js";
import { MAX_RECORD_BYTES } from "./frame.js";
import { DirLock } from "./lock.js";
import type { SegmentState } from "./replay.js";
import { scanSegments } from "./replay.js";
import { fsyncDir, listSegments } from "./segment.js";
import { SegmentSet } from "./segment-set.js";
import { SegmentWriter } from "./segment-writer.js";

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export interface WalOptions {
  logger?: RaftLogger;
  /** Segments are preallocated to this size, and the log rolls to a new one rather than grow past it.
   *  Default 64 MiB. */
  segmentBytes?: number;
  /** Default for save(): fdatasync before resolving. Default true; false only for tests and benchmarks. */
  sync?: boolean;
  /** Where replay starts: given the newest snapshot marker, return the marker of the snapshot the caller
   *  will actually restore (an older one if the newest snapshot file is unusable). Default: the newest. */
  replayFrom?: (latest: SnapshotMarker) => SnapshotMarker | Promise<SnapshotMarker>;
  /** Data keys: records are sealed with the current one (in clear when none), read with any. A record
   *  under a key not in the ring fails the open with DiskKeyError. Shared: setCurrent() applies to the
   *  next save(). */
  keys?: KeyRing;
}

export interface WalReplay {
  /** The last hardState saved (all zero when none). */
  hardState: HardState;
  /** Where replay started: the newest snapshot marker, or the one replayFrom chose (0/0 when none). */
  snapshot: SnapshotMarker;
  /** The entries after `snapshot`, contiguous, as last written (later writes at an index won). */
  entries: Entry[];
}

export interface SaveOptions {
  /** Override the log's default. */
  sync?: boolean;
  /** Record a snapshot marker first, in the same write (a snapshot received from the leader). */
  snapshot?: SnapshotMarker;
}

interface PendingWrite {
  /** Clear frames: sealed, with the others of its write, when written. */
  buf: Buffer;
  sync: boolean;
  firstIndex: number | undefined;
  lastIndex: number | undefined;
  hardState: HardState | undefined;
  marker: SnapshotMarker | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Wal {
  private readonly defaultSync: boolean;
  private readonly keys: KeyRing | undefined;
  /** Saves waiting for the next flush (coalesced into one write and one fsync). */
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  /** Every flush and release runs on this chain, one at a time, in the order they were issued. */
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  /** Newest marker saved (what save() and releaseTo() validate against). */
  private latestMarker: SnapshotMarker;
  private queuedMarker: SnapshotMarker;
  private lastIndexSaved: number;

  private constructor(
    readonly dir: string,
    options: WalOptions,
    private readonly lock: DirLock,
    private writer: SegmentWriter,
    private readonly segments: SegmentSet,
    private hardState: HardState,
    latest: SnapshotMarker,
    lastIndex: number,
  ) {
    this.defaultSync = options.sync ?? true;
    this.keys = options.keys;
    this.latestMarker = latest;
    this.queuedMarker = latest;
    this.lastIndexSaved = lastIndex;
  }

  /** Open (creating if empty) the log in `dir`, take its lock, cut a torn tail and replay it. */
  static async open(dir: string, options: WalOptions = {}): Promise<WalReplay & { wal: Wal }> {
    const logger = options.logger ?? silentLogger;
    if ((await mkdir(dir, { recursive: true })) !== undefined) await fsyncDir(dirname(dir));
    const lock = await DirLock.acquire(dir, logger);
    try {
      let scanned = await scanSegments(dir, await listSegments(dir), logger, options.keys);
      const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
      if (scanned.segments.length === 0) {
        await (await SegmentWriter.create(dir, 0, 1, [], segmentBytes, options.keys?.current)).close();
        scanned = await scanSegments(dir, await listSegments(dir), logger, options.keys);
      }
      const tail = scanned.segments[scanned.segments.length - 1] as SegmentState;
      const start = options.replayFrom === undefined ? scanned.latest : await options.replayFrom(scanned.latest);
      const entries = entriesAfter(scanned.entries, start, scanned.latest, dir);
      const last = scanned.entries[scanned.entries.length - 1];
      const writer = await SegmentWriter.reopen(dir, tail.name, scanned.tailBytes, segmentBytes);
      const segments = new SegmentSet({ dir, segmentBytes, keys: options.keys, logger }, scanned.segments);
      const wal = new Wal(
        dir,
        options,
        lock,
        writer,
        segments,
        scanned.hardState,
        scanned.latest,
        last?.index ?? scanned.latest.index,
      );
      logger.info("write-ahead log opened", {
        component: "wal",
        dir,
        segments: scanned.segments.length,
        snapshotIndex: start.index,
        entries: entries.length,
        commit: scanned.hardState.commit,
      });
      return { wal, hardState: scanned.hardState, snapshot: start, entries };
    } catch (err: unknown) {
      await lock.release();
      throw err;
    }
  }

  /** Index of the last entry saved (the newest snapshot's index when no entry follows it). */
  lastIndex(): number {
    return this.lastIndexSaved;
  }

  /**
   * Append `entries` (replacing any saved entries from entries[0].index on) and `hardState`, in one write;
   * resolves once they are durable when sync is set. Entries must be contiguous.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], options: SaveOptions = {}): Promise<void> {
    const records: WalRecord[] = [];
    const marker = options.snapshot;
    if (marker !== undefined) {
      if (marker.index < this.queuedMarker.index) {
        return Promise.reject(
          new DiskInvalidArgumentError(
            `snapshot ${marker.index} is older than the saved snapshot ${this.queuedMarker.index}`,
          ),
        );
      }
      records.push({ type: "snapshot", marker: { index: marker.index, term: marker.term } });
    }
    if (entries.length > 0) records.push({ type: "entries", entries });
    if (hardState !== undefined) records.push({ type: "hardState", hardState: { ...hardState } });
    if (records.length === 0) return Promise.resolve();
    let buf: Buffer;
    try {
      this.checkOpen();
      buf = encodeRecords(records);
    } catch (err: unknown) {
      return Promise.reject(err);
    }
    if (marker !== undefined) this.queuedMarker = marker;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        buf,
        sync: options.sync ?? this.defaultSync,
        firstIndex: entries[0]?.index,
        lastIndex: entries[entries.length - 1]?.index,
        hardState: hardState === undefined ? undefined : { ...hardState },
        marker,
        resolve,
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void this.onChain(() => this.flush());
      }
    });
  }

  /** Record that a snapshot up to marker.index was saved: replay will start from it. */
  saveSnapshot(marker: SnapshotMarker, options: { sync?: boolean } = {}): Promise<void> {
    return this.save(undefined, [], { ...options, snapshot: marker });
  }

  /**
   * Delete whole segments, oldest first, whose entries are all at or below `index` (never the segment being
   * written). `index` must not pass the newest snapshot saved: replay starts there.
   */
  releaseTo(index: number): Promise<string[]> {
    try {
      this.checkOpen();
    } catch (err: unknown) {
      return Promise.reject(err);
    }
    return this.onChain(async () => {
      this.checkHealthy();
      if (index > this.latestMarker.index) {
        throw new DiskInvalidArgumentError(
          `cannot release the log to ${index}, past the newest snapshot ${this.latestMarker.index}`,
        );
      }
      return this.segments.releaseTo(index);
    });
  }

  /**
   * Seal the segment being written and start a new one (its preamble under the current key), so that
   * the records written from now on are in segments of their own. Used when the data key changes.
   */
  startSegment(): Promise<void> {
    try {
      this.checkOpen();
    } catch (err: unknown) {
      return Promise.reject(err);
    }
    return this.onChain(async () => {
      this.checkHealthy();
      await this.roll(this.lastIndexSaved + 1);
    });
  }

  /** The data keys (ids, or CLEAR) the records of the segments on disk are under. */
  keyIdsInUse(): Set<string> {
    return this.segments.keyIdsInUse();
  }

  /** The segment files currently on disk, oldest first. */
  segmentNames(): string[] {
    return this.segments.names();
  }

  /** Flush what is queued, close the file and release the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.chain; // saves and releases accepted before close() still run
    } finally {
      try {
        await this.writer.close();
      } finally {
        await this.lock.release();
      }
    }
  }

  private checkOpen(): void {
    this.checkHealthy();
    if (this.closed) throw new DiskClosedError(`write-ahead log ${this.dir}`);
  }

  private checkHealthy(): void {
    if (this.failure !== undefined) {
      throw new DiskClosedError(`write-ahead log ${this.dir} (after a failed write)`, { cause: this.failure });
    }
  }

  /** Run `op` after every flush and release issued before it. */
  private onChain<T>(op: () => Promise<T>): Promise<T> {
    const p = this.chain.then(op);
    this.chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false; // saves issued from now on go to the next flush
    const batch = this.queue;
    this.queue = [];
    try {
      this.checkHealthy(); // saves accepted before close() are still written
      await this.writeBatch(batch);
      for (const w of batch) w.resolve();
    } catch (err: unknown) {
      // After a failed write or fsync the file's state is unknown (the page cache may have dropped the
      // data): refuse everything from now on rather than acknowledge on top of it.
      if (this.failure === undefined && !(err instanceof DiskClosedError)) this.failure = err;
      for (const w of batch) w.reject(err);
    }
  }

  private async writeBatch(batch: readonly PendingWrite[]): Promise<void> {
    const clear = batch.length === 1 ? (batch[0] as PendingWrite).buf : Buffer.concat(batch.map((w) => w.buf));
    const key = this.keys?.current;
    let buf = clear;
    if (key !== undefined) {
      buf =
        clear.byteLength + SEALED_RECORD_OVERHEAD <= MAX_RECORD_BYTES
          ? sealFrames(clear, key)
          : Buffer.concat(batch.map((p) => sealFrames(p.buf, key)));
    }
    if (this.segments.isFull(this.writer, buf.byteLength)) {
      const first = batch.find((p) => p.firstIndex !== undefined)?.firstIndex;
      await this.roll(first ?? this.lastIndexSaved + 1);
    }
    await this.writer.append(
      buf,
      batch.some((p) => p.sync),
    );
    let maxIndex: number | undefined;
    for (const p of batch) if (p.lastIndex !== undefined) maxIndex = Math.max(maxIndex ?? 0, p.lastIndex);
    this.segments.appended(key?.id ?? CLEAR, maxIndex);
    for (const p of batch) {
      if (p.marker !== undefined) this.latestMarker = p.marker;
      if (p.lastIndex !== undefined) {
        this.lastIndexSaved = p.lastIndex;
      } else if (p.marker !== undefined && p.marker.index > this.lastIndexSaved) {
        this.lastIndexSaved = p.marker.index;
      }
      if (p.hardState !== undefined) this.hardState = p.hardState;
    }
  }

  /** Seal the segment being written and write from now on to a new one (see segment-set.ts). */
  private async roll(firstIndex: number): Promise<void> {
    this.writer = await this.segments.roll(this.writer, firstIndex, this.hardState, this.latestMarker);
  }
}

/** The entries after `start`, checking that the log reaches back to it and forward to the newest marker. */
function entriesAfter(all: readonly Entry[], start: SnapshotMarker, latest: SnapshotMarker, dir: string): Entry[] {
  const first = all[0];
  const lastIndex = Math.max(all[all.length - 1]?.index ?? 0, latest.index);
  if (start.index > latest.index) {
    throw new DiskInvalidArgumentError(
      `replay cannot start at ${start.index}, past the newest snapshot ${latest.index}`,
    );
  }
  if (lastIndex <= start.index) return [];
  if (first === undefined || first.index > start.index + 1) {
    throw new DataLossError(
      `the log does not reach back to snapshot ${start.index} (its first entry is ${first?.index ?? "none"})`,
      { file: dir },
    );
  }
  const at = all[start.index - first.index];
  if (at !== undefined && start.index > 0 && at.term !== start.term) {
    throw new DataLossError(`entry ${start.index} has term ${at.term}, the snapshot term ${start.term}`, { file: dir });
  }
  const out = all.slice(start.index + 1 - first.index);
  const lastEntry = out[out.length - 1];
  if (lastEntry === undefined || lastEntry.index < latest.index) {
    throw new DataLossError(`the log from snapshot ${start.index} ends before the newest snapshot ${latest.index}`, {
      file: dir,
    });
  }
  return out;
}
