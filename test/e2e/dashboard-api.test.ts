// The dashboard's HTTP API on two real manager processes, as a browser uses it: nothing answers
// without a session; a link from `shoal dashboard login` (the real CLI, through the follower,
// which forwards to the leader) logs in once; the state lists the service; a scale with the CSRF
// header works and shows on the watch stream, without it or from another origin it is refused;
// `shoal dashboard revoke --all` ends the session. The server's certificate verifies with the
// cluster's root for the address it serves. One agent on this machine's dockerd runs the service's
// task, whose live stats come through the Containers service (needs the broker part).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request, type RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TaskState } from "@shoal/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { startLocalAgent } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const control = new TestControl();
const procs: ShoalProcess[] = [];
const managers: { addr: string; dashboard: string }[] = [];
let root = "";
let ca = "";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTPS request to a dashboard, verifying its certificate with the cluster's root. */
function call(url: string, options: RequestOptions & { body?: string | undefined } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 10_000, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

async function shoal(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [SHOAL_BIN, ...args], { timeout: 30_000 });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-dashserver-"));
  for (let i = 0; i < 2; i++) {
    const addr = `127.0.0.1:${await freePort()}`;
    const dashboard = `127.0.0.1:${await freePort()}`;
    const args = ["manager", "--listen", addr, "--data-dir", join(root, `m${i}`), "--dashboard", dashboard];
    if (i > 0)
      args.push("--join", managers[0]!.addr, "--token", (await joinTokens(control, managers[0]!.addr)).manager);
    const proc = new ShoalProcess(args, join(root, `m${i}.log`));
    proc.start();
    procs.push(proc);
    managers.push({ addr, dashboard: `https://${dashboard}` });
    await waitUntil(
      `manager ${i} to be a member`,
      async () => (await control.call(addr, "getInfo", {}, 500)).raft?.members.length === i + 1,
    );
  }
  ca = readFileSync(join(testClientCertDir(), "ca.pem"), "utf8");
  const agent = await startLocalAgent({
    managers: managers.map((m) => m.addr),
    token: (await joinTokens(control, managers[0]!.addr)).worker,
    hostname: "dashserver-e2e",
    dataDir: join(root, "agent"),
    logFile: join(root, "agent.log"),
    control,
  });
  procs.push(agent.proc);
  await shoal(
    "service",
    "create",
    "-d",
    "--name",
    "web",
    "--replicas",
    "1",
    "--manager",
    managers[0]!.addr,
    "shoal-base:1",
    "sleep",
    "60",
  );
}, 60_000);

afterAll(async () => {
  // The service's containers go with it before the agent stops.
  const addr = managers[0]?.addr;
  if (addr) {
    const { services } = await control.call(addr, "listServices", { filters: undefined, includeStatus: false });
    for (const s of services) await control.call(addr, "removeService", { serviceId: s.id }).catch(() => {});
    await waitUntil("the service's tasks to be gone", async () => {
      const { tasks } = await control.call(addr, "listTasks", { filters: undefined });
      return tasks.every((t) => (t.status?.state ?? 0) > TaskState.RUNNING);
    }).catch(() => {});
  }
  control.close();
  for (const p of procs) await p.kill("SIGKILL");
  if (root) await rm(root, { recursive: true, force: true });
});

const ROUTES: readonly [string, string][] = [
  ["GET", "/"],
  ["GET", "/app.js"],
  ["GET", "/app.css"],
  ["GET", "/api/v1/state"],
  ["GET", "/api/v1/watch?since=0"],
  ["GET", "/api/v1/events"],
  ["GET", "/api/v1/services/web/logs"],
  ["GET", "/api/v1/tasks/x/logs"],
  ["GET", "/api/v1/tasks/x/stats"],
  ["GET", "/api/v1/services/web/stats"],
  ["POST", "/api/v1/services/web/scale"],
  ["POST", "/api/v1/services/web/image"],
  ["POST", "/api/v1/services/web/rollback"],
  ["DELETE", "/api/v1/services/web"],
  ["POST", "/api/v1/nodes/x/availability"],
  ["POST", "/api/v1/logout"],
];

