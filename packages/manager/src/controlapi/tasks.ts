// Control API: tasks (read only: the orchestrators and the agents write them).
import type {
  GetTaskRequest,
  GetTaskResponse,
  ListTasksRequest,
  ListTasksResponse,
  Task,
  TaskFilters,
} from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import { resolveRef } from "./resolve.js";

export function matchesTaskFilters(task: Task, filters: TaskFilters | undefined): boolean {
  if (!filters) return true;
  if (filters.idPrefixes.length > 0 && !filters.idPrefixes.some((p) => task.id.startsWith(p))) return false;
  if (filters.serviceIds.length > 0 && !filters.serviceIds.includes(task.serviceId)) return false;
  if (filters.nodeIds.length > 0 && !filters.nodeIds.includes(task.nodeId)) return false;
  if (filters.desiredStates.length > 0 && !filters.desiredStates.includes(task.desiredState)) return false;
  return true;
}

export function listTasks(store: MemoryStore, req: ListTasksRequest): ListTasksResponse {
  const filters = req.filters;
  const tasks = store.view((tx) => {
    // Use the service index when the filter names exactly one service.
    const candidates =
      filters?.serviceIds.length === 1 ? tx.tasks.find({ serviceId: filters.serviceIds[0]! }) : tx.tasks.find();
    return candidates.filter((t) => matchesTaskFilters(t, filters));
  });
  tasks.sort((a, b) => a.serviceId.localeCompare(b.serviceId) || a.slot - b.slot || a.nodeId.localeCompare(b.nodeId));
  return { tasks };
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
