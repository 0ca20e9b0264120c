// Following a rollout from the command line: poll the service and its tasks, print the progress
// per slot (redrawn in place on a terminal, changed lines only otherwise) until the rollout
// converges, pauses or rolls back. A manager that is briefly unavailable (a leader change) is
// retried; the rollout itself goes on in the cluster whatever happens here.
import { ErrorCode, ShoalError, isShoalError, type Service, type Task, type UpdateStatus } from "@shoal/shared";
import type { Control } from "../client.js";
import { updateStateName } from "../output/json.js";
import {
  overallLine,
  rolloutProgress,
  slotLines,
  type Baseline,
  type RolloutProgress,
} from "../output/rollout-progress.js";
import { serviceTasks } from "../list.js";

export interface FollowOptions {
  /** The service read before the request: a different update status is this rollout's. */
  readonly baseline: Baseline;
  readonly mode: "update" | "rollback";
  readonly out?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly intervalMs?: number;
  /** How long managers may fail to answer in a row before giving up. */
  readonly unavailableMs?: number;
}

export const TRANSIENT: readonly string[] = [ErrorCode.Unavailable, ErrorCode.NotLeader, ErrorCode.DeadlineExceeded];

export async function read(
  control: Pick<Control, "call">,
  serviceId: string,
): Promise<{ service: Service; tasks: Task[] }> {
  const { service } = await control.call("getService", { serviceId });
  const tasks = await serviceTasks(control, serviceId);
  return { service: service!, tasks };
}

/** The manager's message, and the error of the last failed task when it has one. */
function withFailure(status: UpdateStatus | undefined, progress: RolloutProgress): string {
  const message = status?.message ?? "";
  return progress.lastFailure ? `${message}; last failure: ${progress.lastFailure}` : message;
}

/** Prints the progress of a rollout until it ends; throws when it pauses or rolls back. */
export async function followRollout(
  control: Pick<Control, "call">,
  serviceId: string,
  options: FollowOptions,
): Promise<void> {
  const out = options.out ?? process.stderr;
  const tty = out.isTTY === true;
  const interval = options.intervalMs ?? 300;
  let drawn: string[] = [];
  let header = "";
  let failingSince: number | undefined;
  for (;;) {
    let progress: RolloutProgress;
    try {
      const { service, tasks } = await read(control, serviceId);
      failingSince = undefined;
      progress = rolloutProgress(service, tasks, options.baseline, options.mode);
    } catch (err: unknown) {
      if (!isShoalError(err) || !TRANSIENT.includes(err.code)) throw err;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > (options.unavailableMs ?? 30_000)) throw err;
      await new Promise((r) => setTimeout(r, interval));
      continue;
    }
    const status = progress.status;
    const rollingBack = status !== undefined && updateStateName(status.state).startsWith("rollback");
    const nextHeader = rollingBack ? `rollback: ${status.message || "rolling back"}` : "";
    if (nextHeader !== header && nextHeader !== "") {
      if (tty) drawn = [];
      out.write(`${tty ? "\n" : ""}${nextHeader}\n`);
    }
    header = nextHeader;
    const lines = [overallLine(progress), ...slotLines(progress)];
    if (tty) {
      // Move up over what was drawn, then redraw every line.
      const up = drawn.length > 0 ? `\x1b[${drawn.length}A` : "";
      out.write(`${up}${lines.map((l) => `\r\x1b[K${l}\n`).join("")}`);
    } else {
      for (const [i, l] of lines.entries()) if (drawn[i] !== l) out.write(`${l}\n`);
    }
    drawn = lines;
    switch (progress.outcome) {
      case "converged":
        out.write("verify: Service converged\n");
        return;
      case "paused":
        throw new ShoalError(ErrorCode.FailedPrecondition, `update paused: ${withFailure(status, progress)}`, {
          details: { serviceId, state: "paused" },
        });
      case "rollback-paused":
        throw new ShoalError(ErrorCode.FailedPrecondition, `rollback paused: ${withFailure(status, progress)}`, {
          details: { serviceId, state: "rollback_paused" },
        });
      case "rolled-back":
        throw new ShoalError(
          ErrorCode.FailedPrecondition,
          `service rolled back: ${withFailure(status, progress) || "the update failed"}`,
          { details: { serviceId, state: "rollback_completed" } },
        );
      case "following":
        await new Promise((r) => setTimeout(r, interval));
    }
  }
}
