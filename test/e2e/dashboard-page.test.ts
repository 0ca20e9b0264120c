// The dashboard's page in chromium against a mock server (test/e2e/support/dashboard-mock.ts): a
// simulated cluster of 1,000 nodes and 10,000 tasks renders into virtualised tables (only a window
// of rows in the DOM), 1,000 changes from the watch reach their rows, a resync fetches the state
// again, and the actions go out with the CSRF token after a confirmation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Change } from "@shoal/dashboard";
import { launchChromium } from "./support/chromium.js";
import { fixtureState, fixtureTask, nodeHostname, serviceName } from "./support/dashboard-fixture.js";
import { startMockDashboard, type MockDashboard } from "./support/dashboard-mock.js";

const NODES = 1000;
const SERVICES = 100;
const TASKS = 10_000;
const ROW_HEIGHT = 30;

describe("dashboard page (mock server)", () => {
  let mock: MockDashboard;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  const fixture = fixtureState(NODES, SERVICES, TASKS);

  beforeAll(async () => {
    mock = await startMockDashboard(fixture);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await mock?.close();
  });

  const rowsInDom = (prefix: string) => page.locator(`[data-testid^="${prefix}"]`).count();
  /** Scrolls a table to a pixel offset (default: its end). */
  const scroll = (table: string, top = Number.MAX_SAFE_INTEGER) =>
    page
      .getByTestId(table)
      .locator(".body")
      .evaluate((body: { scrollTop: number; scrollHeight: number }, top) => {
        body.scrollTop = Math.min(top, body.scrollHeight);
      }, top);
  const cell = (row: string, col: string) => page.getByTestId(row).locator(`[data-col="${col}"]`);

  it("renders 1,000 nodes with only a window of rows in the DOM", async () => {
    await page.goto(mock.loginUrl);
    await expect.poll(() => page.getByTestId("nodes-table").getAttribute("data-rows")).toBe(String(NODES));
    await page.getByTestId(`node-row-${nodeHostname(0)}`).waitFor();
    const rows = await rowsInDom("node-row-");
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(80);
    // node-0000 runs tasks 0, 1000, 2000, ...: 10 tasks of 0.1 CPU and 64 MiB each.
    expect(await cell(`node-row-${nodeHostname(0)}`, "tasks").textContent()).toBe("10");
    expect(await cell(`node-row-${nodeHostname(0)}`, "cpu").textContent()).toBe("1 / 4");
    expect(await cell(`node-row-${nodeHostname(0)}`, "memory").textContent()).toBe("640.0 MiB / 8.0 GiB");
    expect(await page.getByTestId(`node-row-${nodeHostname(NODES - 1)}`).count()).toBe(0);

    await scroll("nodes-table");
    await page.getByTestId(`node-row-${nodeHostname(NODES - 1)}`).waitFor();
    expect(await page.getByTestId(`node-row-${nodeHostname(0)}`).count()).toBe(0);
    expect(await rowsInDom("node-row-")).toBeLessThan(80);
  });

  it("renders 100 services with their running/desired replicas", async () => {
    await page.getByTestId("nav-services").click();
    await expect.poll(() => page.getByTestId("services-table").getAttribute("data-rows")).toBe(String(SERVICES));
    expect(await cell(`service-row-${serviceName(0)}`, "replicas").textContent()).toBe("100/100");
    expect(await cell(`service-row-${serviceName(0)}`, "ports").textContent()).toBe("8080:80/tcp");
  });

  it("applies 1,000 changes from the watch to the rows they touch", async () => {
    // 1,000 tasks of svc-000..svc-009 fail (in 100 raft entries), and 50 nodes drain.
    const failing = fixture.tasks.slice(0, 1000);
    for (let i = 0; i < 100; i++) {
      const changes: Change[] = failing.slice(i * 10, i * 10 + 10).map((task) => ({
        kind: "task",
        action: "upsert",
        object: { ...task, state: "failed", error: "exit 1", version: 2 },
      }));
      if (i < 50) {
        const node = fixture.nodes[i]!;
        changes.push({ kind: "node", action: "upsert", object: { ...node, availability: "drain", version: 2 } });
      }
      mock.commit(changes);
    }
    await expect.poll(() => cell(`service-row-${serviceName(0)}`, "replicas").textContent()).toBe("0/100");
    expect(await cell(`service-row-${serviceName(9)}`, "replicas").textContent()).toBe("0/100");
    expect(await cell(`service-row-${serviceName(10)}`, "replicas").textContent()).toBe("100/100");

    await page.getByTestId("nav-nodes").click();
    await page.getByTestId(`node-row-${nodeHostname(0)}`).waitFor();
    expect(await cell(`node-row-${nodeHostname(0)}`, "availability").textContent()).toBe("drain");
    // node-0000 lost task 0 (failed: no longer reserving): 9 of its 10 tasks run.
    expect(await cell(`node-row-${nodeHostname(0)}`, "cpu").textContent()).toBe("0.9 / 4");
    await scroll("nodes-table", 40 * ROW_HEIGHT);
    await page.getByTestId(`node-row-${nodeHostname(50)}`).waitFor();
    expect(await cell(`node-row-${nodeHostname(49)}`, "availability").textContent()).toBe("drain");
    expect(await cell(`node-row-${nodeHostname(50)}`, "availability").textContent()).toBe("active");
    expect(await rowsInDom("node-row-")).toBeLessThan(80);
  });

  it("fetches the state again on a resync", async () => {
    const before = mock.stateFetches();
    const task = fixture.tasks[5000]!;
    const moved = { ...fixtureTask(fixture.services[50]!, task.slot, fixture.nodes[999]!, 3), id: task.id };
    mock.commit([{ kind: "task", action: "upsert", object: moved }]);
    mock.resync();
    await expect.poll(() => mock.stateFetches()).toBe(before + 1);
    await scroll("nodes-table");
    await expect.poll(() => cell(`node-row-${nodeHostname(NODES - 1)}`, "tasks").textContent()).toBe("11");
  });

  it("shows a service's tasks, logs and stats, and scales it after a confirmation", async () => {
    const service = fixture.services[20]!;
    await page.goto(`${mock.url}/#/services/${service.id}`);
    await page.getByTestId("service-page").waitFor();
    await expect.poll(() => page.getByTestId("tasks-table").getAttribute("data-rows")).toBe("100");
    expect(await rowsInDom("task-row-")).toBeLessThan(80);

    const task = fixture.tasks.find((candidate) => candidate.serviceId === service.id)!;
    await expect.poll(() => page.getByTestId("logs").count()).toBe(1);
    for (let i = 0; i < 3; i++) {
      mock.emit("log", { time: "", taskId: task.id, nodeId: task.nodeId, stream: "stdout", line: `hello ${i}` });
    }
    await expect.poll(() => page.getByTestId("log-line").count()).toBe(3);
    expect(await page.getByTestId("log-line").last().textContent()).toContain("hello 2");
    expect(mock.streamsOpened.slice(-2)).toEqual([
      `/api/v1/services/${service.id}/logs?follow=1&tail=100`,
      `/api/v1/services/${service.id}/stats`,
    ]);
    mock.emit("stats", {
      ...{ time: "", taskId: task.id, containerId: task.containerId, cpuPercent: 12.5, memoryBytes: 1024 ** 2 },
      ...{ memoryLimitBytes: 0, networkRxBytes: 0, networkTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, pids: 1 },
    });
    await expect
      .poll(() => page.getByTestId(`stats-row-${task.id}`).locator('[data-col="cpu"]').textContent())
      .toBe("12.5%");
    const other = fixture.tasks.find((candidate) => candidate.serviceId === service.id && candidate.id !== task.id)!;
    mock.emit("stats", { taskId: other.id, message: "no such container" }, "error");
    await expect.poll(() => page.getByTestId(`stats-row-${other.id}`).textContent()).toContain("no such container");

    // A task's row shows that task's logs and stats; "all tasks" goes back to the service's.
    await page.getByTestId(`task-row-${task.id}`).click();
    await expect.poll(() => page.getByTestId("logs-title").textContent()).toContain(`Logs of ${task.name}`);
    await expect
      .poll(() => mock.streamsOpened.slice(-2))
      .toEqual([`/api/v1/tasks/${task.id}/logs?follow=1&tail=100`, `/api/v1/tasks/${task.id}/stats`]);
    expect(await page.getByTestId("log-line").count()).toBe(0);
    await page.getByTestId("all-tasks").click();
    await expect.poll(() => mock.streamsOpened.at(-1)).toBe(`/api/v1/services/${service.id}/stats`);

    await page.getByTestId("scale-input").fill("5");
    await page.getByTestId("scale-button").click();
    await page.getByTestId("confirm-dialog").waitFor();
    await page.getByTestId("confirm-ok").click();
    await page.getByTestId("confirm-dialog").waitFor({ state: "detached" });
    expect(mock.actions.at(-1)).toEqual({
      method: "POST",
      path: `/api/v1/services/${service.id}/scale`,
      body: { replicas: 5 },
    });
    await expect.poll(() => page.getByTestId("service-replicas").textContent()).toBe("100/5");
  });

  it("keeps the dialog open with the server's refusal, and Cancel sends nothing", async () => {
    const count = mock.actions.length;
    await page.getByTestId("image-input").fill("bad ref");
    await page.getByTestId("update-image-button").click();
    mock.refuseNext(400, "image: invalid reference format", "image");
    await page.getByTestId("confirm-ok").click();
    await expect.poll(() => page.getByTestId("confirm-error").textContent()).toBe("image: invalid reference format");
    await page.getByTestId("confirm-cancel").click();
    await page.getByTestId("confirm-dialog").waitFor({ state: "detached" });
    await page.getByTestId("rollback-button").click();
    await page.getByTestId("confirm-cancel").click();
    expect(mock.actions.length).toBe(count);
  });

  it("drains a node from its page", async () => {
    const node = fixture.nodes[700]!;
    await page.getByTestId("nav-nodes").click();
    await page.goto(`${mock.url}/#/nodes/${node.id}`);
    await page.getByTestId("node-page").waitFor();
    await expect.poll(() => page.getByTestId("tasks-table").getAttribute("data-rows")).toBe("10");
    await page.getByTestId("drain-button").click();
    await page.getByTestId("confirm-ok").click();
    await expect.poll(() => page.getByTestId("node-availability").textContent()).toBe("drain");
    expect(mock.actions.at(-1)).toEqual({
      method: "POST",
      path: `/api/v1/nodes/${node.id}/availability`,
      body: { availability: "drain" },
    });
  });

  it("follows the events feed", async () => {
    await page.getByTestId("nav-events").click();
    await page.getByTestId("events-list").waitFor();
    await expect
      .poll(async () => {
        mock.emit("event", {
          ...{ time: "2026-01-01T00:00:01Z", type: "service", action: "update", id: "s1", name: "svc-001" },
          ...{ changes: [{ field: "replicas", old: "1", new: "2" }], attributes: {} },
        });
        return page.getByTestId("event-row").count();
      })
      .toBeGreaterThan(0);
    expect(await page.getByTestId("event-row").first().textContent()).toContain("replicas: 1 → 2");
  });

  it("turns into the login note when the watch says the session ended", async () => {
    await page.getByTestId("nav-nodes").click();
    mock.logout();
    await page.getByTestId("logged-out").waitFor();
    expect(await page.getByTestId("logged-out").textContent()).toContain("shoal dashboard login");
  });

  it("broke no content security policy (no inline script or style)", () => {
    expect(cspViolations).toEqual([]);
  });
});
