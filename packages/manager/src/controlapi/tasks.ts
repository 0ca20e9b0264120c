// Control API: tasks (read only: the orchestrators and the agents write them).
import {
  Task,
  compareTasksBySlot,
  type GetTaskRequest,
  type GetTaskResponse,
  type ListTasksRequest,
  type ListTasksResponse,
  type TaskFilters,
} from "@shoal/shared";
import type { MemoryStore, TaskQuery } from "../state/store/index.js";
import { pageSpec, takePage } from "./paging.js";
import { resolveRef } from "./resolve.js";

export function matchesTaskFilters(task: Task, filters: TaskFilters | undefined): boolean {
  if (!filters) return true;
  if (filters.idPrefixes.length > 0 && !filters.idPrefixes.some((p) => task.id.startsWith(p))) return false;
  if (filters.serviceIds.length > 0 && !filters.serviceIds.includes(task.serviceId)) return false;
  if (filters.nodeIds.length > 0 && !filters.nodeIds.includes(task.nodeId)) return false;
  if (filters.desiredStates.length > 0 && !filters.desiredStates.includes(task.desiredState)) return false;
  return true;
}

/**
 * A page of the tasks that match the filters, in order of id (see paging.ts); a request without
 * page fields (a client from before paging) gets them all, by service, slot and node as it did.
 */
export function listTasks(store: MemoryStore, req: ListTasksRequest): ListTasksResponse {
  const page = pageSpec(req, "task");
  const filters = req.filters;
  if (page === undefined) {
    const all = store.view((tx) => tx.tasks.find(indexedQuery(filters)).filter((t) => matchesTaskFilters(t, filters)));
    return { tasks: all.sort(compareTasksBySlot) };
  }
  const { items, nextPageToken } = store.view((tx) =>
    takePage(store, "task", page, {
      matches: () => tx.tasks.scan(indexedQuery(filters)).filter((t) => matchesTaskFilters(t, filters)),
      get: (id) => {
        const t = tx.tasks.get(id);
        return t !== undefined && matchesTaskFilters(t, filters) ? t : undefined;
      },
      encodedSize: (t) => Task.encode(t).finish().length,
    }),
  );
  return { tasks: items, nextPageToken };
}

/** The filters the store's indexes can narrow (a field with one value); the rest are checked after. */
function indexedQuery(filters: TaskFilters | undefined): TaskQuery {
  const one = <T>(values: readonly T[] | undefined): T | undefined => (values?.length === 1 ? values[0] : undefined);
  return {
    serviceId: one(filters?.serviceIds),
    nodeId: one(filters?.nodeIds),
    desiredState: one(filters?.desiredStates),
  };
}

export function getTask(store: MemoryStore, req: GetTaskRequest): GetTaskResponse {
  return {
    task: store.view((tx) =>
      resolveRef(
        "task",
        req.taskId,
        (id) => tx.tasks.get(id),
        () => undefined,
        (prefix) => tx.tasks.find({ idPrefix: prefix }),
      ),
    ),
  };
}
