// Whole task and node lists for the commands, read from the manager page by page (see
// listAllTasks in @shoal/shared), in the order the commands show them.
import { listAllNodes, listAllTasks, type Node, type NodeFilters, type Task, type TaskFilters } from "@shoal/shared";
import type { Control } from "./client.js";

type Calls = Pick<Control, "call">;

/** Every task matching `filters`, by service, slot and node. */
export function allTasks(control: Calls, filters?: TaskFilters): Promise<Task[]> {
  return listAllTasks((req) => control.call("listTasks", req), filters);
}

/** Every task of one service, or of every service when `serviceId` is undefined or "". */
export function serviceTasks(control: Calls, serviceId: string | undefined): Promise<Task[]> {
  return allTasks(control, {
    idPrefixes: [],
    serviceIds: serviceId ? [serviceId] : [],
    nodeIds: [],
    desiredStates: [],
  });
}

/** Every node matching `filters`, by hostname. */
export function allNodes(control: Calls, filters?: NodeFilters): Promise<Node[]> {
  return listAllNodes((req) => control.call("listNodes", req), filters);
}
