// The Raft write-ahead log: what a save with fdatasync costs, alone, batched and concurrent (group commit),
// and how long a replay of 100k entries takes at start. Prints one JSON line per case:
// {"bench":"raft-wal","case":...,"ops_per_s","p50_ms","p99_ms",...}. BENCH_DIR picks the file system
// (default: the OS temporary directory); BENCH_SECONDS the time per append case (default 3).
//
// Every case runs twice: records in clear, and sealed with a data key (AES-256-GCM, "encrypted": true);
// a last line per case gives the encryption overhead ("case":"encryption-overhead").
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataKey, KeyRing, Wal, type Entry, type HardState } from "@shoal/raft";

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

const key = DataKey.generate();
const results = new Map<string, number>();

function keysFor(encrypted: boolean): { keys?: KeyRing } {
  return encrypted ? { keys: new KeyRing(key) } : {};
}

async function withWal<T>(encrypted: boolean, fn: (wal: Wal, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(root, "shoal-bench-wal-"));
  try {
    const { wal } = await Wal.open(dir, keysFor(encrypted));
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
  sync: boolean,
  encrypted: boolean,
): Promise<void> {
  await withWal(encrypted, async (wal) => {
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
    results.set(`${name}/${encrypted}`, (ops * perSave) / elapsed);
    console.log(
      JSON.stringify({
        bench: "raft-wal",
        case: name,
        encrypted,
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

async function replayCase(total: number, bytes: number, encrypted: boolean): Promise<void> {
  const dir = await mkdtemp(join(root, "shoal-bench-wal-"));
  try {
    const { wal } = await Wal.open(dir, keysFor(encrypted));
    for (let i = 1; i <= total; i += 64) {
      const n = Math.min(64, total - i + 1);
      await wal.save({ term: 1, vote: 1, commit: i + n - 1 }, entries(i, n, bytes), { sync: false });
    }
    await wal.close();
    const t0 = performance.now();
    const r = await Wal.open(dir, keysFor(encrypted));
    const ms = performance.now() - t0;
    const name = `replay-${total / 1000}k-entries-${bytes}B`;
    results.set(`${name}/${encrypted}`, total / (ms / 1000));
    if (r.entries.length !== total) throw new Error(`replayed ${r.entries.length} of ${total}`);
    await r.wal.close();
    console.log(
      JSON.stringify({
        bench: "raft-wal",
        case: name,
        encrypted,
        ms: Number(ms.toFixed(1)),
        entries_per_s: Math.round(total / (ms / 1000)),
        segments: r.wal.segmentNames().length,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const cases: [name: string, run: (encrypted: boolean) => Promise<void>][] = [
  ["append-1-entry-fsync", (e) => appendCase("append-1-entry-fsync", 1, 200, 1, true, e)],
  ["append-64x200B-fsync", (e) => appendCase("append-64x200B-fsync", 64, 200, 1, true, e)],
  ["append-1-entry-fsync-16-concurrent", (e) => appendCase("append-1-entry-fsync-16-concurrent", 1, 200, 16, true, e)],
  ["append-1-entry-nosync", (e) => appendCase("append-1-entry-nosync", 1, 200, 1, false, e)],
  ["append-64x200B-nosync", (e) => appendCase("append-64x200B-nosync", 64, 200, 1, false, e)],
  ["replay-100k-entries-200B", (e) => replayCase(100_000, 200, e)],
];
for (const [name, run] of cases) {
  await run(false);
  await run(true);
  const clear = results.get(`${name}/false`) ?? 0;
  const sealed = results.get(`${name}/true`) ?? 0;
  console.log(
    JSON.stringify({
      bench: "raft-wal",
      case: "encryption-overhead",
      of: name,
      clear_entries_per_s: Math.round(clear),
      encrypted_entries_per_s: Math.round(sealed),
      overhead_pct: Number(((clear / sealed - 1) * 100).toFixed(1)),
    }),
  );
}
