// The Raft write-ahead log: what a save with fdatasync costs, alone, batched and concurrent (group commit),
// and how long a replay of 100k entries takes at start. Prints one JSON line per case:
// {"bench":"raft-wal","case":...,"ops_per_s","p50_ms","p99_ms",...}. BENCH_DIR picks the file system
// (default: the OS temporary directory); BENCH_SECONDS the time per append case (default 3).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wal, type Entry, type HardState } from "@shoal/raft";

const seconds = Number(process.env["BENCH_SECONDS"] ?? 3);
const root = process.env["BENCH_DIR"] ?? tmpdir();

function entries(first: number, count: number, bytes: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(bytes);
    data.fill((first + i) & 0xff);
    out.push({ index: first + i, term: 1, type: "normal", data });
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  return Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3));
}

async function withWal<T>(fn: (wal: Wal, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(root, "shoal-bench-wal-"));
  try {
    const { wal } = await Wal.open(dir);
    try {
      return await fn(wal, dir);
    } finally {
      await wal.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Saves of `perSave` entries of `bytes` each, `concurrency` in flight, for `seconds`. */
async function appendCase(
  name: string,
  perSave: number,
  bytes: number,
  concurrency: number,
  sync = true,
): Promise<void> {
  await withWal(async (wal) => {
    const latencies: number[] = [];
    let next = 1;
    const deadline = performance.now() + seconds * 1000;
    const start = performance.now();
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const batch = entries(next, perSave, bytes);
        next += perSave;
        const hs: HardState = { term: 1, vote: 1, commit: next - 1 };
        const t0 = performance.now();
        await wal.save(hs, batch, { sync });
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const ops = latencies.length;
    console.log(
      JSON.stringify({
        bench: "raft-wal",
        case: name,
        ops,
        ops_per_s: Math.round(ops / elapsed),
        entries_per_s: Math.round((ops * perSave) / elapsed),
        mb_per_s: Number(((ops * perSave * bytes) / elapsed / 1e6).toFixed(2)),
        p50_ms: quantile(latencies, 0.5),
        p99_ms: quantile(latencies, 0.99),
      }),
    );
  });
}

async function replayCase(total: number, bytes: number): Promise<void> {
  const dir = await mkdtemp(join(root, "shoal-bench-wal-"));
  try {
    const { wal } = await Wal.open(dir);
    for (let i = 1; i <= total; i += 64) {
      const n = Math.min(64, total - i + 1);
      await wal.save({ term: 1, vote: 1, commit: i + n - 1 }, entries(i, n, bytes), { sync: false });
    }
    await wal.close();
    const t0 = performance.now();
    const r = await Wal.open(dir);
    const ms = performance.now() - t0;
    if (r.entries.length !== total) throw new Error(`replayed ${r.entries.length} of ${total}`);
    await r.wal.close();
    console.log(
      JSON.stringify({
        bench: "raft-wal",
        case: `replay-${total / 1000}k-entries-${bytes}B`,
        ms: Number(ms.toFixed(1)),
        entries_per_s: Math.round(total / (ms / 1000)),
        segments: r.wal.segmentNames().length,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await appendCase("append-1-entry-fsync", 1, 200, 1);
await appendCase("append-64x200B-fsync", 64, 200, 1);
await appendCase("append-1-entry-fsync-16-concurrent", 1, 200, 16);
await appendCase("append-1-entry-nosync", 1, 200, 1, false);
await replayCase(100_000, 200);
