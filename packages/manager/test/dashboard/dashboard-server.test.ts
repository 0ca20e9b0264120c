// The dashboard server in process, on a real HTTPS port: the session check on every route, the
// login, the CSRF rules, the security headers, and the watch stream with its heartbeat.
import { request } from "node:https";
import type { ServiceSpec } from "@shoal/shared";
import { ManualClock, Service, silentLogger } from "@shoal/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlCaller, ControlMethod, ControlRequest } from "../../src/dockerapi/control-calls.js";
import { createLogin, redeemLogin, revokeSessions } from "../../src/dashboard/credentials.js";
import { DashboardServer } from "../../src/dashboard/dashboard-server.js";
import { material, testCluster, type TestCluster } from "../ca/fixtures.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let cluster: TestCluster;
let server: DashboardServer;
const clock = new ManualClock(1_800_000_000_000);
const calls: string[] = [];

function fetchIt(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const [host, port] = server.address.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Opens a stream and collects its text until `until` matches it. */
function stream(path: string, cookie: string, until: RegExp): { text: () => string; done: Promise<string> } {
  const [host, port] = server.address.split(":");
  let text = "";
  const done = new Promise<string>((resolve, reject) => {
    const req = request(
      { host, port: Number(port), path, headers: { Cookie: cookie }, rejectUnauthorized: false },
      (res) => {
        res.on("data", (c: Buffer) => {
          text += c.toString();
          if (until.test(text)) {
            req.destroy();
            resolve(text);
          }
        });
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end();
  });
  return { text: () => text, done };
}

const control: ControlCaller = {
  async call<K extends ControlMethod>(method: K, req: ControlRequest<K>) {
    calls.push(method);
    const r = req as Record<string, unknown>;
    switch (method) {
      case "redeemDashboardLogin":
        return (await redeemLogin(cluster.store, r["token"] as string, clock.now())) as never;
      case "revokeDashboardSessions":
        return { revoked: await revokeSessions(cluster.store, req as never, clock.now()) } as never;
      case "getService":
        return { service: cluster.store.view((tx) => tx.services.get("s1")) } as never;
      case "updateService":
        await cluster.store.update((tx) =>
          tx.services.update({ ...tx.services.get("s1")!, spec: r["spec"] as ServiceSpec }),
        );
        return {} as never;
      default:
        throw new Error(`unexpected ${method}`);
    }
  },
};

async function loggedIn(): Promise<{ cookie: string; csrf: string }> {
  const { token } = await createLogin(
    cluster.store,
    { linkTtl: undefined, sessionTtl: undefined, createdBy: "" },
    { now: clock.now(), createdBy: "alice" },
  );
  const res = await fetchIt(`/login?token=${token}`);
  expect(res.status).toBe(303);
  const cookies = (res.headers["set-cookie"] as string[]).map((c) => c.split(";")[0]!);
  return { cookie: cookies.join("; "), csrf: cookies.find((c) => c.startsWith("shoal_csrf="))!.slice(11) };
}

beforeAll(async () => {
  cluster = await testCluster();
  await cluster.store.update((tx) =>
    tx.services.create(
      Service.fromPartial({
        id: "s1",
        spec: {
          annotations: { name: "web" },
          taskTemplate: { container: { image: "img:1" } },
          mode: { $case: "replicated", value: { replicas: 1 } },
        },
      }),
    ),
  );
  server = new DashboardServer({
    listen: "127.0.0.1:0",
    advertiseHost: "127.0.0.1",
    managerAddr: "127.0.0.1:1",
    material: await material(cluster.ca, "m1", "manager"),
    nodeId: "m1",
    store: cluster.store,
    isLeader: () => true,
    clock,
    logger: silentLogger(),
    control,
    logs: { subscribe: () => (async function* () {})() },
    events: { watch: () => (async function* () {})() },
  });
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

const ROUTES: readonly [string, string][] = [
  ["GET", "/"],
  ["GET", "/index.html"],
  ["GET", "/app.js"],
  ["GET", "/api/v1/state"],
  ["GET", "/api/v1/watch?since=0"],
  ["GET", "/api/v1/events"],
  ["GET", "/api/v1/services/s1/logs"],
  ["GET", "/api/v1/tasks/t1/logs"],
  ["GET", "/api/v1/tasks/t1/stats"],
  ["GET", "/api/v1/services/s1/stats"],
  ["POST", "/api/v1/services/s1/scale"],
  ["POST", "/api/v1/services/s1/image"],
  ["POST", "/api/v1/services/s1/rollback"],
  ["DELETE", "/api/v1/services/s1"],
  ["POST", "/api/v1/nodes/n1/availability"],
  ["POST", "/api/v1/logout"],
];

describe("dashboard server", () => {
  it("answers no route without a session: 401, JSON for the API and HTML for pages, with the security headers", async () => {
    for (const [method, path] of ROUTES) {
      for (const cookie of ["", "shoal_session=forged"]) {
        const res = await fetchIt(path, { method, headers: cookie ? { Cookie: cookie } : {} });
        expect([method, path, cookie, res.status]).toEqual([method, path, cookie, 401]);
        expect(res.headers["content-type"]).toMatch(path.startsWith("/api/") ? /application\/json/ : /text\/html/);
        expect(res.body).toMatch(/shoal dashboard login/);
      }
    }
    expect(calls).toEqual([]);
    const res = await fetchIt("/api/v1/state");
    expect(res.headers["content-security-policy"]).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("logs in once per link: HttpOnly session and readable CSRF cookies, then the page and the state", async () => {
    const { token } = await createLogin(
      cluster.store,
      { linkTtl: undefined, sessionTtl: undefined, createdBy: "" },
      { now: clock.now(), createdBy: "alice" },
    );
    const head = await fetchIt(`/login?token=${token}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const first = await fetchIt(`/login?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/");
    expect(first.headers["cache-control"]).toBe("no-store");
    const cookies = first.headers["set-cookie"] as string[];
    expect(cookies[0]).toMatch(/^shoal_session=[A-Za-z0-9_-]{43}; HttpOnly; Secure; SameSite=Strict; Path=\//);
    expect(cookies[1]).toMatch(/^shoal_csrf=[A-Za-z0-9_-]{43}; Secure; SameSite=Strict; Path=\//);
    const again = await fetchIt(`/login?token=${token}`);
    expect(again.status).toBe(401);
    expect(again.body).toMatch(/used or has expired/);
    const cookie = cookies.map((c) => c.split(";")[0]).join("; ");
    const page = await fetchIt("/", { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    const state = JSON.parse((await fetchIt("/api/v1/state", { headers: { Cookie: cookie } })).body);
    expect(state).toMatchObject({
      clusterId: cluster.store.view((tx) => tx.clusters.find()[0]!.id),
      managerNodeId: "m1",
      isLeader: true,
    });
    expect(state.services.map((s: { name: string }) => s.name)).toEqual(["web"]);
    const zipped = await fetchIt("/api/v1/state", { headers: { Cookie: cookie, "Accept-Encoding": "gzip" } });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers["cache-control"]).toBe("no-store");
  });

  it("refuses a state-changing call without the CSRF header, JSON, or with another Origin (403), and runs it with them", async () => {
    const { cookie, csrf } = await loggedIn();
    const body = JSON.stringify({ replicas: 4 });
    const json = { "Content-Type": "application/json" };
    const post = (headers: Record<string, string>) =>
      fetchIt("/api/v1/services/s1/scale", { method: "POST", headers: { Cookie: cookie, ...headers }, body });
    expect((await post(json)).status).toBe(403);
    expect((await post({ ...json, "X-CSRF-Token": "wrong" })).status).toBe(403);
    expect((await post({ "Content-Type": "text/plain", "X-CSRF-Token": csrf })).status).toBe(403);
    const cross = await post({ ...json, "X-CSRF-Token": csrf, Origin: "https://evil.example" });
    expect(cross.status).toBe(403);
    expect(cross.body).toMatch(/cross-origin/);
    const replicas = () => cluster.store.view((tx) => tx.services.get("s1")!.spec!.mode);
    expect(replicas()).toMatchObject({ value: { replicas: 1 } });
    const [, port] = server.address.split(":");
    const ok = await post({ ...json, "X-CSRF-Token": csrf, Origin: `https://127.0.0.1:${port}` });
    expect([ok.status, ok.body]).toEqual([200, "{}"]);
    expect(replicas()).toMatchObject({ value: { replicas: 4 } });
    const neg = await fetchIt("/api/v1/services/s1/scale", {
      method: "POST",
      headers: { Cookie: cookie, ...json, "X-CSRF-Token": csrf },
      body: JSON.stringify({ replicas: -1 }),
    });
    expect(neg.status).toBe(400);
    expect(neg.body).toMatch(/replicas/);
  });

  it("the watch sends the changes of each entry after `since`, heartbeats, and ends when the session is revoked", async () => {
    const { cookie } = await loggedIn();
    const since = cluster.store.appliedIndex;
    const watch = stream(`/api/v1/watch?since=${since}`, cookie, /event: logout/);
    await new Promise((r) => setTimeout(r, 100));
    await cluster.store.update((tx) => {
      const s = tx.services.get("s1")!;
      tx.services.update({ ...s, spec: { ...s.spec!, annotations: { name: "web", labels: { a: "b" } } } });
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(watch.text()).toMatch(
      /event: change\nid: \d+\ndata: \{"index":\d+,"changes":\[\{"kind":"service","action":"upsert"/,
    );
    expect(watch.text()).toContain('"labels":{"a":"b"}');
    clock.advance(15_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(watch.text()).toContain(": heartbeat");
    await revokeSessions(cluster.store, { ids: [], all: true }, clock.now());
    clock.advance(15_000);
    await watch.done;
    expect(watch.text()).toMatch(/event: logout/);
    expect((await fetchIt("/api/v1/state", { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it("asks a watcher from too far back, or from the future, to resync", async () => {
    const { cookie } = await loggedIn();
    const future = await fetchIt(`/api/v1/watch?since=${cluster.store.appliedIndex + 100}`, {
      headers: { Cookie: cookie },
    });
    expect(future.body).toBe("event: resync\ndata: {}\n\n");
    const bad = await fetchIt(`/api/v1/watch?since=abc`, { headers: { Cookie: cookie } });
    expect(bad.status).toBe(400);
  });
});
