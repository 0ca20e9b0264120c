// Thousands of seeded random schedules (see support/schedule.ts) checking Raft's safety properties after
// every event and liveness at the end. RAFT_FUZZ_SCHEDULES sets how many (default 1500),
// RAFT_FUZZ_BASE_SEED where the seeds start; RAFT_FUZZ_SEED=<seed> replays one failing schedule.
import { describe, expect, it } from "vitest";
import { runSchedule, type ScheduleResult } from "./support/schedule.js";

const count = Number(process.env["RAFT_FUZZ_SCHEDULES"] ?? 1500);
const replay = process.env["RAFT_FUZZ_SEED"];
/** RAFT_FUZZ_BASE_SEED shifts the range of seeds (e.g. a nightly run with a fresh range). */
const BASE_SEED = Number(process.env["RAFT_FUZZ_BASE_SEED"] ?? 0x5eed);

function runOrExplain(seed: number, fast = false): ScheduleResult {
  // Proposals refused for want of a leader throw, and capturing their stacks dominates the run time:
  // skip stacks in bulk runs (a replay keeps them).
  const limit = Error.stackTraceLimit;
  if (fast) Error.stackTraceLimit = 0;
  try {
    return runSchedule(seed);
  } catch (err: unknown) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`schedule failed; replay with RAFT_FUZZ_SEED=${seed}\n${msg}`, { cause: err });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

describe("random schedules", () => {
  if (replay !== undefined) {
    it(`replays seed ${replay}`, () => {
      const r = runOrExplain(Number(replay));
      console.log(r);
    });
    return;
  }

  it(`keeps safety and liveness over ${count} schedules`, { timeout: 120_000 }, () => {
    const started = performance.now();
    let leaders = 0;
    let applied = 0;
    let confChanges = 0;
    let reads = 0;
    for (let i = 0; i < count; i++) {
      const r = runOrExplain(BASE_SEED + i, true);
      leaders += r.leadersElected;
      applied += r.maxApplied;
      confChanges += r.confChanges;
      reads += r.readsAnswered;
    }
    const secs = (performance.now() - started) / 1000;
    console.log(
      `raft fuzz: ${count} schedules in ${secs.toFixed(1)}s (${(count / secs).toFixed(0)}/s), ` +
        `${leaders} leaders elected, ${applied} entries applied, ${confChanges} membership changes proposed, ${reads} reads answered`,
    );
    expect(leaders).toBeGreaterThan(count);
  });
});
