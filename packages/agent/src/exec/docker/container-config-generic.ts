// The generic resources the scheduler gave a task (GPUs, ...) reach its container as Swarm hands
// them over (SwarmKit's genericresource.EnvFormat with the prefix DOCKER_RESOURCE):
// DOCKER_RESOURCE_<KIND upper-cased>=<the named units, comma-separated> or =<the count>.
import { resourceKind, resourceValue, type Task } from "@shoal/shared";

const PREFIX = "DOCKER_RESOURCE";

/** `DOCKER_RESOURCE_GPU=GPU-a,GPU-b` entries for the task's assigned resources, kinds in order. */
export function genericResourceEnv(task: Task): string[] {
  const byKind = new Map<string, string[]>();
  for (const r of task.assignedGenericResources) {
    const kind = resourceKind(r);
    const values = byKind.get(kind);
    if (values === undefined) byKind.set(kind, [resourceValue(r)]);
    else values.push(resourceValue(r));
  }
  return [...byKind].map(([kind, values]) => `${`${PREFIX}_${kind}`.toUpperCase()}=${values.join(",")}`);
}
