// GET /containers/json: every task container of the cluster, as Docker's ContainerSummary, built
// from the task records (one ListTasks and one ListNodes; nothing is asked of the agents), so that
// `docker ps` stays fast with thousands of tasks. A task is listed once its agent reported its
// container. The node is in the labels (com.docker.swarm.node.id, com.shoal.node.hostname): names
// stay the container's own, so the name finds the container.
import {
  humanDuration,
  HealthState,
  InvalidArgumentError,
  PortProtocol,
  TaskState,
  containerName,
  serviceName,
  type Task,
} from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { allNodes, allTasks } from "./control-calls.js";
import { matchesLabels, matchesPrefix, parseFilters, type Filters } from "./filters.js";
import { isTrue } from "./nodes.js";
import type { Handler } from "./router.js";

/** The label that names the node's hostname on a listed container (Swarm has only the node id). */
export const NODE_HOSTNAME_LABEL = "com.shoal.node.hostname";

const CONTAINER_FILTERS = ["id", "name", "label", "status", "exited", "health", "ancestor", "is-task", "node"];
const STATUSES = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];
const HEALTHS = ["starting", "healthy", "unhealthy", "none"];

/** Docker's container state for a task with a container: created, running or exited. */
export function containerState(task: Task): "created" | "running" | "exited" {
  const state = task.status?.state ?? TaskState.NEW;
  if (state < TaskState.RUNNING) return "created";
  return state === TaskState.RUNNING ? "running" : "exited";
}

const HEALTH_SUFFIX: Partial<Record<HealthState, string>> = {
  [HealthState.STARTING]: " (health: starting)",
  [HealthState.HEALTHY]: " (healthy)",
  [HealthState.UNHEALTHY]: " (unhealthy)",
};

/** Docker's Status column: "Up 3 minutes (healthy)", "Exited (1) 2 hours ago", "Created". */
export function containerStatus(task: Task, now: number): string {
  const since = now - (task.status?.timestamp?.getTime() ?? now);
  switch (containerState(task)) {
    case "created":
      return "Created";
    case "running":
      return `Up ${humanDuration(since)}${HEALTH_SUFFIX[task.status?.health ?? HealthState.UNKNOWN] ?? ""}`;
    default:
      return `Exited (${task.status?.containerStatus?.exitCode ?? 0}) ${humanDuration(since)} ago`;
  }
}

/** Docker's health filter value for a task. */
function healthName(task: Task): string {
  switch (task.status?.health) {
    case HealthState.STARTING:
      return "starting";
    case HealthState.HEALTHY:
      return "healthy";
    case HealthState.UNHEALTHY:
      return "unhealthy";
    default:
      return "none";
  }
}

/** The labels of a task's container: the spec's, Swarm's and the agent's own (com.shoal.*). */
export function containerLabels(task: Task, hostname: string): Record<string, string> {
  return {
    ...task.spec?.container?.labels,
    "com.docker.swarm.node.id": task.nodeId,
    "com.docker.swarm.service.id": task.serviceId,
    "com.docker.swarm.service.name": serviceName(task),
    "com.docker.swarm.task": "",
    "com.docker.swarm.task.id": task.id,
    "com.docker.swarm.task.name": containerName(task),
    "com.shoal.task.id": task.id,
    "com.shoal.service.id": task.serviceId,
    "com.shoal.service.name": serviceName(task),
    "com.shoal.node.id": task.nodeId,
    "com.shoal.slot": String(task.slot),
    [NODE_HOSTNAME_LABEL]: hostname,
  };
}

/** The command line Docker shows: the spec's entrypoint and arguments (the image's are not known here). */
function commandLine(task: Task): string {
  const c = task.spec?.container;
  return [...(c?.command ?? []), ...(c?.args ?? [])].join(" ");
}

