// The dashboard's HTTP API (docs/dashboard.md) on the Docker API's router (its matching, body
// limits and status codes by error code): state and watch from the feed, events, logs and stats
// as server-sent events, and the actions through the Control API over loopback. The session
// check and the CSRF rules run before any of this (dashboard-server.ts).
import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { InvalidArgumentError, TaskState, type LogOptions, type Logger } from "@shoal/shared";
import type { ContainerCalls } from "../containers/container-calls-client.js";
import { allTasks, type ControlCaller } from "../dockerapi/control-calls.js";
import type { LogsCaller } from "../dockerapi/logs.js";
import { Router, type DockerRequest, type Reply } from "../dockerapi/router.js";
import { DashboardActions, parseAvailability, parseImage, parseReplicas } from "./actions.js";
import type { DashboardFeed, StateIdentity } from "./feed.js";
import { clearedCookies } from "./guard.js";
import { SseStream, streamEvents, streamLogs, streamStats, tailParam, type LoopbackEvents } from "./streams.js";

/** A watcher whose connection holds more than this unsent is told to resync and cut off. */
export const MAX_WATCH_BUFFER_BYTES = 8 * 1024 * 1024;
/** How far back /api/v1/events starts by default. */
const EVENTS_HISTORY_MS = 15 * 60_000;

export interface ApiDeps {
  readonly feed: DashboardFeed;
  readonly identity: () => StateIdentity;
  readonly control: ControlCaller;
  readonly logs: LogsCaller;
  readonly events: Pick<LoopbackEvents, "watch">;
  readonly containers: ContainerCalls | undefined;
  /** The session's credential id of a request (set by the server's check). */
  readonly sessionOf: (raw: IncomingMessage) => string | undefined;
  readonly now: () => number;
  readonly logger: Logger;
}

const gzipAsync = promisify(gzip);
const OK: Reply = { status: 200, json: {} };

