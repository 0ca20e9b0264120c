// What a container's snapshot means for a controller's start and wait steps. Shared by the
// Docker controller and its fake twin so that both decide alike; pure functions.
import { ErrorCode, HealthState } from "@shoal/shared";
import { ExecError, ExecErrorReason, TaskExitError, type ContainerUnhealthyError } from "./errors.js";
import type { ContainerSnapshot, ExitStatus } from "./executor.js";

/**
 * After the start call: "started" once the container runs (healthy, when it has a health check)
 * or has already exited (wait reports how); "unhealthy" to stop it and fail; "waiting" for the
 * health check to pass.
 */
export function startProgress(now: ContainerSnapshot): "started" | "unhealthy" | "waiting" {
  if (!now.running) return "started";
  switch (now.health) {
    case HealthState.HEALTHY:
    case HealthState.NONE:
      return "started";
    case HealthState.UNHEALTHY:
      return "unhealthy";
    default:
      return "waiting";
  }
}

export type WaitProgress =
  | { readonly kind: "exited"; readonly exit: ExitStatus }
  | { readonly kind: "failed"; readonly error: ExecError }
  /** The health check failed: stop the container, then keep waiting for its exit. */
  | { readonly kind: "stop-unhealthy" }
  | { readonly kind: "waiting" };

export interface WaitContext {
  /** Set once the controller stopped the container for being unhealthy. */
  readonly unhealthy?: ContainerUnhealthyError | undefined;
  /** The exit code of the last die event, for a container removed before it was inspected. */
  readonly lastExitCode?: number | undefined;
  readonly oomSeen?: boolean;
}

export function waitProgress(now: ContainerSnapshot | undefined, context: WaitContext = {}): WaitProgress {
  const { unhealthy } = context;
  if (now === undefined) {
    if (context.lastExitCode !== undefined && context.lastExitCode !== 0) {
      const error = new TaskExitError(context.lastExitCode, context.oomSeen === true, { why: "container removed" });
      return { kind: "failed", error };
    }
    return { kind: "failed", error: containerGone("wait") };
  }
  switch (now.state) {
    case "created":
      return {
        kind: "failed",
        error: new ExecError(ErrorCode.FailedPrecondition, ExecErrorReason.ContainerState, "container not started"),
      };
    case "exited":
    case "dead":
      if (now.exitCode !== 0 || now.oomKilled) {
        const why = unhealthy === undefined ? {} : { why: unhealthy.message };
        // The daemon may record OOMKilled a moment after the exit; the oom event tells it too.
        const oom = now.oomKilled || context.oomSeen === true;
        return { kind: "failed", error: new TaskExitError(now.exitCode, oom, why) };
      }
      if (unhealthy !== undefined) return { kind: "failed", error: unhealthy };
      return { kind: "exited", exit: { exitCode: 0, oomKilled: false } };
    default:
      if (now.health === HealthState.UNHEALTHY && unhealthy === undefined) return { kind: "stop-unhealthy" };
      return { kind: "waiting" };
  }
}

export function containerGone(step: string, name = "the task's container"): ExecError {
  return new ExecError(
    ErrorCode.NotFound,
    ExecErrorReason.ContainerGone,
    `${step}: ${name} does not exist (removed, or never created)`,
  );
}

export function controllerClosed(): ExecError {
  return new ExecError(ErrorCode.Cancelled, ExecErrorReason.Aborted, "controller closed", { temporary: true });
}