/** One task's container as Docker's ContainerSummary. */
export function toContainerSummary(task: Task, hostname: string, now: number): Record<string, unknown> {
  const ports = task.status?.portStatus?.ports ?? [];
  return {
    Id: task.status?.containerStatus?.containerId ?? "",
    Names: [`/${containerName(task)}`],
    Image: task.spec?.container?.image ?? "",
    ImageID: "",
    Command: commandLine(task),
    Created: Math.floor((task.meta?.createdAt?.getTime() ?? 0) / 1000),
    Ports: ports.map((p) => ({
      IP: "0.0.0.0",
      PrivatePort: p.targetPort,
      ...(p.publishedPort ? { PublicPort: p.publishedPort } : {}),
      Type: p.protocol === PortProtocol.UDP ? "udp" : "tcp",
    })),
    Labels: containerLabels(task, hostname),
    State: containerState(task),
    Status: containerStatus(task, now),
    HostConfig: { NetworkMode: "default" },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

function matchesAny(wanted: readonly string[] | undefined, test: (w: string) => boolean): boolean {
  return !wanted || wanted.some(test);
}

/** Docker's name filter: a regular expression on the name, with or without its leading "/". */
function nameMatches(name: string, pattern: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return name.includes(pattern);
  }
  return re.test(`/${name}`) || re.test(name);
}

/** Checks the filter values that have a fixed set (before anything is listed). */
export function checkContainerFilters(f: Filters): void {
  for (const s of f.get("status") ?? []) {
    if (!STATUSES.includes(s)) throw new InvalidArgumentError(`invalid filter 'status=${s}'`, { field: "filters" });
  }
  for (const h of f.get("health") ?? []) {
    if (!HEALTHS.includes(h)) throw new InvalidArgumentError(`invalid filter 'health=${h}'`, { field: "filters" });
  }
  for (const e of f.get("exited") ?? []) {
    if (!/^-?\d+$/.test(e)) throw new InvalidArgumentError(`invalid filter 'exited=${e}'`, { field: "filters" });
  }
  for (const t of f.get("is-task") ?? []) {
    if (t !== "true" && t !== "false") {
      throw new InvalidArgumentError(`invalid filter 'is-task=${t}'`, { field: "filters" });
    }
  }
}

/** Whether a task's container is listed: `all` or running, and every filter matches. */
export function matchesContainer(task: Task, hostname: string, f: Filters, all: boolean): boolean {
  const id = task.status?.containerStatus?.containerId ?? "";
  if (id === "") return false;
  const state = containerState(task);
  // Without `all` only running containers, unless a status filter asks for others (as Docker).
  if (!all && !f.has("status") && state !== "running") return false;
  const exited = f.get("exited");
  return (
    matchesPrefix(id, f.get("id")) &&
    matchesAny(f.get("name"), (n) => nameMatches(containerName(task), n)) &&
    (!f.has("label") || matchesLabels(containerLabels(task, hostname), f.get("label"))) &&
    matchesAny(f.get("status"), (s) => s === state) &&
    (!exited || (state === "exited" && exited.includes(String(task.status?.containerStatus?.exitCode ?? 0)))) &&
    matchesAny(f.get("health"), (h) => h === healthName(task)) &&
    matchesAny(f.get("ancestor"), (a) => (task.spec?.container?.image ?? "").startsWith(a)) &&
    matchesAny(f.get("is-task"), (t) => t === "true") &&
    matchesAny(f.get("node"), (n) => task.nodeId.startsWith(n) || hostname === n)
  );
}

/** The listed containers, newest first (as `docker ps`), at most `limit` when it is positive. */
export function listContainers(
  tasks: readonly Task[],
  hostnames: ReadonlyMap<string, string>,
  f: Filters,
  options: { all: boolean; limit: number; now: number },
): Record<string, unknown>[] {
  const found = tasks.filter((t) => matchesContainer(t, hostnames.get(t.nodeId) ?? "", f, options.all));
  found.sort((a, b) => (b.meta?.createdAt?.getTime() ?? 0) - (a.meta?.createdAt?.getTime() ?? 0));
  const shown = options.limit > 0 ? found.slice(0, options.limit) : found;
  return shown.map((t) => toContainerSummary(t, hostnames.get(t.nodeId) ?? "", options.now));
}

function limitParam(raw: string | null): number {
  if (raw === null || raw === "") return -1;
  if (!/^-?\d+$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a number`, { field: "limit" });
  return Number(raw);
}

export function listContainersHandler(ctx: DockerApiContext): Handler {
  return async (req) => {
    const f = parseFilters(req.query.get("filters"), CONTAINER_FILTERS);
    checkContainerFilters(f);
    const limit = limitParam(req.query.get("limit"));
    const all = isTrue(req.query.get("all")) || limit > 0;
    const [tasks, nodes] = await Promise.all([allTasks(ctx.control, undefined), allNodes(ctx.control)]);
    const hostnames = new Map(nodes.map((n) => [n.id, n.description?.hostname ?? ""]));
    return { status: 200, json: listContainers(tasks, hostnames, f, { all, limit, now: ctx.clock.now() }) };
  };
}
