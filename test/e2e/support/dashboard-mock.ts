// A stand-in for a manager's dashboard server (docs/dashboard.md), for the page's own tests and its
// benchmark: it serves dashboardAssets() under the same CSP, a simulated cluster as /api/v1/state,
// the watch, events, logs and stats streams the test feeds, and the actions (checked for the
// session and CSRF token, then applied to the simulated cluster and sent down the watch).
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  dashboardAssets,
  type Change,
  type ChangeBatch,
  type ClusterEventView,
  type LogLine,
  type StateSnapshot,
  type StatsSample,
  type TaskView,
} from "@shoal/dashboard";

export const MOCK_SESSION = "mock-session";
export const MOCK_CSRF = "mock-csrf";

export interface ActionRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface MockDashboard {
  readonly url: string;
  /** The link that logs a browser in (sets the cookies, then redirects to /). */
  readonly loginUrl: string;
  /** The actions the page sent, in order, that passed the session and CSRF checks. */
  readonly actions: ActionRequest[];
  /** The paths (with their queries) of the logs and stats streams the page opened, in order. */
  readonly streamsOpened: string[];
  /** How many times the page fetched /api/v1/state. */
  stateFetches(): number;
  /** Applies changes as one raft entry and sends it down every watch; returns its index. */
  commit(changes: readonly Change[]): number;
  /** Tells every watching page to fetch the state again. */
  resync(): void;
  /** Refuses the next action with this status and message. */
  refuseNext(status: number, message: string, field?: string): void;
  /** Sends an event on every open stream of a kind (by default the kind's own event name). */
  emit(
    stream: "log" | "stats" | "event",
    data: LogLine | StatsSample | ClusterEventView | object,
    event?: string,
  ): void;
  /** Ends the session as a revoke does: `event: logout` on the watch, then 401s. */
  logout(): void;
  task(id: string): TaskView | undefined;
  close(): Promise<void>;
}

