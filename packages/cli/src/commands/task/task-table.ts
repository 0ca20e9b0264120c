// `shoal task ps`: the cluster's task containers as `docker ps` lists them, plus the node each
// runs on, from the manager's tasks (ListTasks); and the --filter flags that pick them.
import { containerName } from "@shoal/agent";
import { InvalidArgumentError, PortProtocol, PublishMode, TaskState, type Node, type Task } from "@shoal/shared";
import { formatTable } from "../../output/table.js";

/** One task container, as the ps table and --json show it. */
export interface TaskContainer {
  containerId: string;
  name: string;
  image: string;
  command: string;
  created: string;
  /** Docker's container state: created, running or exited. */
  state: string;
  /** "Up 5 minutes", "Exited (0) 3 minutes ago", as docker ps. */
  status: string;
  ports: string;
  node: string;
  nodeId: string;
  taskId: string;
  serviceId: string;
  serviceName: string;
  labels: Record<string, string>;
}

/** go-units HumanDuration, as docker ps prints ages. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

function dockerState(state: TaskState | undefined): string {
  if (state === TaskState.RUNNING) return "running";
  return (state ?? 0) > TaskState.RUNNING ? "exited" : "created";
}

function statusText(task: Task, now: number): string {
  const since = now - (task.status?.timestamp?.getTime() ?? now);
  switch (dockerState(task.status?.state)) {
    case "running":
      return `Up ${humanDuration(since)}`;
    case "exited":
      return `Exited (${task.status?.containerStatus?.exitCode ?? 0}) ${humanDuration(since)} ago`;
    default:
      return "Created";
  }
}

function portsText(task: Task): string {
  return (task.status?.portStatus?.ports ?? [])
    .filter((p) => p.publishMode === PublishMode.HOST && p.publishedPort > 0)
    .map((p) => `0.0.0.0:${p.publishedPort}->${p.targetPort}/${p.protocol === PortProtocol.UDP ? "udp" : "tcp"}`)
    .join(", ");
}

/** The task's containers (tasks that have one), newest first. */
export function taskContainers(tasks: readonly Task[], nodes: ReadonlyMap<string, Node>, now: number): TaskContainer[] {
  return tasks
    .filter((t) => (t.status?.containerStatus?.containerId ?? "") !== "")
    .sort((a, b) => (b.meta?.createdAt?.getTime() ?? 0) - (a.meta?.createdAt?.getTime() ?? 0))
    .map((t) => {
      const c = t.spec?.container;
      const created = t.meta?.createdAt;
      return {
        containerId: t.status!.containerStatus!.containerId,
        name: containerName(t),
        image: c?.image ?? "",
        command: [...(c?.command ?? []), ...(c?.args ?? [])].join(" "),
        created: created ? `${humanDuration(now - created.getTime())} ago` : "",
        state: dockerState(t.status?.state),
        status: statusText(t, now),
        ports: portsText(t),
        node: nodes.get(t.nodeId)?.description?.hostname ?? t.nodeId,
        nodeId: t.nodeId,
        taskId: t.id,
        serviceId: t.serviceId,
        serviceName: t.serviceAnnotations?.name ?? "",
        labels: { ...c?.labels, "com.shoal.task.id": t.id, "com.shoal.service.name": t.serviceAnnotations?.name ?? "" },
      };
    });
}

const FILTER_KEYS = ["id", "name", "label", "status", "node", "service"] as const;
export type TaskFilter = { key: (typeof FILTER_KEYS)[number]; value: string };

/** --filter KEY=VALUE values, checked: id, name, label, status, node, service. */
export function parseTaskFilters(values: readonly string[]): TaskFilter[] {
  return values.map((v) => {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (eq < 0 || !(FILTER_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`invalid filter "${v}": use KEY=VALUE with KEY one of ${FILTER_KEYS.join(", ")}`, {
        field: "--filter",
      });
    }
    const value = v.slice(eq + 1);
    if (key === "status" && !["created", "running", "exited"].includes(value)) {
      throw new InvalidArgumentError(`invalid filter "${v}": status is created, running or exited`, {
        field: "--filter",
      });
    }
    return { key: key as TaskFilter["key"], value };
  });
}

function matches(c: TaskContainer, f: TaskFilter): boolean {
  switch (f.key) {
    case "id":
      return c.containerId.startsWith(f.value) || c.taskId.startsWith(f.value);
    case "name":
      return c.name.includes(f.value);
    case "label": {
      const eq = f.value.indexOf("=");
      return eq < 0 ? f.value in c.labels : c.labels[f.value.slice(0, eq)] === f.value.slice(eq + 1);
    }
    case "status":
      return c.state === f.value;
    case "node":
      return c.node === f.value || c.nodeId.startsWith(f.value);
    case "service":
      return c.serviceName === f.value || c.serviceId.startsWith(f.value);
  }
}

/**
 * The containers `task ps` shows: running ones (all with `all` or a status filter); filters of one
 * key are alternatives (any matches), different keys all apply, as docker ps filters.
 */
export function selectContainers(
  containers: readonly TaskContainer[],
  filters: readonly TaskFilter[],
  all: boolean,
): TaskContainer[] {
  const byKey = new Map<string, TaskFilter[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f]);
  const everyState = all || byKey.has("status");
  return containers.filter(
    (c) => (everyState || c.state === "running") && [...byKey.values()].every((fs) => fs.some((f) => matches(c, f))),
  );
}

/** "abc…" as docker truncates a column to `width` characters. */
export function ellipsis(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join("")}…`;
}

export function psTable(containers: readonly TaskContainer[]): string {
  return formatTable(
    ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "NODE"],
    containers.map((c) => [
      c.containerId.slice(0, 12),
      c.image,
      JSON.stringify(ellipsis(c.command, 20)),
      c.created,
      c.status,
      c.ports,
      c.name,
      c.node,
    ]),
  );
}

/** The containers as `task ps --json` prints them (labels left out). */
export function psJson(containers: readonly TaskContainer[]): string {
  return `${JSON.stringify(
    containers.map(({ labels: _labels, ...rest }) => rest),
    null,
    2,
  )}\n`;
}
