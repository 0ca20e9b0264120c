// The tasks table: by id, by service, by node, by slot (service id + slot) and by desired state.
// Tasks of one service share their spec and service annotations in memory (see intern.ts).
import { Task, type Annotations, type TaskSpec, type TaskState } from "@shoal/shared";
import { FieldInterner } from "./intern.js";
import { nonEmpty, ownDate, ownMetaDates, type BaseQuery } from "./query.js";
import { Table, type Lookup, type TableSchema } from "./table.js";

export interface TaskQuery extends BaseQuery {
  readonly serviceId?: string | undefined;
  /** "" finds the tasks not assigned to a node yet. */
  readonly nodeId?: string | undefined;
  /** The tasks of one slot of a replicated service (the current one and its history). */
  readonly slot?: { readonly serviceId: string; readonly slot: number } | undefined;
  readonly desiredState?: TaskState | undefined;
  /** Task names ("web.3") starting with this. Scans the candidates. */
  readonly namePrefix?: string | undefined;
}

export function taskName(task: Task): string | undefined {
  return nonEmpty(task.annotations?.name);
}

function slotKey(serviceId: string, slot: number): string {
  return `${serviceId}\u0000${slot}`;
}

export function copyTask(task: Task): Task {
  const copy = Task.fromPartial(task);
  ownMetaDates(copy.meta);
  if (copy.status !== undefined) copy.status.timestamp = ownDate(copy.status.timestamp);
  return copy;
}

export const taskSchema: TableSchema<Task, TaskQuery> = {
  table: "tasks",
  kind: "task",
  indexes: [
    { name: "serviceId", key: (t) => t.serviceId },
    { name: "nodeId", key: (t) => t.nodeId },
    { name: "slot", key: (t) => (t.slot === 0 ? undefined : slotKey(t.serviceId, t.slot)) },
    { name: "desiredState", key: (t) => t.desiredState },
  ],
  copy: copyTask,
  lookups(q) {
    const out: Lookup[] = [];
    if (q.slot !== undefined) out.push({ index: "slot", key: slotKey(q.slot.serviceId, q.slot.slot) });
    if (q.serviceId !== undefined) out.push({ index: "serviceId", key: q.serviceId });
    if (q.nodeId !== undefined) out.push({ index: "nodeId", key: q.nodeId });
    if (q.desiredState !== undefined) out.push({ index: "desiredState", key: q.desiredState });
    return out;
  },
  matches(t, q) {
    if (q.idPrefix !== undefined && !t.id.startsWith(q.idPrefix)) return false;
    if (q.serviceId !== undefined && t.serviceId !== q.serviceId) return false;
    if (q.nodeId !== undefined && t.nodeId !== q.nodeId) return false;
    if (q.slot !== undefined && (t.serviceId !== q.slot.serviceId || t.slot !== q.slot.slot)) return false;
    if (q.desiredState !== undefined && t.desiredState !== q.desiredState) return false;
    if (q.namePrefix !== undefined && !(taskName(t) ?? "").startsWith(q.namePrefix)) return false;
    return true;
  },
};

/** Tasks made from the same service spec version normally hold equal specs and service annotations. */
function specKey(t: Task): string | undefined {
  return t.serviceId === "" ? undefined : `${t.serviceId}\u0000${t.specVersion?.index ?? 0}`;
}

export function createTaskTable(): Table<Task, TaskQuery> {
  return new Table(taskSchema, [
    new FieldInterner<Task, TaskSpec>({ key: specKey, get: (t) => t.spec, set: (t, v) => (t.spec = v) }),
    new FieldInterner<Task, Annotations>({
      key: specKey,
      get: (t) => t.serviceAnnotations,
      set: (t, v) => (t.serviceAnnotations = v),
    }),
  ]);
}