export async function startMockDashboard(fixture: StateSnapshot): Promise<MockDashboard> {
  const nodes = new Map(fixture.nodes.map((node) => [node.id, node]));
  const services = new Map(fixture.services.map((service) => [service.id, service]));
  const tasks = new Map(fixture.tasks.map((task) => [task.id, task]));
  const history: ChangeBatch[] = [];
  const watchers = new Set<ServerResponse>();
  const streams = {
    log: new Set<ServerResponse>(),
    stats: new Set<ServerResponse>(),
    event: new Set<ServerResponse>(),
  };
  const actions: ActionRequest[] = [];
  const streamsOpened: string[] = [];
  let index = fixture.index;
  let stateFetches = 0;
  let session = MOCK_SESSION;
  let refusal: { status: number; message: string; field?: string } | undefined;

  const commit = (changes: readonly Change[]): number => {
    for (const change of changes) {
      const table = change.kind === "node" ? nodes : change.kind === "service" ? services : tasks;
      if (change.action === "remove") table.delete(change.id);
      else (table as Map<string, typeof change.object>).set(change.object.id, change.object);
    }
    const batch: ChangeBatch = { index: ++index, changes };
    history.push(batch);
    for (const watcher of watchers) send(watcher, "change", batch);
    return index;
  };

  const snapshot = (): StateSnapshot => ({
    ...fixture,
    index,
    nodes: [...nodes.values()],
    services: [...services.values()],
    tasks: [...tasks.values()],
  });

  const act = (method: string, path: string, body: Record<string, unknown>): number => {
    const [, , , kind, id, verb] = path.split("/");
    if (kind === "nodes" && verb === "availability") {
      const node = nodes.get(id ?? "");
      if (!node) return 404;
      commit([{ kind: "node", action: "upsert", object: { ...node, availability: String(body.availability) } }]);
      return 200;
    }
    const service = services.get(id ?? "");
    if (kind !== "services" || !service) return 404;
    if (method === "DELETE") {
      const mine = [...tasks.values()].filter((task) => task.serviceId === service.id);
      commit([
        { kind: "service", action: "remove", id: service.id },
        ...mine.map((task): Change => ({ kind: "task", action: "remove", id: task.id })),
      ]);
    } else if (verb === "scale") {
      commit([{ kind: "service", action: "upsert", object: { ...service, replicas: Number(body.replicas) } }]);
    } else if (verb === "image") {
      const updateStatus = { state: "updating", message: "update in progress" };
      commit([{ kind: "service", action: "upsert", object: { ...service, image: String(body.image), updateStatus } }]);
    } else if (verb !== "rollback") return 404;
    return 200;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader("Content-Security-Policy", "default-src 'self'");
    const url = new URL(req.url ?? "/", "http://mock");
    const cookies = parseCookies(req.headers.cookie);
    if (url.pathname === "/login") {
      res.setHeader("Set-Cookie", [
        `shoal_session=${MOCK_SESSION}; HttpOnly; SameSite=Strict; Path=/`,
        `shoal_csrf=${MOCK_CSRF}; SameSite=Strict; Path=/`,
      ]);
      res.writeHead(303, { Location: "/" }).end();
      return;
    }
    if (cookies.get("shoal_session") !== session) {
      json(res, 401, { message: "no session: run shoal dashboard login" });
      return;
    }
    const asset = dashboardAssets().get(url.pathname);
    if (asset && req.method === "GET") {
      res.writeHead(200, { "Content-Type": asset.type, "Cache-Control": "no-store" }).end(asset.body);
      return;
    }
    const path = url.pathname;
    if (req.method === "GET" && path === "/api/v1/state") {
      stateFetches++;
      json(res, 200, snapshot());
    } else if (req.method === "GET" && path === "/api/v1/watch") {
      const since = Number(url.searchParams.get("since"));
      openSse(res, watchers);
      for (const batch of history) if (batch.index > since) send(res, "change", batch);
    } else if (req.method === "GET" && path === "/api/v1/events") {
      openSse(res, streams.event);
    } else if (req.method === "GET" && /^\/api\/v1\/(services|tasks)\/[^/]+\/logs$/.test(path)) {
      streamsOpened.push(`${path}${url.search}`);
      openSse(res, streams.log);
    } else if (req.method === "GET" && /^\/api\/v1\/(services|tasks)\/[^/]+\/stats$/.test(path)) {
      streamsOpened.push(path);
      openSse(res, streams.stats);
    } else if (req.method === "POST" || req.method === "DELETE") {
      const body = await readJson(req);
      if (req.headers["x-csrf-token"] !== cookies.get("shoal_csrf") || !isJson(req)) {
        json(res, 403, { message: "CSRF check failed" });
        return;
      }
      if (refusal) {
        const { status, ...error } = refusal;
        refusal = undefined;
        json(res, status, error);
        return;
      }
      actions.push({ method: req.method, path, body });
      const status = path === "/api/v1/logout" ? 200 : act(req.method, path, body);
      json(res, status, status === 200 ? {} : { message: `not found: ${path}` });
    } else {
      json(res, 404, { message: `not found: ${path}` });
    }
  };

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    loginUrl: `${url}/login?token=mock`,
    actions,
    streamsOpened,
    stateFetches: () => stateFetches,
    commit,
    resync: () => {
      for (const watcher of watchers) send(watcher, "resync", {});
    },
    refuseNext: (status, message, field) => {
      refusal = field === undefined ? { status, message } : { status, message, field };
    },
    emit: (stream, data, event) => {
      for (const res of streams[stream]) send(res, event ?? stream, data);
    },
    logout: () => {
      session = "revoked";
      for (const watcher of watchers) send(watcher, "logout", {});
    },
    task: (id) => tasks.get(id),
    close: async () => {
      for (const res of [watchers, ...Object.values(streams)].flatMap((set) => [...set])) res.end();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

function openSse(res: ServerResponse, set: Set<ServerResponse>): void {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
  res.write(": open\n\n");
  set.add(res);
  res.on("close", () => set.delete(res));
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

function isJson(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/json");
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function parseCookies(header: string | undefined): Map<string, string> {
  return new Map(
    (header ?? "")
      .split(";")
      .map((part) => part.trim().split("="))
      .filter((pair): pair is [string, string] => pair.length === 2)
      .map(([key, value]) => [key, decodeURIComponent(value)]),
  );
}
