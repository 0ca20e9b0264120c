// The web dashboard in Debian's chromium against a real cluster: a manager with --dashboard (a
// process on the harness gateway) and agents on two harness hosts with their own dockerds. Without
// the credential no page or API call answers; a link from the real `shoal dashboard login` logs
// the browser in; the page shows the nodes and the service; scaling from the page brings its
// tasks to running; its logs follow; draining a node from the page moves its tasks to the other
// node. With SHOAL_SCREENSHOTS=1 it saves the main pages to docs/images/dashboard-*.png.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createHarness, type Harness, type HostProcess } from "./harness/index.js";
import { startAgents } from "./support/agents.js";
import { launchChromium } from "./support/chromium.js";
import { TestControl } from "./support/control-client.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "./support/shoal-process.js";

const run = promisify(execFile);
const SCREENSHOTS = process.env["SHOAL_SCREENSHOTS"] === "1";
const IMAGES = new URL("../../docs/images/", import.meta.url).pathname;
const control = new TestControl();
let harness: Harness;
let root = "";
let manager: ShoalProcess | undefined;
let agents: HostProcess[] = [];
let addr = "";
let dashboard = "";
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function shoal(...args: string[]): Promise<string> {
  const env = { ...process.env, SHOAL_MANAGER: addr };
  return (await run(process.execPath, [SHOAL_BIN, ...args], { timeout: 60_000, env })).stdout;
}

async function screenshot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(IMAGES, { recursive: true });
  await page.screenshot({ path: join(IMAGES, `dashboard-${name}.png`) });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-dashui-"));
  harness = await createHarness({ hosts: ["h1", "h2"], pullBaseImage: true });
  const listen = `${harness.gateway}:${await freePort()}`;
  dashboard = `127.0.0.1:${await freePort()}`;
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: () => listen,
    args: ["--dashboard", dashboard, "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  addr = listen;
  const token = (await joinTokens(control, addr)).worker;
  agents = await startAgents(harness.hosts, { control, managers: [addr], token });
  // A service that prints a numbered line every half second, one replica to start with. (sh as
  // PID 1 ignores SIGTERM: the drain would wait out the default 10 s grace without the flag.)
  await shoal(
    ...["service", "create", "-d", "--name", "web", "--replicas", "1", "--stop-grace-period", "1s", harness.baseImage],
    ...["sh", "-c", "i=0; while true; do echo web line $i; i=$((i+1)); sleep 0.5; done"],
  );
  browser = await launchChromium();
  // The dashboard's certificate comes from the cluster's CA, which this browser does not know
  // (test/e2e/dashboard-api.test.ts verifies it with the cluster's root).
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 760 } });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  control.close();
  for (const agent of agents) await agent.kill("SIGKILL");
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (root && !process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

const runningTasks = () => page.locator('[data-testid^="task-row-"][data-state="running"]');

describe("the dashboard in chromium on a real cluster", () => {
  it("answers no page or API call without the credential", async () => {
    const base = `https://${dashboard}`;
    const home = await page.goto(`${base}/`);
    expect(home?.status()).toBe(401);
    expect(await page.textContent("body")).toContain("shoal dashboard login");
    for (const path of ["/app.js", "/app.css", "/api/v1/state", "/api/v1/events"]) {
      expect(`${path} ${(await context.request.get(`${base}${path}`)).status()}`).toBe(`${path} 401`);
    }
    const scale = await context.request.post(`${base}/api/v1/services/web/scale`, { data: { replicas: 3 } });
    expect(scale.status()).toBe(401);
  });

  it("logs in with a link from shoal dashboard login and shows the nodes and the service", async () => {
    const link = (await shoal("dashboard", "login")).trim().split("\n")[0]!;
    expect(link).toMatch(new RegExp(`^https://${dashboard}/login\\?token=`));
    await page.goto(link);
    await page.getByTestId("nodes-table").waitFor();
    for (const host of ["h1", "h2"]) {
      await expect
        .poll(() => page.getByTestId(`node-row-${host}`).getAttribute("data-status"), { timeout: 20_000 })
        .toBe("ready");
    }
    await screenshot("nodes");
    await page.getByTestId("nav-services").click();
    await expect
      .poll(() => page.getByTestId("service-row-web").locator('[data-col="replicas"]').textContent(), {
        timeout: 30_000,
      })
      .toBe("1/1");
    await screenshot("services");
  });

  it("scales the service from the page and watches its tasks become running", async () => {
    await page.getByTestId("service-row-web").click();
    await page.getByTestId("service-page").waitFor();
    await page.getByTestId("scale-input").fill("4");
    await page.getByTestId("scale-button").click();
    await page.getByTestId("confirm-ok").click();
    await page.getByTestId("confirm-dialog").waitFor({ state: "detached" });
    await expect.poll(() => runningTasks().count(), { timeout: 60_000 }).toBe(4);
    expect(await page.getByTestId("service-replicas").textContent()).toBe("4/4");
  });

  it("follows the service's logs and shows its tasks' live stats", async () => {
    await expect.poll(() => page.getByTestId("log-line").count(), { timeout: 30_000 }).toBeGreaterThan(3);
    const before = await page.getByTestId("log-line").count();
    expect(await page.getByTestId("log-line").last().textContent()).toMatch(/web line \d+/);
    await expect.poll(() => page.getByTestId("log-line").count(), { timeout: 20_000 }).toBeGreaterThan(before);
    await expect
      .poll(() => page.locator('[data-testid^="stats-row-"] [data-col="cpu"]').count(), { timeout: 30_000 })
      .toBe(4);
    await screenshot("service");
  });

  it("drains a node from the page and its tasks move to the other node", async () => {
    await page.getByTestId("nav-nodes").click();
    await page.getByTestId("node-row-h1").click();
    await page.getByTestId("node-page").waitFor();
    await page.getByTestId("drain-button").click();
    await page.getByTestId("confirm-ok").click();
    await expect.poll(() => page.getByTestId("node-availability").textContent()).toBe("drain");
    await expect.poll(() => page.getByTestId("tasks-table").getAttribute("data-rows"), { timeout: 60_000 }).toBe("0");
    await page.getByTestId("nav-services").click();
    await page.getByTestId("service-row-web").click();
    await expect
      .poll(() => page.locator('[data-testid^="task-row-"][data-state="running"][data-node="h2"]').count(), {
        timeout: 60_000,
      })
      .toBe(4);
    expect(await runningTasks().count()).toBe(4);
  });

  it("refuses the browser once its session is revoked", async () => {
    await shoal("dashboard", "revoke", "--all");
    await page.reload();
    expect(await page.textContent("body")).toContain("shoal dashboard login");
    expect((await context.request.get(`https://${dashboard}/api/v1/state`)).status()).toBe(401);
  });
});
