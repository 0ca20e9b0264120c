// Snapshot files, one per snapshot: <term>-<index>.snap (16 decimal digits each). A snapshot is written to
// <name>.snap.tmp, fsynced, renamed into place and the directory fsynced, so a crash leaves either the
// whole file or a .tmp that is never loaded (and removed at the next save). The newest `retain` files are
// kept: load() falls back to an older one when the newest fails its checksum (or, sealed, its
// authentication), but not when it is sealed with a key it was not given: that is a DiskKeyError.
import { mkdir, open, readFile, readdir, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { KeyRing } from "../crypto/data-key.js";
import { UnknownKeyError } from "../crypto/seal.js";
import type { RaftLogger } from "../logger.js";
import { silentLogger } from "../logger.js";
import type { Snapshot } from "../types.js";
import { DiskInvalidArgumentError, DiskKeyError } from "../wal/errors.js";
import { fsyncDir } from "../wal/segment.js";
import {
  KEY_ID_PREFIX_BYTES,
  SnapshotDecodeError,
  decodeSnapshotFile,
  encodeSnapshotFile,
  snapshotKeyId,
} from "./snapshot-codec.js";

export const DEFAULT_SNAPSHOT_RETAIN = 3;

export interface SnapshotStoreOptions {
  logger?: RaftLogger;
  /** How many snapshot files to keep, newest first. Default 3. */
  retain?: number;
  /** Data keys: files are sealed with the current one (in clear when none), read with any. */
  keys?: KeyRing;
}

export interface SnapshotFileName {
  term: number;
  index: number;
  name: string;
}

export interface LoadOptions {
  /** Ignore snapshots past this index (newer than the log's newest snapshot marker). */
  maxIndex?: number;
}

const NAME = /^(\d{16})-(\d{16})\.snap$/;
const TMP_SUFFIX = ".tmp";

export function snapshotFileName(term: number, index: number): string {
  return `${String(term).padStart(16, "0")}-${String(index).padStart(16, "0")}.snap`;
}

export function parseSnapshotFileName(name: string): SnapshotFileName | undefined {
  const m = NAME.exec(name);
  return m === null ? undefined : { term: Number(m[1]), index: Number(m[2]), name };
}

export class SnapshotStore {
  private readonly logger: RaftLogger;
  private readonly retain: number;
  private readonly keys: KeyRing | undefined;
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    options: SnapshotStoreOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.retain = options.retain ?? DEFAULT_SNAPSHOT_RETAIN;
    this.keys = options.keys;
    if (!Number.isSafeInteger(this.retain) || this.retain < 1) {
      throw new DiskInvalidArgumentError(`snapshot retention must be at least 1, not ${this.retain}`);
    }
  }

  /** Write the snapshot durably under its final name, then drop the oldest beyond `retain`. Saves run one
   *  at a time, in call order. */
  save(snapshot: Snapshot): Promise<string> {
    const p = this.serial.then(
      () => this.write(snapshot),
      () => this.write(snapshot),
    );
    this.serial = p.catch(() => undefined);
    return p;
  }

  private async write(snapshot: Snapshot): Promise<string> {
    const { index, term } = snapshot.metadata;
    if (index === 0) throw new DiskInvalidArgumentError("cannot save an empty snapshot (index 0)");
    await this.ensureDir();
    const name = snapshotFileName(term, index);
    const tmp = join(this.dir, name + TMP_SUFFIX);
    const parts = encodeSnapshotFile(snapshot, this.keys?.current);
    const fh = await open(tmp, "w");
    try {
      await fh.writev(parts);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    await fsyncDir(this.dir);
    await this.prune();
    return name;
  }

  /** The newest snapshot that passes its checksum (and is not past maxIndex), or undefined. */
  async load(options: LoadOptions = {}): Promise<Snapshot | undefined> {
    for (const f of await this.list()) {
      if (options.maxIndex !== undefined && f.index > options.maxIndex) continue;
      const file = join(this.dir, f.name);
      try {
        let snap: Snapshot;
        try {
          snap = decodeSnapshotFile(await readFile(file), this.keys);
        } catch (err: unknown) {
          if (err instanceof UnknownKeyError) throw new DiskKeyError(file, err.keyId, this.keys?.ids() ?? []);
          throw err;
        }
        if (snap.metadata.index !== f.index || snap.metadata.term !== f.term) {
          throw new SnapshotDecodeError(`holds ${snap.metadata.term}-${snap.metadata.index}, unlike its name`);
        }
        return snap;
      } catch (err: unknown) {
        if (!(err instanceof SnapshotDecodeError)) throw err;
        this.logger.warn("skipping a corrupt snapshot file", { component: "snapshot", file, reason: err.message });
      }
    }
    return undefined;
  }

  /** The data keys (ids, or CLEAR) of the snapshot files on disk, read from their headers. */
  async keyIdsInUse(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const f of await this.list()) {
      const fh = await open(join(this.dir, f.name), "r");
      try {
        const prefix = Buffer.alloc(KEY_ID_PREFIX_BYTES);
        const { bytesRead } = await fh.read(prefix, 0, prefix.byteLength, 0);
        ids.add(snapshotKeyId(prefix.subarray(0, bytesRead)));
      } finally {
        await fh.close();
      }
    }
    return ids;
  }

  /** Remove every snapshot file but the newest (after a data key change, once the newest is under the new
   *  key). Runs after the saves issued before it. */
  keepNewestOnly(): Promise<string[]> {
    const p = this.serial.then(async () => {
      const doomed = (await this.list()).slice(1).map((f) => f.name);
      for (const n of doomed) await unlink(join(this.dir, n));
      if (doomed.length > 0) await fsyncDir(this.dir);
      return doomed;
    });
    this.serial = p.catch(() => undefined);
    return p;
  }

  /** Snapshot files, newest first (by index, then term). Temporary files are not listed. */
  async list(): Promise<SnapshotFileName[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const files: SnapshotFileName[] = [];
    for (const n of names) {
      const f = parseSnapshotFileName(n);
      if (f !== undefined) files.push(f);
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  private async prune(): Promise<void> {
    const names = await readdir(this.dir);
    const doomed = names.filter((n) => n.endsWith(".snap" + TMP_SUFFIX));
    const files = await this.list();
    for (const f of files.slice(this.retain)) doomed.push(f.name);
    for (const n of doomed) await unlink(join(this.dir, n));
    if (doomed.length > 0) await fsyncDir(this.dir);
  }

  private async ensureDir(): Promise<void> {
    if ((await mkdir(this.dir, { recursive: true })) !== undefined) await fsyncDir(dirname(this.dir));
  }
}
