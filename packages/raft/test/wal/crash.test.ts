// kill -9 in the middle of writes: a child process appends to the WAL and prints each batch right after
// save() resolves; the test kills it at a random moment, reopens the WAL and checks that every printed
// (acknowledged) entry is there and intact, round after round on the same directory. This checks the
// protocol (acknowledge only after write + fdatasync, one write per save, replay cutting a partial write),
// not the disk: the page cache survives a killed process. WAL_CRASH_ROUNDS=200 for a longer run. It runs
// twice: records in clear, and sealed with a data key.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { beforeEach, describe, expect, it } from "vitest";
import { DataKey, KeyRing } from "../../src/crypto/data-key.js";
import { Wal } from "../../src/wal/index.js";
import { Prng } from "../support/prng.js";
import { readCrashPayload } from "./fixtures/crash-payload.js";
import { captureLogger, tempDir } from "./helpers.js";

const ROUNDS = Number(process.env["WAL_CRASH_ROUNDS"] ?? 12);
const SEGMENT_BYTES = 256 * 1024; // as in the writer
let bundle = "";

beforeEach(async () => {
  // Per test: the directory is removed after each one.
  const out = await tempDir("shoal-wal-writer-");
  bundle = join(out, "wal-writer.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./fixtures/wal-writer.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundle,
    logLevel: "silent",
  });
});

interface Ack {
  batch: number;
  first: number;
  last: number;
  term: number;
}

/** Run the writer until `killAfterMs` past its first acknowledgement, then SIGKILL it. */
async function runAndKill(
  dir: string,
  firstBatch: number,
  seed: number,
  killAfterMs: number,
  key: DataKey | undefined,
): Promise<Ack[]> {
  const args = [bundle, dir, String(firstBatch), String(seed)];
  if (key !== undefined) args.push(key.bytes().toString("hex"));
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const acks: Ack[] = [];
  let partial = "";
  let stderr = "";
  let killTimer: NodeJS.Timeout | undefined;
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const [batch, first, last, term] = line.split(" ").map(Number) as [number, number, number, number];
      acks.push({ batch, first, last, term });
    }
    killTimer ??= setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (c, s) => resolve({ code: c, signal: s })),
  );
  clearTimeout(killTimer);
  if (signal !== "SIGKILL") throw new Error(`writer exited with ${code ?? signal}: ${stderr}`);
  return acks; // a line cut by the kill (no newline) was not acknowledged
}

describe.each([
  { mode: "clear", key: undefined },
  { mode: "sealed", key: DataKey.generate() },
])("WAL under kill -9 ($mode)", ({ key }) => {
  it(`keeps every acknowledged entry, ${ROUNDS} rounds`, { timeout: 60_000 + ROUNDS * 3_000 }, async () => {
    const dir = await tempDir();
    const rng = new Prng(Number(process.env["WAL_CRASH_SEED"] ?? 42));
    /** index -> (term, batch) of the entry that must be there: acknowledged, or durable and seen. */
    let model = new Map<number, { term: number; batch: number }>();
    let ackedCommit = 0;
    const stats = { rounds: 0, ackedBatches: 0, ackedEntries: 0, checkedEntries: 0, tornTails: 0, maxSegments: 0 };

    for (let round = 0; round < ROUNDS; round++) {
      const firstBatch = round * 1_000_000 + 1;
      const acks = await runAndKill(dir, firstBatch, rng.int(2 ** 31), rng.range(1, 250), key);
      expect(acks.length).toBeGreaterThan(0);
      for (const a of acks) {
        for (const i of [...model.keys()]) if (i >= a.first) model.delete(i);
        for (let i = a.first; i <= a.last; i++) model.set(i, { term: a.term, batch: a.batch });
        ackedCommit = Math.max(ackedCommit, a.last);
        stats.ackedEntries += a.last - a.first + 1;
      }
      stats.ackedBatches += acks.length;
      const lastAcked = acks[acks.length - 1]!.batch;

      const logger = captureLogger();
      const r = await Wal.open(dir, {
        logger,
        segmentBytes: SEGMENT_BYTES,
        ...(key === undefined ? {} : { keys: new KeyRing(key) }),
      });
      stats.tornTails += logger.warnings().filter((w) => w.msg.startsWith("cutting a torn write")).length;
      stats.maxSegments = Math.max(stats.maxSegments, r.wal.segmentNames().length);
      expect(r.hardState.commit).toBeGreaterThanOrEqual(ackedCommit);
      const byIndex = new Map<number, { term: number; batch: number }>();
      r.entries.forEach((e, k) => {
        expect(e.index).toBe(r.snapshot.index + 1 + k);
        const p = readCrashPayload(e.data);
        if (typeof p === "string") throw new Error(`entry ${e.index}: ${p}`);
        expect(p).toMatchObject({ index: e.index, term: e.term });
        byIndex.set(e.index, { term: e.term, batch: p.batch });
      });
      for (const [i, want] of model) {
        if (i <= r.snapshot.index) continue;
        const got = byIndex.get(i);
        if (got === undefined)
          throw new Error(`round ${round}: acknowledged entry ${i} (batch ${want.batch}) is missing`);
        // Either what was acknowledged, or a later write (durable, killed before it was printed).
        if (got.batch !== want.batch && !(got.batch > lastAcked && got.batch < firstBatch + 1_000_000)) {
          throw new Error(`round ${round}: entry ${i} is from batch ${got.batch}, acknowledged ${want.batch}`);
        }
        stats.checkedEntries++;
      }
      model = byIndex;
      await r.wal.close();
      stats.rounds++;
    }
    console.log(`wal crash test: ${JSON.stringify(stats)}`);
    expect(stats.rounds).toBe(ROUNDS);
  });
});
