// Segment files: <seq>-<firstIndex>.wal, both as 16 decimal digits so that names sort in log order.
// `seq` counts segments from 0 without gaps; `firstIndex` is the index the first entry written to the
// segment was expected to have (the log's last index + 1 when it was created). Later entries of a segment
// may start lower when a new leader overwrote an uncommitted tail.
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface SegmentName {
  seq: number;
  firstIndex: number;
  name: string;
}

const NAME = /^(\d{16})-(\d{16})\.wal$/;

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${String(seq).padStart(16, "0")}-${String(firstIndex).padStart(16, "0")}.wal`;
}

export function parseSegmentFileName(name: string): SegmentName | undefined {
  const m = NAME.exec(name);
  if (m === null) return undefined;
  return { seq: Number(m[1]), firstIndex: Number(m[2]), name };
}

/** The segment files of a directory, in sequence order. Other files are ignored. */
export async function listSegments(dir: string): Promise<SegmentName[]> {
  const names = await readdir(dir);
  const segments: SegmentName[] = [];
  for (const n of names) {
    const s = parseSegmentFileName(n);
    if (s !== undefined) segments.push(s);
  }
  return segments.sort((a, b) => a.seq - b.seq);
}

/** Make the directory's entries (files created, renamed or removed) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(join(dir, "."), "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
