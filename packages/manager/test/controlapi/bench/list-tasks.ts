// ListTasks of 100,000 tasks (one service, realistic tasks from the store fixtures) answered in
// one message, as before paging, and page by page: the manager's time to build and encode the
// answer(s), the bytes, the largest message and the longest single call (one turn of the
// manager's event loop). Not a test: prints one JSON line per case, e.g.
//   {"bench":"list-tasks","tasks":100000,"mode":"pages","page_size":5000,"pages":20,...}
//   node_modules/.bin/tsx --conditions=@shoal/source packages/manager/test/controlapi/bench/list-tasks.ts
// BENCH_TASKS (default 100000), BENCH_RUNS (default 3; the median run is reported).
import { loadavg } from "node:os";
import { ListTasksResponse, newId, type ListTasksRequest, type TaskFilters } from "@shoal/shared";
import { listTasks } from "../../../src/controlapi/tasks.js";
import { MemoryStore } from "../../../src/state/store/index.js";
import { makeNode, makeService, makeTask } from "../../state/store/fixtures.js";

const TASKS = Number(process.env["BENCH_TASKS"] ?? 100_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 3);
const NODES = 1_000;

interface Walk {
  readonly ms: number;
  readonly pages: number;
  readonly bytes: number;
  readonly maxPageBytes: number;
  readonly maxCallMs: number;
  readonly tasks: number;
}

/** Every page of ListTasks with `req`'s page fields (none: the unpaged answer), each encoded. */
function walk(store: MemoryStore, filters: TaskFilters, paging: Partial<ListTasksRequest>): Walk {
  const t0 = performance.now();
  let pages = 0;
  let bytes = 0;
  let maxPageBytes = 0;
  let maxCallMs = 0;
  let tasks = 0;
  let pageToken: string | undefined = paging.pageToken;
  do {
    const c0 = performance.now();
    const res = listTasks(store, { filters, ...paging, ...(pageToken ? { pageToken } : {}) });
    const size = ListTasksResponse.encode(res).finish().length;
    maxCallMs = Math.max(maxCallMs, performance.now() - c0);
    pages++;
    bytes += size;
    maxPageBytes = Math.max(maxPageBytes, size);
    tasks += res.tasks.length;
    pageToken = res.nextPageToken;
  } while (pageToken);
  return { ms: performance.now() - t0, pages, bytes, maxPageBytes, maxCallMs, tasks };
}

const store = new MemoryStore();
const service = makeService("web");
const nodes = Array.from({ length: NODES }, (_, i) => makeNode(`worker-${i}`));
await store.update((tx) => {
  tx.services.create(service);
  nodes.forEach((n) => tx.nodes.create(n));
});
for (let start = 0; start < TASKS; start += 5_000) {
  await store.update((tx) => {
    for (let i = start; i < Math.min(TASKS, start + 5_000); i++)
      tx.tasks.create(makeTask(service, i + 1, nodes[i % NODES]!.id, newId()));
  });
}

const round = (n: number): number => Math.round(n * 10) / 10;
const filters: TaskFilters = { idPrefixes: [], serviceIds: [service.id], nodeIds: [], desiredStates: [] };
const cases: { mode: string; pageSize?: number }[] = [
  { mode: "one-message" },
  { mode: "pages", pageSize: 5_000 },
  { mode: "pages", pageSize: 1_000 },
];
for (const c of cases) {
  const paging = c.pageSize === undefined ? {} : { pageSize: c.pageSize };
  walk(store, filters, paging); // warm-up
  const runs = Array.from({ length: RUNS }, () => walk(store, filters, paging)).sort((a, b) => a.ms - b.ms);
  const r = runs[Math.floor(RUNS / 2)]!;
  console.log(
    JSON.stringify({
      bench: "list-tasks",
      tasks: r.tasks,
      mode: c.mode,
      page_size: c.pageSize ?? 0,
      pages: r.pages,
      total_ms: round(r.ms),
      longest_call_ms: round(r.maxCallMs),
      total_mb: round(r.bytes / 1e6),
      largest_message_mb: round(r.maxPageBytes / 1e6),
      loadavg: loadavg().map(round),
    }),
  );
}
