// Errors of the executor. Each says whether it is temporary (try the same step again later: the
// daemon restarts, a request timed out) or fatal for the task (the task ends FAILED or REJECTED
// with this message and the manager decides what to do next, usually a new task).
import { ErrorCode, ShoalError, type ShoalErrorOptions } from "@shoal/shared";

/** What went wrong, in the executor's terms; stable, for tests and metrics. */
export const ExecErrorReason = {
  /** The image could not be pulled: not found, bad name, registry refused or unreachable. */
  ImagePull: "image-pull",
  /** The task's spec cannot be turned into a container (bad name, bad value). */
  InvalidSpec: "invalid-spec",
  /** The container's process ended with a non-zero code. */
  Exit: "exit",
  /** The kernel killed the container for going over its memory limit. */
  OutOfMemory: "oom",
  /** The container's health check failed its retries. */
  Unhealthy: "unhealthy",
  /** The container went away (removed by someone else) or was never started. */
  ContainerGone: "container-gone",
  /** The container is in a state the step cannot work with. */
  ContainerState: "container-state",
  /** The Docker daemon could not be reached, or did not answer in time. */
  DaemonUnavailable: "daemon-unavailable",
  /** The daemon refused the request for another reason. */
  Daemon: "daemon",
  /** The caller aborted the operation. */
  Aborted: "aborted",
  /** A secret or config of the task is not on the node, or cannot be made a file here. */
  TaskFiles: "task-files",
  /** The task's networks are not set up on the host (no data plane, or not in time). */
  Network: "network",
} as const;
export type ExecErrorReason = (typeof ExecErrorReason)[keyof typeof ExecErrorReason];

export interface ExecErrorOptions extends ShoalErrorOptions {
  /** True when trying the same step again later may succeed; default false (fatal). */
  readonly temporary?: boolean;
}

export class ExecError extends ShoalError {
  readonly reason: ExecErrorReason;
  readonly temporary: boolean;

  constructor(code: ErrorCode, reason: ExecErrorReason, message: string, options: ExecErrorOptions = {}) {
    super(code, message, options);
    this.reason = reason;
    this.temporary = options.temporary ?? false;
  }
}

/** The task's process ended on its own with a non-zero code, or was killed for memory. */
export class TaskExitError extends ExecError {
  readonly exitCode: number;
  readonly oomKilled: boolean;

  constructor(exitCode: number, oomKilled: boolean, options: ShoalErrorOptions & { readonly why?: string } = {}) {
    const base = oomKilled
      ? `task: killed for going over its memory limit (OOM), exit (${exitCode})`
      : `task: non-zero exit (${exitCode})`;
    super(
      ErrorCode.FailedPrecondition,
      oomKilled ? ExecErrorReason.OutOfMemory : ExecErrorReason.Exit,
      options.why === undefined ? base : `${base}: ${options.why}`,
      { ...options, details: { exitCode, oomKilled, ...options.details } },
    );
    this.exitCode = exitCode;
    this.oomKilled = oomKilled;
  }
}

/** Pulling the task's image failed; `message` is Docker's own. Fatal: the task is rejected. */
export class ImagePullError extends ExecError {
  constructor(
    readonly image: string,
    dockerMessage: string,
    options: ShoalErrorOptions = {},
  ) {
    super(ErrorCode.NotFound, ExecErrorReason.ImagePull, `pulling image ${image}: ${dockerMessage}`, {
      ...options,
      details: { image, ...options.details },
    });
  }
}

/** The health check reported the container unhealthy; the controller stops it. */
export class ContainerUnhealthyError extends ExecError {
  constructor(options: ShoalErrorOptions = {}) {
    super(ErrorCode.FailedPrecondition, ExecErrorReason.Unhealthy, "container unhealthy", options);
  }
}

/** The daemon could not be reached or did not answer in time. Temporary. */
export class DaemonUnavailableError extends ExecError {
  constructor(message: string, options: ShoalErrorOptions = {}) {
    super(ErrorCode.Unavailable, ExecErrorReason.DaemonUnavailable, message, { ...options, temporary: true });
  }
}

/** True when retrying the same step later may succeed. Unknown errors are fatal, as in swarmkit. */
export function isTemporary(err: unknown): boolean {
  return err instanceof ExecError && err.temporary;
}

/** The exit code carried by an error, when it has one. */
export function exitCodeOf(err: unknown): number | undefined {
  return err instanceof TaskExitError ? err.exitCode : undefined;
}
