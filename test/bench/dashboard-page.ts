// The dashboard page's speed with 1,000 nodes and 10,000 tasks, in Debian's chromium against the
// mock server of the page test (test/e2e/support/dashboard-mock.ts, so the figures are the page's
// own, not a cluster's):
//   first load: navigation to the nodes table rendered with its figures;
//   update latency: a change committed on the server to its row changed in the DOM (a
//     MutationObserver in the page notes the time), one change at a time;
//   burst: 1,000 task changes in 100 raft entries, to the last one shown.
// Prints one JSON line: {"bench":"dashboard-page", ...}.
import type { Page } from "playwright-core";
import type { NodeView } from "@shoal/dashboard";
import { launchChromium } from "../e2e/support/chromium.js";
import { fixtureState, nodeHostname, serviceName } from "../e2e/support/dashboard-fixture.js";
import { MOCK_CSRF, MOCK_SESSION, startMockDashboard } from "../e2e/support/dashboard-mock.js";

const NODES = 1000;
const TASKS = 10_000;
const LOADS = Number(process.env["BENCH_RUNS"] ?? 5);
const UPDATES = Number(process.env["BENCH_UPDATES"] ?? 50);

const fixture = fixtureState(NODES, 100, TASKS);
const mock = await startMockDashboard(fixture);
const browser = await launchChromium();

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1));
};

/** Resolves with the browser's Date.now() when the row's cell shows text (checked on every DOM change). */
const whenCellShows = (page: Page, row: string, col: string, text: string): Promise<number> =>
  page.evaluate(`new Promise((resolve) => {
    const selector = '[data-testid="${row}"] [data-col="${col}"]';
    const shown = () => document.querySelector(selector)?.textContent === ${JSON.stringify(text)};
    if (shown()) return resolve(Date.now());
    const observer = new MutationObserver(() => {
      if (shown()) { observer.disconnect(); resolve(Date.now()); }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  })`) as Promise<number>;

try {
  const host = new URL(mock.url).hostname;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([
    { name: "shoal_session", value: MOCK_SESSION, domain: host, path: "/" },
    { name: "shoal_csrf", value: MOCK_CSRF, domain: host, path: "/" },
  ]);

  const loads: number[] = [];
  let page: Page | undefined;
  for (let i = 0; i < LOADS; i++) {
    await page?.close();
    page = await context.newPage();
    const start = performance.now();
    await page.goto(`${mock.url}/#/nodes`);
    await page
      .locator(`[data-testid="node-row-${nodeHostname(0)}"] [data-col="tasks"]`)
      .filter({ hasText: "10" })
      .waitFor();
    loads.push(performance.now() - start);
  }
  const rows = await page!.locator('[data-testid^="node-row-"]').count();

  const latencies: number[] = [];
  const node = fixture.nodes[5]!;
  for (let i = 0; i < UPDATES; i++) {
    const availability = i % 2 === 0 ? "pause" : "active";
    const shown = whenCellShows(page!, `node-row-${node.hostname}`, "availability", availability);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const object: NodeView = { ...node, availability, version: node.version + i + 1 };
    const committed = Date.now();
    mock.commit([{ kind: "node", action: "upsert", object }]);
    latencies.push((await shown) - committed);
  }

  await page!.getByTestId("nav-services").click();
  await page!.getByTestId(`service-row-${serviceName(0)}`).waitFor();
  const shown = whenCellShows(page!, `service-row-${serviceName(9)}`, "replicas", "0/100");
  const burstStart = Date.now();
  for (let i = 0; i < 100; i++) {
    mock.commit(
      fixture.tasks.slice(i * 10, i * 10 + 10).map((task) => ({
        kind: "task" as const,
        action: "upsert" as const,
        object: { ...task, state: "failed", version: 2 },
      })),
    );
  }
  const burstMs = (await shown) - burstStart;

  console.log(
    JSON.stringify({
      bench: "dashboard-page",
      nodes: NODES,
      tasks: TASKS,
      node_rows_in_dom: rows,
      first_load_runs: LOADS,
      first_load_median_ms: quantile(loads, 0.5),
      first_load_max_ms: quantile(loads, 1),
      update_runs: UPDATES,
      update_latency_median_ms: quantile(latencies, 0.5),
      update_latency_p90_ms: quantile(latencies, 0.9),
      update_latency_max_ms: quantile(latencies, 1),
      burst_1000_changes_ms: burstMs,
    }),
  );
} finally {
  await browser.close();
  await mock.close();
}
