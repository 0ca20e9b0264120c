// How long `shoal --version` takes, start to exit: the command must feel instant.
// Prints one JSON line: {"bench":"cli-startup", "runs", "median_ms", "p90_ms", "max_ms"}.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const shoal = fileURLToPath(new URL("../../node_modules/.bin/shoal", import.meta.url));
const runs = Number(process.env["BENCH_RUNS"] ?? 30);

execFileSync(shoal, ["--version"]); // warm the file cache
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = process.hrtime.bigint();
  execFileSync(shoal, ["--version"]);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);
const at = (q: number): number => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1));
console.log(
  JSON.stringify({ bench: "cli-startup", runs, median_ms: at(0.5), p90_ms: at(0.9), max_ms: at(1), target_ms: 500 }),
);
