// Store changes as operators' events: pure functions from a change of a service, task, node,
// secret or config to an Event that names the object and lists the fields that matter (a task's
// state and node, a node's status and availability, a service's replicas, image and update state,
// a secret's or config's labels: never its data). An update that changes none of them is no event:
// a task's status message or a node's heartbeat-time fields do not flood the stream.
import {
  EventAction,
  EventType,
  HealthState,
  NodeAvailability,
  NodeRole,
  NodeState,
  TaskState,
  UpdateState,
  type Event,
  type FieldChange,
  type Config,
  type Network,
  type Node,
  type Secret,
  type Service,
  type Task,
} from "@shoal/shared";
import type { ObjectEvent, TableName } from "../state/store/index.js";

/** The tables events are made of. */
export const EVENT_TABLES = [
  "services",
  "tasks",
  "nodes",
  "secrets",
  "configs",
  "networks",
] as const satisfies readonly TableName[];

const enumText = (names: Record<number, string>, value: number): string =>
  (names[value] ?? String(value)).toLowerCase();

type Fields<T> = ReadonlyArray<readonly [field: string, read: (o: T) => string]>;

const SERVICE_FIELDS: Fields<Service> = [
  [
    "replicas",
    (s) => (s.spec?.mode?.$case === "replicated" ? String(s.spec.mode.value.replicas) : s.spec?.mode ? "global" : ""),
  ],
  ["image", (s) => s.spec?.taskTemplate?.container?.image ?? ""],
  ["spec_version", (s) => String(s.specVersion?.index ?? 0)],
  ["update_state", (s) => (s.updateStatus ? enumText(UpdateState, s.updateStatus.state) : "")],
];

const TASK_FIELDS: Fields<Task> = [
  ["state", (t) => enumText(TaskState, t.status?.state ?? TaskState.NEW)],
  ["desired_state", (t) => enumText(TaskState, t.desiredState)],
  ["node_id", (t) => t.nodeId],
  ["health", (t) => (t.status?.health ? enumText(HealthState, t.status.health) : "")],
  ["error", (t) => t.status?.err ?? ""],
];

const NODE_FIELDS: Fields<Node> = [
  ["status", (n) => enumText(NodeState, n.status?.state ?? NodeState.UNKNOWN)],
  ["availability", (n) => enumText(NodeAvailability, n.spec?.availability ?? NodeAvailability.ACTIVE)],
  ["role", (n) => enumText(NodeRole, n.role)],
  ["leader", (n) => (n.managerStatus ? String(n.managerStatus.leader) : "")],
];

/** A secret's or a config's labels, as one field (the data is never read). */
const LABEL_FIELDS: Fields<Secret | Config> = [
  [
    "labels",
    (o) =>
      Object.entries(o.spec?.annotations?.labels ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
  ],
];

function changes<T>(fields: Fields<T>, object: T, old: T | undefined): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [field, read] of fields) {
    const now = read(object);
    const before = old === undefined ? "" : read(old);
    if (now !== before) out.push({ field, old: before, new: now });
  }
  return out;
}

/**
 * Whether an update of `object` (from `old`) changes a field that makes an event. Reads the
 * store's own objects (it serves as a watch `peek`): it never changes or keeps them.
 */
export function isEventWorthy(table: TableName, object: unknown, old: unknown): boolean {
  if (old === undefined) return table !== "clusters";
  switch (table) {
    case "services":
      return SERVICE_FIELDS.some(([, read]) => read(object as Service) !== read(old as Service));
    case "tasks":
      return TASK_FIELDS.some(([, read]) => read(object as Task) !== read(old as Task));
    case "nodes":
      return NODE_FIELDS.some(([, read]) => read(object as Node) !== read(old as Node));
    case "secrets":
    case "configs":
      return LABEL_FIELDS.some(([, read]) => read(object as Secret) !== read(old as Secret));
    default:
      return false;
  }
}

const ACTIONS = { create: EventAction.CREATE, update: EventAction.UPDATE, delete: EventAction.REMOVE } as const;

function taskName(task: Task): string {
  const service = task.serviceAnnotations?.name || task.serviceId;
  return task.slot > 0 ? `${service}.${task.slot}` : `${service}.${task.nodeId}`;
}

/**
 * The event for one store change; undefined for clusters, and for an update that changes nothing
 * that matters. `now` dates removals (a removed object's meta tells when it was last written).
 */
export function toClusterEvent(change: ObjectEvent, now: Date): Event | undefined {
  const action = ACTIONS[change.kind];
  const old = change.kind === "update" ? change.oldObject : undefined;
  const time = change.kind === "delete" ? now : (change.object.meta?.updatedAt ?? now);
  const base = { action, id: change.object.id, time, index: change.index };
  switch (change.table) {
    case "services": {
      const s = change.object;
      const list = change.kind === "delete" ? [] : changes(SERVICE_FIELDS, s, old as Service | undefined);
      if (change.kind === "update" && list.length === 0) return undefined;
      return { ...base, type: EventType.SERVICE, name: s.spec?.annotations?.name ?? "", changes: list, attributes: {} };
    }
    case "tasks": {
      const t = change.object;
      const list = change.kind === "delete" ? [] : changes(TASK_FIELDS, t, old as Task | undefined);
      if (change.kind === "update" && list.length === 0) return undefined;
      const attributes: Record<string, string> = { service_id: t.serviceId };
      if (t.nodeId) attributes["node_id"] = t.nodeId;
      if (t.slot > 0) attributes["slot"] = String(t.slot);
      const containerId = t.status?.containerStatus?.containerId;
      if (containerId) attributes["container_id"] = containerId;
      if (t.status?.message) attributes["message"] = t.status.message;
      return { ...base, type: EventType.TASK, name: taskName(t), changes: list, attributes };
    }
    case "nodes": {
      const n = change.object;
      const list = change.kind === "delete" ? [] : changes(NODE_FIELDS, n, old as Node | undefined);
      if (change.kind === "update" && list.length === 0) return undefined;
      const attributes: Record<string, string> = {};
      if (n.status?.addr) attributes["addr"] = n.status.addr;
      if (n.status?.message) attributes["message"] = n.status.message;
      return {
        ...base,
        type: EventType.NODE,
        name: n.description?.hostname ?? n.spec?.annotations?.name ?? "",
        changes: list,
        attributes,
      };
    }
    case "secrets":
    case "configs": {
      const o = change.object;
      const list = change.kind === "delete" ? [] : changes(LABEL_FIELDS, o, old as Secret | Config | undefined);
      if (change.kind === "update" && list.length === 0) return undefined;
      const type = change.table === "secrets" ? EventType.SECRET : EventType.CONFIG;
      return { ...base, type, name: o.spec?.annotations?.name ?? "", changes: list, attributes: {} };
    }
    case "networks":
      return change.kind === "update" ? undefined : networkEvent(base, change.object);
    default:
      return undefined;
  }
}

/** A network is made and removed, never changed: its events name its subnet and VNI. */
function networkEvent(base: Omit<Event, "type" | "name" | "changes" | "attributes">, n: Network): Event {
  const attributes: Record<string, string> = { vni: String(n.vni) };
  const subnet = n.ipam?.configs[0]?.subnet;
  if (subnet) attributes["subnet"] = subnet;
  return { ...base, type: EventType.NETWORK, name: n.spec?.annotations?.name ?? "", changes: [], attributes };
}
