// Which task container a container call means: ContainerCallOpen.container as a task id, a task
// name (SERVICE.SLOT, SERVICE.SLOT.TASKID, SERVICE.NODEID, SERVICE.NODEID.TASKID, as Docker
// Swarm names task containers), or a container id or a unique prefix of one, tried in that order.
// A slot or a node of a service names its current task: the one that should run, else the newest.
// Pure: a read transaction in, the task out, or a ShoalError.
import { ErrorCode, InvalidArgumentError, ShoalError, TaskState, type Task } from "@shoal/shared";
import type { ReadTx } from "../state/store/index.js";

/** The container of a task, as the leader hands it to the node's agent. */
export interface ContainerTarget {
  readonly task: Task;
  readonly containerId: string;
  readonly nodeId: string;
  readonly serviceId: string;
  /** SERVICE.SLOT or SERVICE.NODEID. */
  readonly taskName: string;
}

/** Candidates an ambiguous prefix names at most, in its message. */
const MAX_CANDIDATES = 5;

export class NoSuchContainerError extends ShoalError {
  constructor(readonly ref: string) {
    super(ErrorCode.NotFound, `no such container: ${ref}`);
  }
}

/** SERVICE.SLOT or SERVICE.NODEID, as events and `shoal task ps` name a task. */
export function taskDisplayName(task: Task): string {
  const service = task.serviceAnnotations?.name || task.serviceId;
  return `${service}.${task.slot > 0 ? task.slot : task.nodeId}`;
}

export function containerIdOf(task: Task): string {
  return task.status?.containerStatus?.containerId ?? "";
}

/** The task container `ref` names; NOT_FOUND if none (or its task has no container yet). */
export function resolveContainer(tx: ReadTx, ref: string): ContainerTarget {
  if (ref === "") throw new InvalidArgumentError("names no container", { field: "open.container" });
  const task = tx.tasks.get(ref) ?? byName(tx, ref) ?? byContainerId(tx, ref);
  const containerId = task ? containerIdOf(task) : "";
  if (!task || containerId === "" || task.nodeId === "") throw new NoSuchContainerError(ref);
  return { task, containerId, nodeId: task.nodeId, serviceId: task.serviceId, taskName: taskDisplayName(task) };
}

/** SERVICE.POSITION or SERVICE.POSITION.TASKID (a service name may hold dots: read from the right). */
function byName(tx: ReadTx, ref: string): Task | undefined {
  const parts = ref.split(".");
  if (parts.length >= 3) {
    const task = tx.tasks.get(parts.at(-1)!);
    if (task && matches(tx, task, parts.slice(0, -2).join("."), parts.at(-2)!)) return task;
  }
  if (parts.length < 2) return undefined;
  const position = parts.at(-1)!;
  const service = serviceIdOf(tx, parts.slice(0, -1).join("."));
  if (service === undefined || position === "") return undefined;
  const candidates = /^[1-9]\d*$/.test(position)
    ? tx.tasks.find({ slot: { serviceId: service, slot: Number(position) } })
    : tx.tasks.find({ serviceId: service, nodeId: position }).filter((t) => t.slot === 0);
  return current(candidates);
}

function serviceIdOf(tx: ReadTx, name: string): string | undefined {
  return tx.services.find({ name })[0]?.id ?? tx.services.get(name)?.id;
}

function matches(tx: ReadTx, task: Task, service: string, position: string): boolean {
  if (serviceIdOf(tx, service) !== task.serviceId) return false;
  return task.slot > 0 ? String(task.slot) === position : task.nodeId === position;
}

/** The task that should run, else the newest. */
function current(tasks: readonly Task[]): Task | undefined {
  const running = tasks.filter((t) => t.desiredState === TaskState.RUNNING);
  const pool = running.length > 0 ? running : tasks;
  const created = (t: Task): number => t.meta?.createdAt?.getTime() ?? 0;
  return [...pool].sort((a, b) => created(b) - created(a) || b.id.localeCompare(a.id))[0];
}

function byContainerId(tx: ReadTx, ref: string): Task | undefined {
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const found = tx.tasks.find().filter((t) => containerIdOf(t).startsWith(ref));
  const byId = new Map(found.map((t) => [containerIdOf(t), t]));
  if (byId.size > 1) {
    const named = [...byId].slice(0, MAX_CANDIDATES).map(([id, t]) => `${id.slice(0, 12)} (${taskDisplayName(t)})`);
    const more = byId.size > MAX_CANDIDATES ? ` and ${byId.size - MAX_CANDIDATES} more` : "";
    throw new InvalidArgumentError(`"${ref}" is the prefix of several containers: ${named.join(", ")}${more}`, {
      field: "open.container",
    });
  }
  // One container may have been reported by several tasks' histories: the current one.
  return current(found);
}
