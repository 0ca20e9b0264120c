// A container as a docker CLI user names it, found among the task records: its id, its name
// (`/web.1.TASKID`, with or without the slash), the task's id or name (`web.1`, `web.NODEID`: the
// task with a container, the running one first), or a unique prefix of the container's or task's id.
// Used where the Docker API needs the task itself (logs); the Containers service resolves the calls
// it serves on the leader.
import { ErrorCode, InvalidArgumentError, ShoalError, TaskState, containerName, type Task } from "@shoal/shared";

/** Docker's answer for an unknown container (404). */
export function noSuchContainer(ref: string): ShoalError {
  return new ShoalError(ErrorCode.NotFound, `No such container: ${ref}`);
}

/** Any NOT_FOUND becomes Docker's "No such container: REF"; other errors stay as they are. */
export function asNoSuchContainer(err: unknown, ref: string): unknown {
  return err instanceof ShoalError && err.code === ErrorCode.NotFound ? noSuchContainer(ref) : err;
}

const containerId = (t: Task): string => t.status?.containerStatus?.containerId ?? "";

/** `SERVICE.SLOT` (or `SERVICE.NODEID` for a global task): the name without the task id. */
function taskName(t: Task): string {
  const name = containerName(t);
  return name.slice(0, name.length - t.id.length - 1);
}

/** Newest first, a running task before any other. */
function byPreference(a: Task, b: Task): number {
  const running = (t: Task): number => (t.status?.state === TaskState.RUNNING ? 1 : 0);
  return running(b) - running(a) || (b.meta?.createdAt?.getTime() ?? 0) - (a.meta?.createdAt?.getTime() ?? 0);
}

/** The task whose container `ref` names; NOT_FOUND ("No such container: REF") when none. */
export function findTaskContainer(tasks: readonly Task[], ref: string): Task {
  const withContainer = tasks.filter((t) => containerId(t) !== "");
  const name = ref.startsWith("/") ? ref.slice(1) : ref;
  const exact =
    withContainer.find((t) => containerId(t) === ref) ??
    withContainer.find((t) => containerName(t) === name || t.id === ref) ??
    withContainer.filter((t) => taskName(t) === name).sort(byPreference)[0];
  if (exact) return exact;
  if (ref !== "") {
    const byPrefix = withContainer.filter((t) => containerId(t).startsWith(ref) || t.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) {
      throw new InvalidArgumentError(`multiple containers found with the prefix ${ref}`, { field: "id" });
    }
  }
  throw noSuchContainer(ref);
}
