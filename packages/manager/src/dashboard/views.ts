// The store's objects as the dashboard's API shows them (packages/dashboard/src/api.ts): plain
// JSON, enums as the CLI prints them (lower case), times as RFC 3339. Written once, for /state and
// for the watch's changes alike.
import {
  HealthState,
  NodeAvailability,
  NodeRole,
  NodeState,
  PortProtocol,
  Reachability,
  TaskState,
  UpdateState,
  type Node,
  type Service,
  type Task,
} from "@shoal/shared";
import type { NodeView, ServiceView, TaskView } from "./dashboard-package.js";

const lower = (name: string | undefined): string => (name ?? "").toLowerCase();
const iso = (d: Date | undefined): string => d?.toISOString() ?? "";
const num = (n: number | bigint | undefined): number => Number(n ?? 0);

export function nodeView(n: Node): NodeView {
  const role = n.role === NodeRole.MANAGER ? "manager" : "worker";
  const ms = n.managerStatus;
  let managerStatus = "";
  if (ms) {
    managerStatus = ms.leader ? "leader" : ms.reachability === Reachability.REACHABLE ? "reachable" : "unreachable";
  }
  const res = n.description?.resources;
  return {
    id: n.id,
    hostname: n.description?.hostname ?? "",
    role,
    status: lower(NodeState[n.status?.state ?? NodeState.UNKNOWN]),
    availability: lower(NodeAvailability[n.spec?.availability ?? NodeAvailability.ACTIVE]),
    managerStatus,
    addr: n.status?.addr ?? "",
    engineVersion: n.description?.engine?.engineVersion ?? "",
    labels: { ...(n.spec?.annotations?.labels ?? {}) },
    resources: { nanoCpus: num(res?.nanoCpus), memoryBytes: num(res?.memoryBytes) },
    version: num(n.meta?.version?.index),
  };
}

const MODES: Record<string, string> = {
  replicated: "replicated",
  global: "global",
  replicatedJob: "replicated-job",
  globalJob: "global-job",
};

export function serviceView(s: Service): ServiceView {
  const mode = s.spec?.mode;
  const update = s.updateStatus;
  const ports = (s.endpoint?.ports.length ? s.endpoint.ports : (s.spec?.endpoint?.ports ?? [])).map(
    (p) => `${p.publishedPort}:${p.targetPort}/${lower(PortProtocol[p.protocol])}`,
  );
  return {
    id: s.id,
    name: s.spec?.annotations?.name ?? "",
    mode: MODES[mode?.$case ?? "replicated"] ?? "replicated",
    ...(mode?.$case === "replicated" ? { replicas: num(mode.value.replicas) } : {}),
    ...(mode?.$case === "replicatedJob" ? { replicas: num(mode.value.totalCompletions) } : {}),
    image: s.spec?.taskTemplate?.container?.image ?? "",
    labels: { ...(s.spec?.annotations?.labels ?? {}) },
    ...(update && update.state !== UpdateState.UNKNOWN
      ? { updateStatus: { state: lower(UpdateState[update.state]), message: update.message } }
      : {}),
    ports,
    createdAt: iso(s.meta?.createdAt),
    updatedAt: iso(s.meta?.updatedAt),
    version: num(s.meta?.version?.index),
  };
}

/** The health as `docker ps` shows it: empty without a health check. */
function healthName(h: HealthState | undefined): string {
  return h === HealthState.HEALTHY || h === HealthState.UNHEALTHY || h === HealthState.STARTING
    ? lower(HealthState[h])
    : "";
}

/** Whether the dashboard shows the task: the system wants it running, or it has not ended yet. */
export function isCurrentTask(t: Task): boolean {
  return t.desiredState <= TaskState.RUNNING || (t.status?.state ?? TaskState.NEW) < TaskState.COMPLETE;
}

/** `serviceName` names a task that has no name of its own (SERVICE.SLOT or SERVICE.NODEID). */
export function taskView(t: Task, serviceName = ""): TaskView {
  const service = t.serviceAnnotations?.name || serviceName;
  const name = t.annotations?.name || `${service}.${t.slot > 0 ? String(t.slot) : t.nodeId}`;
  const reserved = t.spec?.resources?.reservations;
  return {
    id: t.id,
    serviceId: t.serviceId,
    name,
    slot: num(t.slot),
    nodeId: t.nodeId,
    desiredState: lower(TaskState[t.desiredState]),
    state: lower(TaskState[t.status?.state ?? TaskState.NEW]),
    health: healthName(t.status?.health),
    message: t.status?.message ?? "",
    error: t.status?.err ?? "",
    containerId: t.status?.containerStatus?.containerId ?? "",
    image: t.spec?.container?.image ?? "",
    since: iso(t.status?.timestamp),
    reserved: { nanoCpus: num(reserved?.nanoCpus), memoryBytes: num(reserved?.memoryBytes) },
    version: num(t.meta?.version?.index),
  };
}
