// Tasks for executor tests.
import { Task, TaskState, type DeepPartial } from "@shoal/shared";

let counter = 0;

/** A replicated task of service "web" in slot 1, assigned to node "node-1", desired RUNNING. */
export function makeTask(overrides: DeepPartial<Task> = {}): Task {
  counter++;
  return Task.fromPartial({
    id: `task${String(counter).padStart(4, "0")}`,
    serviceId: "svc1",
    slot: 1,
    nodeId: "node-1",
    serviceAnnotations: { name: "web" },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
    spec: { container: { image: "shoal-base:1", args: ["sleep", "60"] } },
    ...overrides,
  } as DeepPartial<Task>);
}

/** The same task with another status state (and optionally desired state). */
export function withState(task: Task, state: TaskState, desiredState: TaskState = task.desiredState): Task {
  return { ...task, desiredState, status: { ...task.status!, state } };
}
