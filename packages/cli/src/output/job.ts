// Jobs on the command line: the mode as `docker service ls` names it, a job's status for
// `service inspect --pretty`, and waiting for a run to finish (`service create`, `update`).
import { ErrorCode, JobRunOutcome, ShoalError, type JobRun, type Service } from "@shoal/shared";
import { jobProgress } from "@shoal/manager";
import type { Control } from "../client.js";
import { serviceTasks } from "../list.js";

const MODE_NAMES: Record<string, string> = {
  replicated: "replicated",
  global: "global",
  replicatedJob: "replicated job",
  globalJob: "global job",
};

/** "replicated", "global", "replicated job" or "global job", as Swarm names them. */
export function modeName(service: Service): string {
  return MODE_NAMES[service.spec?.mode?.$case ?? "replicated"] ?? "replicated";
}

export function outcomeName(outcome: JobRunOutcome): string {
  return (JobRunOutcome[outcome] ?? "").toLowerCase();
}

/** The run of `service` with iteration `iteration` (the current one by default). */
export function currentRun(service: Service, iteration?: number): JobRun | undefined {
  const want = iteration ?? service.jobStatus?.jobIteration?.index ?? 0;
  return service.jobStatus?.runs.find((r) => r.iteration?.index === want);
}

/** `service inspect --pretty`: the job's iteration and its latest runs, newest first. */
export function jobStatusLines(service: Service): string[] {
  const status = service.jobStatus;
  if (status === undefined) return [];
  const lines = ["JobStatus:", ` Iteration:\t${status.jobIteration?.index ?? 0}`];
  if (status.lastExecution) lines.push(` Last execution:\t${status.lastExecution.toISOString()}`);
  if (status.runs.length > 0) lines.push(" Runs:");
  for (const r of [...status.runs].reverse()) {
    const finished = r.finishedAt ? `, finished ${r.finishedAt.toISOString()}` : "";
    const tick = r.scheduledFor ? `, for the tick ${r.scheduledFor.toISOString()}` : "";
    lines.push(
      `  ${r.iteration?.index ?? 0}: ${outcomeName(r.outcome)} (${r.succeeded} completed, ${r.failed} failed), ` +
        `started ${r.startedAt?.toISOString() ?? ""}${tick}${finished}`,
    );
  }
  return lines;
}

/**
 * Waits until the job's run `iteration` finishes, printing "job progress: 4 out of 10 complete"
 * as it goes; throws when the run failed or was replaced.
 */
export async function waitJobRun(
  control: Pick<Control, "call">,
  serviceId: string,
  iteration: number,
  out: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  intervalMs = 300,
): Promise<void> {
  const tty = out.isTTY === true;
  let last = "";
  for (;;) {
    const { service } = await control.call("getService", { serviceId });
    const tasks = await serviceTasks(control, serviceId);
    const run = currentRun(service!, iteration);
    const p = jobProgress(service!, tasks);
    const line = p ? `job progress: ${p.completed} out of ${p.total} complete, ${p.running} running` : "";
    if (line !== last && line !== "") {
      out.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      last = line;
    }
    if (run !== undefined && run.outcome !== JobRunOutcome.RUNNING) {
      if (tty) out.write("\n");
      if (run.outcome === JobRunOutcome.SUCCEEDED) {
        out.write("job complete\n");
        return;
      }
      const failed = tasks.filter((t) => t.jobIteration?.index === iteration && t.status?.err).at(-1);
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `job run ${iteration} ${outcomeName(run.outcome)}` + (failed ? `: ${failed.status!.err}` : ""),
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
