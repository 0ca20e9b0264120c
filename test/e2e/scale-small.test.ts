// The scale run in its small form (issue 19): 3 managers as real processes (fsync on), 300
// simulated agents with real gRPC sessions, one service of 3,000 replicas. It runs the benchmark
// itself (test/bench/scale-simulated-agents.ts) and checks what a user scaling a service checks:
// every replica runs, each slot once. The bound is generous (the run takes about 5 s after the
// agents are ready on an idle 2-core machine); it is there to catch a return to work that grows
// with the whole task table on every change, which took minutes at this size.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const AGENTS = 300;
const REPLICAS = 3000;
const BOUND_S = 150;

interface BenchLine {
  readonly seconds: number | null;
  readonly running_at_timeout?: number;
  readonly duplicate_slots: number;
  readonly agents_ready_s?: number;
  readonly event_loop_max_ms?: number[];
  readonly leader_changes?: number[];
  readonly heartbeat_failures?: number;
  readonly error?: string;
}

function runBench(): Promise<{ line: BenchLine; stderr: string }> {
  const env = {
    ...process.env,
    BENCH_AGENTS: String(AGENTS),
    BENCH_REPLICAS: String(REPLICAS),
    BENCH_TIMEOUT_S: String(BOUND_S),
  };
  return new Promise((resolve, reject) => {
    execFile(
      "node_modules/.bin/tsx",
      ["--conditions=@shoal/source", "test/bench/scale-simulated-agents.ts"],
      { cwd: ROOT, env, timeout: (BOUND_S + 240) * 1000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const json = stdout.split("\n").find((l) => l.startsWith("{"));
        if (json === undefined) {
          reject(
            new Error(`the scale bench printed no result (${String(err)}); its stderr ends:\n${stderr.slice(-3000)}`),
          );
          return;
        }
        resolve({ line: JSON.parse(json) as BenchLine, stderr });
      },
    );
  });
}

describe("scale, small form", () => {
  it(
    `runs ${REPLICAS} replicas on ${AGENTS} agents within ${BOUND_S} s, each slot once`,
    { timeout: (BOUND_S + 300) * 1000 },
    async () => {
      const { line, stderr } = await runBench();
      // What the run measured, in the test's output, for whoever reads a slow CI run.
      console.log(JSON.stringify(line));
      expect(line.error, stderr.slice(-3000)).toBeUndefined();
      expect(line.seconds, `running after ${BOUND_S} s: ${line.running_at_timeout}`).not.toBeNull();
      expect(line.seconds!).toBeLessThan(BOUND_S);
      expect(line.duplicate_slots).toBe(0);
    },
  );
});
