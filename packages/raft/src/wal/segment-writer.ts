// The segment being appended to. Two things keep a synced save to one system call and cheap:
//
// - Preallocation: a segment is extended to its full size (ftruncate) when created, so a write does not
//   grow the file and fdatasync has no file size to commit. The unwritten part reads as zeros, which
//   replay takes as the clean end of the log.
// - O_DSYNC: synced saves go through a second descriptor opened with O_DSYNC, so write() returns once the
//   data is durable (one trip to the thread pool instead of write + fdatasync). O_DSYNC makes only the
//   written range durable, so a synced write after unsynced ones rewrites those bytes with it (the same
//   bytes at the same place), or, past a limit, falls back to write + fdatasync.
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { DataKey } from "../crypto/data-key.js";
import type { WalRecord } from "./codec.js";
import { encodeRecords } from "./codec.js";
import { fsyncDir, segmentFileName } from "./segment.js";

/** Unsynced bytes kept in memory to be rewritten by the next synced write. */
const REWRITE_LIMIT = 1024 * 1024;

export async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, done, buf.byteLength - done, position + done);
    done += bytesWritten;
  }
}

export class SegmentWriter {
  private unsynced: Buffer[] = [];
  private unsyncedFrom: number | undefined;
  private unsyncedBytes = 0;

  private constructor(
    readonly name: string,
    private readonly fh: FileHandle,
    private readonly dsync: FileHandle,
    /** Bytes of records written: the next record goes here. */
    public size: number,
    /** Header and copied state at the start of a new segment (0 when reopened): never rolled alone. */
    readonly preambleBytes: number,
  ) {}

  /** Create a segment with its header and `preamble`, durable (file and directory) before returning. */
  static async create(
    dir: string,
    seq: number,
    firstIndex: number,
    preamble: readonly WalRecord[],
    preallocate: number,
    key?: DataKey,
  ): Promise<SegmentWriter> {
    const name = segmentFileName(seq, firstIndex);
    const path = join(dir, name);
    const fh = await open(path, "wx+");
    try {
      const buf = encodeRecords([{ type: "segmentHeader", header: { seq, firstIndex } }, ...preamble], key);
      await writeAll(fh, buf, 0);
      if (preallocate > buf.byteLength) await fh.truncate(preallocate);
      await fh.datasync();
      await fsyncDir(dir);
      const dsync = await open(path, constants.O_WRONLY | constants.O_DSYNC);
      return new SegmentWriter(name, fh, dsync, buf.byteLength, buf.byteLength);
    } catch (err: unknown) {
      await fh.close();
      throw err;
    }
  }

  /** Reopen the last segment of a replayed log, appending after its `validBytes`. */
  static async reopen(dir: string, name: string, validBytes: number, preallocate: number): Promise<SegmentWriter> {
    const path = join(dir, name);
    const fh = await open(path, "r+");
    try {
      if ((await fh.stat()).size < preallocate) await fh.truncate(preallocate);
      const dsync = await open(path, constants.O_WRONLY | constants.O_DSYNC);
      return new SegmentWriter(name, fh, dsync, validBytes, 0);
    } catch (err: unknown) {
      await fh.close();
      throw err;
    }
  }

  /** Write `buf` after the last record; when `sync`, it (and every earlier write) is durable on return. */
  async append(buf: Buffer, sync: boolean): Promise<void> {
    const at = this.size;
    if (!sync) {
      await writeAll(this.fh, buf, at);
      this.unsyncedFrom ??= at;
      this.unsyncedBytes += buf.byteLength;
      if (this.unsyncedBytes <= REWRITE_LIMIT) this.unsynced.push(buf);
      else this.unsynced = [];
    } else if (this.unsyncedFrom === undefined) {
      await writeAll(this.dsync, buf, at);
    } else if (this.unsyncedBytes <= REWRITE_LIMIT) {
      await writeAll(this.dsync, Buffer.concat([...this.unsynced, buf]), this.unsyncedFrom);
      this.clearUnsynced();
    } else {
      await writeAll(this.fh, buf, at);
      await this.fh.datasync();
      this.clearUnsynced();
    }
    this.size = at + buf.byteLength;
  }

  /** Make every write so far durable. */
  async sync(): Promise<void> {
    if (this.unsyncedFrom === undefined) return;
    await this.fh.datasync();
    this.clearUnsynced();
  }

  async close(): Promise<void> {
    try {
      await this.dsync.close();
    } finally {
      await this.fh.close();
    }
  }

  private clearUnsynced(): void {
    this.unsynced = [];
    this.unsyncedFrom = undefined;
    this.unsyncedBytes = 0;
  }
}
