// The segments of a write-ahead log on disk: the one being written and the sealed ones before it, with
// what each holds (highest entry index, data keys). It rolls to a new segment and deletes whole old ones
// once a snapshot covers them; the log (wal.ts) writes to the newest one's SegmentWriter.
//
// Rolling seals the segment being written (fsync, so that corruption found later in a sealed
// segment is real data loss) and starts the next one with its header and a preamble: a copy of the
// current hardState and newest snapshot marker, so that releasing older segments never loses
// either. The preamble is written under the ring's current key.
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { KeyRing } from "../crypto/data-key.js";
import { CLEAR } from "../crypto/data-key.js";
import type { RaftLogger } from "../logger.js";
import type { HardState } from "../types.js";
import type { SnapshotMarker, WalRecord } from "./codec.js";
import type { SegmentState } from "./replay.js";
import { fsyncDir } from "./segment.js";
import { SegmentWriter } from "./segment-writer.js";

export interface SegmentSetOptions {
  readonly dir: string;
  /** The size a segment is preallocated to, and that the set rolls rather than grow past. */
  readonly segmentBytes: number;
  readonly keys: KeyRing | undefined;
  readonly logger: RaftLogger;
}

export class SegmentSet {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly keys: KeyRing | undefined;
  private readonly logger: RaftLogger;

  /** `segments`: those on disk, oldest first; the last one is the one being written. */
  constructor(
    options: SegmentSetOptions,
    private readonly segments: SegmentState[],
  ) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes;
    this.keys = options.keys;
    this.logger = options.logger;
  }

  /**
   * True when `bytes` more would take `writer`, the segment being written, past the segment size and
   * it holds more than its preamble (a segment is never rolled with nothing of its own).
   */
  isFull(writer: SegmentWriter, bytes: number): boolean {
    return writer.size > writer.preambleBytes && writer.size + bytes > this.segmentBytes;
  }

  /**
   * Records that the segment being written now holds records sealed under `keyId` (or CLEAR) and, when
   * `maxIndex` is set, entries up to that index.
   */
  appended(keyId: string, maxIndex: number | undefined): void {
    const seg = this.segments[this.segments.length - 1] as SegmentState;
    seg.keyIds.add(keyId);
    if (maxIndex !== undefined) seg.maxIndex = Math.max(seg.maxIndex ?? 0, maxIndex);
  }

  /**
   * Seals `writer`, the segment being written, and starts the next one, expected to hold entries from
   * `firstIndex` on; returns its writer.
   */
  async roll(
    writer: SegmentWriter,
    firstIndex: number,
    hardState: HardState,
    latest: SnapshotMarker,
  ): Promise<SegmentWriter> {
    const prev = this.segments[this.segments.length - 1] as SegmentState;
    await writer.sync(); // a sealed segment is durable as a whole
    await writer.close();
    const preamble: WalRecord[] = [{ type: "hardState", hardState }];
    if (latest.index > 0) preamble.push({ type: "snapshot", marker: latest });
    const seq = prev.seq + 1;
    const key = this.keys?.current;
    const next = await SegmentWriter.create(this.dir, seq, firstIndex, preamble, this.segmentBytes, key);
    this.segments.push({
      seq,
      firstIndex,
      name: next.name,
      maxIndex: undefined,
      keyIds: new Set([key?.id ?? CLEAR]),
    });
    this.logger.info("write-ahead log rolled to a new segment", { component: "wal", file: next.name });
    return next;
  }
  /**
   * Delete whole segments, oldest first, whose entries are all at or below `index` (never the segment
   * being written); returns their names. The caller checks that a snapshot covers `index`.
   */
  async releaseTo(index: number): Promise<string[]> {
    const removed: string[] = [];
    while (this.segments.length > 1) {
      const first = this.segments[0] as SegmentState;
      if (first.maxIndex !== undefined && first.maxIndex > index) break;
      await unlink(join(this.dir, first.name));
      this.segments.shift();
      removed.push(first.name);
    }
    if (removed.length > 0) {
      await fsyncDir(this.dir);
      this.logger.info("released write-ahead log segments", {
        component: "wal",
        dir: this.dir,
        upTo: index,
        removed: removed.length,
      });
    }
    return removed;
  }

  /** The data keys (ids, or CLEAR) the records of the segments on disk are under. */
  keyIdsInUse(): Set<string> {
    const ids = new Set<string>();
    for (const s of this.segments) for (const id of s.keyIds) ids.add(id);
    return ids;
  }

  /** The segment files currently on disk, oldest first. */
  names(): string[] {
    return this.segments.map((s) => s.name);
  }
}
