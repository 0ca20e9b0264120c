// One step of a task's life: given the task (its status and desired state) and its controller,
// do what the current state calls for and return the next status. The runner calls it again
// with the new status until the outcome is "noop" (nothing to do until the desired state
// changes) and backs off on "retry". After SwarmKit's exec.Do, for our states:
//
//   NEW/PENDING/ASSIGNED -> ACCEPTED -> PREPARING --prepare--> STARTING --start--> RUNNING
//   RUNNING --wait--> COMPLETE, or FAILED (exit code, OOM, unhealthy)
//   desired SHUTDOWN (or REMOVE) -> shutdown -> SHUTDOWN, from any non-terminal state
//
// A state never moves backwards. PREPARING and RUNNING proceed whatever the desired state (up to
// SHUTDOWN); the other steps only happen while the desired state is beyond the current one, so
// STARTING is where a task waits to be started (SwarmKit's READY). A fatal error ends the task:
// REJECTED before it starts (prepare failed: bad image, bad spec), FAILED from STARTING on. A
// temporary error (daemon unreachable, aborted) keeps the state, records the error and asks for
// a retry.
import {
  HealthState,
  TaskState,
  errorMessage,
  systemClock,
  type Clock,
  type ContainerStatus,
  type Task,
  type TaskStatus,
} from "@shoal/shared";
import { TaskExitError, isTemporary } from "./errors.js";
import type { Controller } from "./executor.js";

/** What the step did: moved the task on, had nothing to do, or hit a temporary error. */
export type StepOutcome = "advanced" | "noop" | "retry";

export interface StepResult {
  readonly status: TaskStatus;
  readonly outcome: StepOutcome;
  /** The error behind a "retry", or behind a FAILED/REJECTED status. */
  readonly error?: unknown;
}

/** Runs one state step of `task` with `controller`. Never throws for the controller's errors. */
export async function doTask(
  task: Task,
  controller: Controller,
  signal?: AbortSignal,
  clock: Clock = systemClock,
): Promise<StepResult> {
  const current: TaskStatus = task.status ?? emptyStatus();
  const status: TaskStatus = {
    ...current,
    containerStatus: current.containerStatus === undefined ? undefined : { ...current.containerStatus },
  };
  let exitCode: number | undefined;

  const finish = async (outcome: StepOutcome, error?: unknown): Promise<StepResult> => {
    if (outcome !== "noop" && status.state >= TaskState.STARTING) await observeContainer(status, controller, signal);
    if (exitCode !== undefined) status.containerStatus = { ...containerStatusOrEmpty(status), exitCode };
    if (changed(current, status)) status.timestamp = new Date(clock.now());
    return error === undefined ? { status, outcome } : { status, outcome, error };
  };
  const noop = (): StepResult => ({ status: current, outcome: "noop" });
  const transition = (state: TaskState, message: string): Promise<StepResult> => {
    if (state <= current.state)
      throw new RangeError(`task ${task.id}: no going back from ${current.state} to ${state}`);
    status.state = state;
    status.message = message;
    status.err = "";
    return finish("advanced");
  };
  const fatal = (err: unknown): Promise<StepResult> => {
    status.err = errorMessage(err);
    if (signal?.aborted === true || isTemporary(err)) return finish("retry", err);
    if (err instanceof TaskExitError) exitCode = err.exitCode;
    status.state = current.state < TaskState.STARTING ? TaskState.REJECTED : TaskState.FAILED;
    return finish("advanced", err);
  };

  // The agent never takes a task beyond SHUTDOWN: the manager removes it.
  if (task.desiredState >= TaskState.SHUTDOWN) {
    if (current.state >= TaskState.COMPLETE) return noop();
    try {
      await controller.shutdown(signal);
    } catch (err: unknown) {
      return fatal(err);
    }
    return transition(TaskState.SHUTDOWN, "shutdown");
  }

  if (current.state > task.desiredState) return noop();

  // Steps that proceed whatever the desired state.
  switch (current.state) {
    case TaskState.PREPARING:
      try {
        await controller.prepare(signal);
      } catch (err: unknown) {
        return fatal(err);
      }
      return transition(TaskState.STARTING, "prepared");
    case TaskState.RUNNING:
      try {
        const exit = await controller.wait(signal);
        exitCode = exit.exitCode;
      } catch (err: unknown) {
        return fatal(err);
      }
      return transition(TaskState.COMPLETE, "finished");
  }

  // Steps that wait for the desired state to be beyond the current one.
  if (current.state >= task.desiredState) return noop();

  switch (current.state) {
    case TaskState.NEW:
    case TaskState.PENDING:
    case TaskState.ASSIGNED:
      return transition(TaskState.ACCEPTED, "accepted");
    case TaskState.ACCEPTED:
      return transition(TaskState.PREPARING, "preparing");
    case TaskState.STARTING:
      try {
        await controller.start(signal);
      } catch (err: unknown) {
        return fatal(err);
      }
      return transition(TaskState.RUNNING, "started");
    default:
      return noop(); // terminal
  }
}

function emptyStatus(): TaskStatus {
  return {
    timestamp: undefined,
    state: TaskState.NEW,
    message: "",
    err: "",
    containerStatus: undefined,
    health: HealthState.UNKNOWN,
    portStatus: undefined,
  };
}

function containerStatusOrEmpty(status: TaskStatus): ContainerStatus {
  return status.containerStatus ?? { containerId: "", pid: 0, exitCode: 0 };
}

/** Fills the container id, pid, exit code and health from the container, when it can be seen. */
async function observeContainer(status: TaskStatus, controller: Controller, signal?: AbortSignal): Promise<void> {
  let snapshot;
  try {
    snapshot = await controller.inspect(signal);
  } catch {
    return; // the status is still worth reporting without these
  }
  if (snapshot === undefined) return;
  status.containerStatus = {
    containerId: snapshot.containerId,
    pid: snapshot.pid,
    exitCode: snapshot.running ? 0 : snapshot.exitCode,
  };
  status.health = snapshot.health;
}

function changed(a: TaskStatus, b: TaskStatus): boolean {
  return (
    a.state !== b.state ||
    a.message !== b.message ||
    a.err !== b.err ||
    a.health !== b.health ||
    a.containerStatus?.containerId !== b.containerStatus?.containerId ||
    a.containerStatus?.exitCode !== b.containerStatus?.exitCode ||
    a.containerStatus?.pid !== b.containerStatus?.pid
  );
}
