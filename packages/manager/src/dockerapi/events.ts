// GET /events: the cluster's events (this manager's Events API) as Docker's event stream, one JSON
// message per event. A task container's start and end are container events ("start", "die"),
// as `docker stats` and `docker events` expect them; an exec is the container's "exec_start";
// services, nodes, secrets, configs and networks are swarm-scope events as Swarm sends them.
import {
  ErrorCode,
  EventAction,
  EventType,
  InvalidArgumentError,
  ShoalError,
  whenWritable,
  type Event,
  type Timer,
} from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { parseFilters, type Filters } from "./filters.js";
import type { DockerRequest, Handler, Reply } from "./router.js";

/** Docker's event message (api/types/events.Message). */
export interface DockerEvent {
  readonly status?: string;
  readonly id?: string;
  readonly from?: string;
  readonly Type: string;
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes: Readonly<Record<string, string>> };
  readonly scope: "local" | "swarm";
  readonly time: number;
  readonly timeNano: number;
}

/** How long after `until` (or after the history, for an `until` already past) the stream ends. */
const UNTIL_GRACE_MS = 1000;
const FILTERS = ["type", "event", "container", "service", "node", "scope"];
const TERMINAL = new Set(["complete", "shutdown", "failed", "rejected", "remove", "orphaned"]);
const SWARM_TYPES: Partial<Record<EventType, string>> = {
  [EventType.SERVICE]: "service",
  [EventType.NODE]: "node",
  [EventType.SECRET]: "secret",
  [EventType.CONFIG]: "config",
  [EventType.NETWORK]: "network",
};

function times(e: Event): { time: number; timeNano: number } {
  const ms = e.time?.getTime() ?? 0;
  return { time: Math.floor(ms / 1000), timeNano: ms * 1e6 };
}

/** The container event of a task event, when its container started or ended. */
function containerEvent(e: Event): DockerEvent | undefined {
  const id = e.attributes["container_id"];
  if (!id) return undefined;
  const state = e.changes.find((c) => c.field === "state");
  let action: string | undefined;
  if (e.type === EventType.EXEC) action = `exec_start: ${e.attributes["cmd"] ?? ""}`;
  else if (state?.new === "running") action = "start";
  else if (state && TERMINAL.has(state.new) && !TERMINAL.has(state.old)) action = "die";
  if (!action) return undefined;
  const attributes: Record<string, string> = {
    name: `${e.name}.${e.attributes["task_id"] ?? e.id}`,
    "com.docker.swarm.task.id": e.attributes["task_id"] ?? e.id,
    "com.docker.swarm.task.name": e.name,
    "com.docker.swarm.service.id": e.attributes["service_id"] ?? "",
    "com.docker.swarm.node.id": e.attributes["node_id"] ?? "",
  };
  return {
    status: action,
    id,
    from: "",
    Type: "container",
    Action: action,
    Actor: { ID: id, Attributes: attributes },
    scope: "local",
    ...times(e),
  };
}

function swarmEvent(e: Event, type: string): DockerEvent {
  const attributes: Record<string, string> = { name: e.name };
  for (const c of e.changes) {
    attributes[`${c.field}.old`] = c.old;
    attributes[`${c.field}.new`] = c.new;
  }
  const action = (EventAction[e.action] ?? "update").toLowerCase();
  return { Type: type, Action: action, Actor: { ID: e.id, Attributes: attributes }, scope: "swarm", ...times(e) };
}

/** The Docker event of a cluster event, or undefined when Docker has none for it. */
export function dockerEvent(e: Event): DockerEvent | undefined {
  if (e.type === EventType.TASK) {
    e = { ...e, attributes: { ...e.attributes, task_id: e.id } };
    return containerEvent(e);
  }
  if (e.type === EventType.EXEC) return containerEvent(e);
  const type = SWARM_TYPES[e.type];
  return type ? swarmEvent(e, type) : undefined;
}

export function matchesEvent(m: DockerEvent, filters: Filters): boolean {
  const has = (key: string, value: string): boolean => filters.get(key)?.includes(value) ?? true;
  const any = (key: string, values: readonly string[]): boolean =>
    filters.get(key)?.some((v) => values.includes(v)) ?? true;
  const attrs = m.Actor.Attributes;
  return (
    has("type", m.Type) &&
    has("scope", m.scope) &&
    any("event", [m.Action, m.Action.split(":")[0]!]) &&
    (!filters.has("container") ||
      (m.Type === "container" &&
        filters.get("container")!.some((v) => m.Actor.ID.startsWith(v) || attrs["name"] === v))) &&
    any("service", [
      attrs["com.docker.swarm.service.id"] ?? "",
      ...(m.Type === "service" ? [m.Actor.ID, attrs["name"] ?? ""] : []),
    ]) &&
    any("node", [
      attrs["com.docker.swarm.node.id"] ?? "",
      ...(m.Type === "node" ? [m.Actor.ID, attrs["name"] ?? ""] : []),
    ])
  );
}

/** `since`/`until`: seconds since the epoch (fractions allowed); undefined when absent. */
function timeParam(raw: string | null, field: string): Date | undefined {
  if (raw === null || raw === "") return undefined;
  if (!/^\d+(\.\d{1,9})?$/.test(raw)) {
    throw new InvalidArgumentError(`"${raw}" is not a time in seconds since the epoch`, { field });
  }
  return new Date(Number(raw) * 1000);
}

export function eventsHandler(ctx: DockerApiContext): Handler {
  return async (req: DockerRequest): Promise<Reply> => {
    const filters = parseFilters(req.query.get("filters"), FILTERS);
    const since = timeParam(req.query.get("since"), "since");
    const until = timeParam(req.query.get("until"), "until");
    if (!ctx.events) throw new ShoalError(ErrorCode.Unavailable, "this manager does not serve events");
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    req.signal.addEventListener("abort", stop, { once: true });
    // With `until`, the stream ends then; an `until` already past ends it once the history is
    // sent, which comes at once: when nothing more came for UNTIL_GRACE_MS.
    let untilTimer: Timer | undefined;
    const endAtUntil = (): void => {
      if (!until) return;
      untilTimer?.cancel();
      untilTimer = ctx.clock.setTimeout(stop, Math.max(0, until.getTime() - ctx.clock.now()) + UNTIL_GRACE_MS);
    };
    endAtUntil();
    req.res.writeHead(200, { "Content-Type": "application/json" });
    req.res.flushHeaders();
    try {
      for await (const batch of ctx.events.watch(since, abort.signal)) {
        endAtUntil();
        for (const e of batch) {
          if (until && e.time && e.time > until) return "streamed";
          const m = dockerEvent(e);
          if (!m || !matchesEvent(m, filters)) continue;
          if (!req.res.write(`${JSON.stringify(m)}\n`)) await whenWritable(req.res);
        }
      }
    } catch (err: unknown) {
      if (!abort.signal.aborted) ctx.logger.debug({ err }, "event stream ended");
    } finally {
      untilTimer?.cancel();
      req.signal.removeEventListener("abort", stop);
      req.res.end();
    }
    return "streamed";
  };
}
