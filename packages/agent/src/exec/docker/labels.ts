// How a task's container is labelled. The labels are how an executor finds its
// containers again (after an agent restart) and how its event stream picks them out.
import type { Task } from "@shoal/shared";
import { serviceName } from "../task-name.js";

export const TaskLabel = {
  taskId: "com.shoal.task.id",
  serviceId: "com.shoal.service.id",
  serviceName: "com.shoal.service.name",
  nodeId: "com.shoal.node.id",
  slot: "com.shoal.slot",
} as const;

/** The labels the agent sets on a task's container, on top of the spec's own (which cannot override them). */
export function taskLabels(task: Task): Record<string, string> {
  return {
    [TaskLabel.taskId]: task.id,
    [TaskLabel.serviceId]: task.serviceId,
    [TaskLabel.serviceName]: serviceName(task),
    [TaskLabel.nodeId]: task.nodeId,
    [TaskLabel.slot]: String(task.slot),
  };
}
