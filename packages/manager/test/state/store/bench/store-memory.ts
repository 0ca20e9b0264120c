// Memory of a manager's store holding 100,000 running tasks of a realistic size (100 services of
// 1,000 tasks on 200 nodes), written through the real path: update() -> LocalProposer (encode,
// decode) -> applyEntry. Also times save/restore of that state. Not a test: prints one JSON line
// {"bench":"store-memory","tasks":100000,"heap_mb":...}. It needs --expose-gc and the
// "@shoal/source" condition, and re-runs itself with them, so plain tsx is enough:
//   node_modules/.bin/tsx packages/manager/test/state/store/bench/store-memory.ts
import { execFileSync } from "node:child_process";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  const flags = ["--expose-gc", "--conditions=@shoal/source"];
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, ...flags, process.argv[1]!, ...process.argv.slice(2)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  process.stdout.write(out);
  process.exit(0);
}
const { MemoryStore } = await import("../../../../src/state/store/index.js");
const { makeCluster, makeNode, makeService, makeTask } = await import("../fixtures.js");

const TASKS = Number(process.env["BENCH_TASKS"] ?? 100_000);
const SERVICES = 100;
const NODES = 200;
const mb = (n: number): number => Math.round((n / 1e6) * 10) / 10;
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const baseline = heap();
const store = new MemoryStore();
const services = Array.from({ length: SERVICES }, (_, i) => makeService(`svc-${i}`));
const nodes = Array.from({ length: NODES }, (_, i) => makeNode(`worker-${i}`));
await store.update((tx) => {
  tx.clusters.create(makeCluster());
  services.forEach((s) => tx.services.create(s));
  nodes.forEach((n) => tx.nodes.create(n));
});
let t = performance.now();
for (let start = 0; start < TASKS; start += 1000) {
  await store.update((tx) => {
    for (let i = start; i < Math.min(TASKS, start + 1000); i++) {
      tx.tasks.create(makeTask(services[i % SERVICES]!, Math.floor(i / SERVICES) + 1, nodes[i % NODES]!.id));
    }
  });
}
const createMs = performance.now() - t;
const loaded = heap();
const mem = process.memoryUsage();

t = performance.now();
const bytes = store.save();
const saveMs = performance.now() - t;
t = performance.now();
const restored = new MemoryStore();
restored.restore(bytes);
const restoreMs = performance.now() - t;
t = performance.now();
const byService = store.view((tx) => tx.tasks.find({ serviceId: services[0]!.id }).length);
const findServiceMs = performance.now() - t;
t = performance.now();
const all = store.view((tx) => tx.tasks.find().length);
const listAllMs = performance.now() - t;
if (byService !== TASKS / SERVICES || all !== TASKS) throw new Error("bad counts");

console.log(
  JSON.stringify({
    bench: "store-memory",
    tasks: TASKS,
    heap_mb: mb(loaded),
    store_heap_mb: mb(loaded - baseline),
    bytes_per_task: Math.round((loaded - baseline) / TASKS),
    rss_mb: mb(mem.rss),
    limit_mb: 500,
    create_ms: Math.round(createMs),
    snapshot_mb: mb(bytes.length),
    save_ms: Math.round(saveMs),
    restore_ms: Math.round(restoreMs),
    find_by_service_ms: Math.round(findServiceMs * 10) / 10,
    list_all_ms: Math.round(listAllMs),
  }),
);
