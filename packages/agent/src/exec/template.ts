// Swarm's templates in a task's container spec, expanded on the agent for each task, as SwarmKit's
// template.ExpandContainerSpec does: the hostname, the values of the env entries and the sources
// and targets of the mounts. The task handed to the executor is the expanded one.
import {
  ErrorCode,
  expandTemplate,
  TemplateError,
  type ContainerSpec,
  type NodeDescription,
  type Task,
  type TemplateContext,
} from "@shoal/shared";
import { ExecError, ExecErrorReason } from "./errors.js";
import { containerName, serviceName } from "./task-name.js";

/** What the agent knows of its node: its id and what it described of itself. */
export interface TemplateNode {
  readonly id: string;
  readonly description?: NodeDescription | undefined;
}

/** SwarmKit's template context of `task` on `node`. */
export function templateContext(task: Task, node: TemplateNode | undefined): TemplateContext {
  const nodeId = task.nodeId || node?.id || "";
  return {
    service: { id: task.serviceId, name: serviceName(task), labels: task.serviceAnnotations?.labels ?? {} },
    node: {
      id: nodeId,
      hostname: node?.description?.hostname ?? "",
      platform: {
        os: node?.description?.platform?.os ?? "",
        architecture: node?.description?.platform?.architecture ?? "",
      },
    },
    // As SwarmKit: a global task (no slot) has its node id for a slot.
    task: { id: task.id, name: containerName(task), slot: task.slot > 0 ? String(task.slot) : nodeId },
  };
}

/**
 * `task` with the templates of its container spec expanded for `node`; the task itself when it
 * has none. A template that cannot be expanded (the Control API refuses them, so only an older
 * manager's task) is an invalid spec.
 */
export function expandTaskTemplates(task: Task, node: TemplateNode | undefined): Task {
  const c = task.spec?.container;
  if (c === undefined || !hasTemplate(c)) return task;
  const context = templateContext(task, node);
  const expand = (value: string, field: string): string => {
    try {
      return expandTemplate(value, context);
    } catch (err: unknown) {
      if (!(err instanceof TemplateError)) throw err;
      const message = `task ${task.id}: expanding ${field}: ${err.message}`;
      throw new ExecError(ErrorCode.InvalidArgument, ExecErrorReason.InvalidSpec, message);
    }
  };
  const container: ContainerSpec = {
    ...c,
    hostname: expand(c.hostname, "hostname"),
    env: c.env.map((e, i) => {
      const eq = e.indexOf("=");
      return eq === -1 ? e : `${e.slice(0, eq + 1)}${expand(e.slice(eq + 1), `env[${i}]`)}`;
    }),
    mounts: c.mounts.map((m, i) => ({
      ...m,
      source: expand(m.source, `mounts[${i}].source`),
      target: expand(m.target, `mounts[${i}].target`),
    })),
  };
  return { ...task, spec: { ...task.spec!, container } };
}

function hasTemplate(c: ContainerSpec): boolean {
  const strings = [c.hostname, ...c.env, ...c.mounts.flatMap((m) => [m.source, m.target])];
  return strings.some((s) => s.includes("{{"));
}
