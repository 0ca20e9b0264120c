// What the cluster shows, for the checker: services and tasks as the leader lists them (reads are
// linearizable), and the containers that each agent host's own dockerd runs.
import { TaskState } from "@shoal/shared";
import type { Host } from "../harness/index.js";
import { checkTasks, checkWrites, type ContainerView, type ServiceView, type TaskView } from "./checker.js";
import type { FailoverCluster } from "./cluster.js";
import type { History } from "./history.js";
import { replicasOf } from "./writer.js";

export interface Observed {
  readonly services: ServiceView[];
  readonly tasks: TaskView[];
  readonly containers: ContainerView[];
}

const LABELS = ["com.shoal.service.id", "com.shoal.slot", "com.shoal.task.id"];

/** Running Shoal containers on a host, as its dockerd lists them. */
export async function containersOn(host: Host): Promise<ContainerView[]> {
  if (!host.dockerdRunning) return [];
  const format = `{{.ID}} ${LABELS.map((l) => `{{.Label "${l}"}}`).join(" ")}`;
  const out = await host.docker(["ps", "--no-trunc", "--filter", "label=com.shoal.task.id", "--format", format], {
    timeoutMs: 15_000,
  });
  return out.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", serviceId = "", slot = "", taskId = ""] = line.split(" ");
      return { host: host.name, id, serviceId, slot, taskId };
    });
}

export async function observe(cluster: FailoverCluster): Promise<Observed> {
  const leader = (await cluster.leader()).addr;
  const { services } = await cluster.control.call(
    leader,
    "listServices",
    { filters: undefined, includeStatus: false },
    10_000,
  );
  const { tasks } = await cluster.control.call(leader, "listTasks", { filters: undefined }, 10_000);
  const containers = (await Promise.all(cluster.agentHosts.map((h) => containersOn(h)))).flat();
  return {
    services: services.map((s) => ({ id: s.id, name: s.spec?.annotations?.name ?? "", replicas: replicasOf(s) ?? 0 })),
    tasks: tasks.map((t) => ({
      id: t.id,
      serviceId: t.serviceId,
      slot: t.slot,
      nodeId: t.nodeId,
      running: t.desiredState === TaskState.RUNNING && t.status?.state === TaskState.RUNNING,
    })),
    containers,
  };
}

/** The writes' violations against what the cluster holds now (services named `<prefix>-*`). */
export function writeViolations(history: History, observed: Observed, prefix: string): string[] {
  const mine = new Map(
    observed.services.filter((s) => s.name.startsWith(`${prefix}-`)).map((s) => [s.name, s.replicas] as const),
  );
  const violations = checkWrites(history.records, mine);
  const written = new Set(history.records.map((r) => r.service));
  for (const name of mine.keys()) if (!written.has(name)) violations.push(`${name}: exists, but was never written`);
  return violations;
}

/**
 * Polls until the tasks and containers match the specs (and the writes hold), or the deadline
 * passes; returns the violations left (none when the cluster converged).
 */
export async function settle(
  cluster: FailoverCluster,
  check: (o: Observed) => string[] = () => [],
  timeoutMs = 60_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let violations: string[] = ["nothing observed"];
  while (Date.now() < deadline) {
    try {
      const o = await observe(cluster);
      violations = [...check(o), ...checkTasks(o.services, o.tasks, o.containers)];
      if (violations.length === 0) return [];
    } catch (err: unknown) {
      violations = [`cannot observe the cluster: ${String(err)}`];
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return violations;
}