describe("the dashboard's API on real managers", () => {
  let cookie = "";
  let csrf = "";
  let link = "";

  it("refuses every page and API call without a session (401)", async () => {
    for (const [method, path] of ROUTES) {
      const res = await call(`${managers[1]!.dashboard}${path}`, {
        method,
        headers: { "Content-Type": "application/json" },
        body: method === "POST" ? "{}" : undefined,
      });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
    }
  });

  it("logs in with a link from shoal dashboard login, once", async () => {
    const { stdout } = await shoal("dashboard", "login", "--manager", managers[1]!.addr);
    const links = stdout.trim().split("\n");
    // The answering manager's dashboard first, then the leader's.
    expect(links.map((l) => l.replace(/\/login\?token=.*$/, ""))).toEqual([
      managers[1]!.dashboard,
      managers[0]!.dashboard,
    ]);
    link = links[0]!;
    const res = await call(link);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/");
    const cookies = (res.headers["set-cookie"] as string[]).map((c) => c.split(";")[0]!);
    expect(cookies.map((c) => c.split("=")[0])).toEqual(["shoal_session", "shoal_csrf"]);
    cookie = cookies.join("; ");
    csrf = cookies[1]!.slice("shoal_csrf=".length);
    expect((await call(link)).status).toBe(401);
    const sessions = JSON.parse(
      (await shoal("dashboard", "sessions", "--json", "--manager", managers[0]!.addr)).stdout,
    ) as { state: string }[];
    expect(sessions.map((s) => s.state)).toEqual(["session"]);
  });

  it("lists the service, scales it with the CSRF header (not without, nor cross-origin), and the watch shows it", async () => {
    const base = managers[1]!.dashboard;
    const state = JSON.parse((await call(`${base}/api/v1/state`, { headers: { Cookie: cookie } })).body) as {
      index: number;
      services: { id: string; name: string; replicas: number }[];
    };
    const web = state.services.find((s) => s.name === "web")!;
    expect(web.replicas).toBe(1);

    let text = "";
    const watch = new Promise<void>((resolve, reject) => {
      const req = request(`${base}/api/v1/watch?since=${state.index}`, { ca, headers: { Cookie: cookie } }, (res) => {
        res.on("data", (c: Buffer) => {
          text += c.toString();
          if (/"name":"web","mode":"replicated","replicas":2/.test(text)) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", reject);
      req.end();
    });

    const scale = (headers: Record<string, string>): Promise<Answer> =>
      call(`${base}/api/v1/services/${web.id}/scale`, {
        method: "POST",
        headers: { Cookie: cookie, "Content-Type": "application/json", ...headers },
        body: JSON.stringify({ replicas: 2 }),
      });
    expect((await scale({})).status).toBe(403);
    expect((await scale({ "X-CSRF-Token": csrf, Origin: "https://attacker.example" })).status).toBe(403);
    const ok = await scale({ "X-CSRF-Token": csrf, Origin: base });
    expect([ok.status, ok.body]).toEqual([200, "{}"]);
    await watch;
    expect(text).toMatch(/^event: change\n/m);
  });

  it("streams the live stats of the service's task container", async () => {
    const base = managers[1]!.dashboard;
    let running: string[] = [];
    await expect
      .poll(
        async () => {
          const { tasks } = await control.call(managers[0]!.addr, "listTasks", { filters: undefined });
          running = tasks.filter((t) => t.status?.state === TaskState.RUNNING).map((t) => t.id);
          return running.length;
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
    const sample = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(`${base}/api/v1/services/web/stats`, { ca, headers: { Cookie: cookie } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
          // The first sample, or the error the stream sent instead (then the checks below say it).
          const m = /event: (stats|error)\ndata: (.*)\n\n/.exec(text);
          if (m) {
            req.destroy();
            resolve(JSON.parse(m[2]!) as Record<string, unknown>);
          }
        });
        res.on("end", () => reject(new Error(`the stats stream ended without a sample: ${text}`)));
      });
      req.on("error", reject);
      req.end();
    });
    expect(sample["message"]).toBeUndefined();
    expect(running).toContain(sample["taskId"]);
    expect(sample["containerId"]).toMatch(/^[0-9a-f]{64}$/);
    expect(sample["memoryBytes"]).toBeGreaterThan(0);
    expect(sample["pids"]).toBeGreaterThanOrEqual(1);
  });

  it("shoal dashboard revoke --all ends the session: the next call is 401", async () => {
    const { stdout } = await shoal("dashboard", "revoke", "--all", "--manager", managers[0]!.addr);
    expect(stdout.trim()).toMatch(/^[0-9a-z]{25}$/);
    await expect
      .poll(async () => (await call(`${managers[1]!.dashboard}/api/v1/state`, { headers: { Cookie: cookie } })).status)
      .toBe(401);
    expect((await call(`${managers[0]!.dashboard}/`, { headers: { Cookie: cookie } })).status).toBe(401);
  });
});
