// Command-line sweep of harness leftovers (scripts/clean-harness.sh runs it): removes every run
// whose owner process is gone, or every run with --all (only when no test is running).
import { sweepStaleRuns } from "./cleanup.js";
import { checkPrerequisites } from "./prerequisites.js";

const includeLive = process.argv.includes("--all");
const { runIds, problems } = await sweepStaleRuns(checkPrerequisites(), { includeLive });
console.log(runIds.length === 0 ? "no harness leftovers" : `cleaned runs: ${runIds.join(", ")}`);
for (const problem of problems) console.error(`left behind: ${problem}`);
process.exitCode = problems.length === 0 ? 0 : 1;
