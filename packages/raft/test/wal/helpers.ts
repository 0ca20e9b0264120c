// Shared by the WAL and snapshot tests: temporary directories, deterministic entries, a logger that keeps
// what it was told.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { Entry, RaftLogFields, RaftLogger } from "../../src/index.js";

const dirs: string[] = [];

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export async function tempDir(prefix = "shoal-wal-"): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Payload that names its own index and term, so a test can tell a stale entry from the right one. */
export function payload(index: number, term: number, size = 16): Uint8Array {
  const out = new Uint8Array(Math.max(size, 8));
  const view = new DataView(out.buffer);
  view.setUint32(0, index, true);
  view.setUint32(4, term, true);
  for (let i = 8; i < out.length; i++) out[i] = (index * 31 + term * 7 + i) & 0xff;
  return out;
}

export function makeEntries(first: number, count: number, term: number, size = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const index = first + i;
    out.push({ index, term, type: index % 7 === 3 ? "confChange" : "normal", data: payload(index, term, size) });
  }
  return out;
}

export interface LogLine {
  level: "debug" | "info" | "warn";
  msg: string;
  fields: RaftLogFields | undefined;
}

export function captureLogger(): RaftLogger & { lines: LogLine[]; warnings(): LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (msg, fields) => void lines.push({ level: "debug", msg, fields }),
    info: (msg, fields) => void lines.push({ level: "info", msg, fields }),
    warn: (msg, fields) => void lines.push({ level: "warn", msg, fields }),
    warnings: () => lines.filter((l) => l.level === "warn"),
  };
}