function sinceParam(raw: string | null): number {
  if (raw === null || raw === "") return 0;
  if (!/^\d{1,16}$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a store index`, { field: "since" });
  return Number(raw);
}

/** Runs a stream to its end (or the client's leaving), then ends the response. */
async function streamed(req: DockerRequest, run: (sse: SseStream) => Promise<void>): Promise<Reply> {
  const sse = new SseStream(req.res);
  sse.open();
  try {
    await run(sse);
  } catch (err: unknown) {
    if (!req.signal.aborted) await sse.send("error", { message: (err as Error).message }).catch(() => {});
  }
  req.res.end();
  return "streamed";
}

/** The state, gzipped (off the event loop) for a browser that takes it: 10,000 tasks are megabytes. */
async function sendState(req: DockerRequest, state: unknown): Promise<Reply> {
  if (!/\bgzip\b/.test(String(req.raw.headers["accept-encoding"] ?? ""))) return { status: 200, json: state };
  const body = await gzipAsync(Buffer.from(JSON.stringify(state)), { level: 1 });
  req.res.writeHead(200, {
    "Content-Type": "application/json",
    "Content-Encoding": "gzip",
    "Content-Length": body.length,
    Vary: "Accept-Encoding",
  });
  req.res.end(body);
  return "streamed";
}

function watch(deps: ApiDeps, req: DockerRequest): Reply {
  const since = sinceParam(req.query.get("since"));
  const { res } = req;
  new SseStream(res).open();
  let done = false;
  // Set once watch() returns: a resync during its replay only marks the watcher done.
  const handle: { stop?: () => void } = {};
  const resync = (): void => {
    if (done) return;
    done = true;
    handle.stop?.();
    res.end("event: resync\ndata: {}\n\n");
  };
  handle.stop = deps.feed.watch({
    since,
    write: (_index, text) => {
      if (done) return;
      // A browser that does not read is not buffered for without bound.
      if (res.writableLength > MAX_WATCH_BUFFER_BYTES) resync();
      else res.write(text);
    },
    resync,
  });
  if (done) handle.stop();
  req.signal.addEventListener("abort", () => {
    done = true;
    handle.stop?.();
  });
  return "streamed";
}

export function dashboardApi(deps: ApiDeps): Router {
  const actions = new DashboardActions(deps.control);
  const router = new Router(deps.logger);
  const serviceId = async (ref: string): Promise<string> =>
    (await deps.control.call("getService", { serviceId: ref })).service!.id;
  const logOptions = (req: DockerRequest): LogOptions => ({
    follow: req.query.get("follow") === "1" || req.query.get("follow") === "true",
    tail: tailParam(req.query.get("tail")),
    stdout: true,
    stderr: true,
    since: undefined,
  });
  const stats = async (req: DockerRequest, filter: { serviceIds: string[]; idPrefixes: string[] }): Promise<Reply> => {
    const { containers } = deps;
    if (!containers) throw new InvalidArgumentError("stats are not served by this manager", { field: "path" });
    const tasks = await allTasks(deps.control, { ...filter, nodeIds: [], desiredStates: [TaskState.RUNNING] });
    const targets = tasks
      .filter((t) => t.status?.state === TaskState.RUNNING && t.status.containerStatus?.containerId)
      .map((t) => ({ taskId: t.id, containerId: t.status!.containerStatus!.containerId }));
    return streamed(req, (sse) => streamStats(sse, containers, targets, deps.now, req.signal));
  };
  return router
    .on("GET", "/api/v1/state", (req) => sendState(req, deps.feed.snapshot(deps.identity())))
    .on("GET", "/api/v1/watch", (req) => watch(deps, req))
    .on("GET", "/api/v1/events", (req) => {
      const since = new Date(deps.now() - EVENTS_HISTORY_MS);
      return streamed(req, (sse) => streamEvents(sse, deps.events.watch(since, req.signal)));
    })
    .on("GET", "/api/v1/services/:id/logs", async (req) => {
      const options = logOptions(req);
      const id = await serviceId(req.params["id"]!);
      const batches = deps.logs.subscribe({ selector: { serviceIds: [id], taskIds: [] }, options }, req.signal);
      return streamed(req, (sse) => streamLogs(sse, batches));
    })
    .on("GET", "/api/v1/tasks/:id/logs", async (req) => {
      const options = logOptions(req);
      const { task } = await deps.control.call("getTask", { taskId: req.params["id"]! });
      const batches = deps.logs.subscribe({ selector: { serviceIds: [], taskIds: [task!.id] }, options }, req.signal);
      return streamed(req, (sse) => streamLogs(sse, batches));
    })
    .on("GET", "/api/v1/tasks/:id/stats", async (req) => {
      const { task } = await deps.control.call("getTask", { taskId: req.params["id"]! });
      return stats(req, { serviceIds: [], idPrefixes: [task!.id] });
    })
    .on("GET", "/api/v1/services/:id/stats", async (req) =>
      stats(req, { serviceIds: [await serviceId(req.params["id"]!)], idPrefixes: [] }),
    )
    .on("POST", "/api/v1/services/:id/scale", async (req) => {
      await actions.scale(req.params["id"]!, parseReplicas(await req.json()));
      return OK;
    })
    .on("POST", "/api/v1/services/:id/image", async (req) => {
      await actions.image(req.params["id"]!, parseImage(await req.json()));
      return OK;
    })
    .on("POST", "/api/v1/services/:id/rollback", async (req) => {
      await req.json();
      await actions.rollback(req.params["id"]!);
      return OK;
    })
    .on("DELETE", "/api/v1/services/:id", async (req) => {
      await actions.remove(req.params["id"]!);
      return OK;
    })
    .on("POST", "/api/v1/nodes/:id/availability", async (req) => {
      await actions.availability(req.params["id"]!, parseAvailability(await req.json()));
      return OK;
    })
    .on("POST", "/api/v1/logout", async (req) => {
      const id = deps.sessionOf(req.raw);
      if (id) await deps.control.call("revokeDashboardSessions", { ids: [id], all: false });
      req.res.setHeader("Set-Cookie", clearedCookies());
      return OK;
    });
}
