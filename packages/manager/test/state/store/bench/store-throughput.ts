// Write throughput of the store with a LocalProposer (no network, no disk: what the store itself
// costs, wire encoding included), updates serialized as they are on the leader. Prints one JSON
// line {"bench":"store-throughput", ...}. Run: node_modules/.bin/tsx <this file>.
import { execFileSync } from "node:child_process";

if (!process.execArgv.some((a) => a.includes("@shoal/source"))) {
  const args = [...process.execArgv, "--conditions=@shoal/source", process.argv[1]!, ...process.argv.slice(2)];
  process.stdout.write(execFileSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] }));
  process.exit(0);
}
const { TaskState } = await import("@shoal/shared");
const { MemoryStore } = await import("../../../../src/state/store/index.js");
const { makeNode, makeService, makeTask } = await import("../fixtures.js");

const N = Number(process.env["BENCH_TXS"] ?? 20_000);
const store = new MemoryStore();
const svc = makeService("web");
const node = makeNode("worker-1");
await store.update((tx) => {
  tx.services.create(svc);
  tx.nodes.create(node);
});
const tasks = Array.from({ length: N }, (_, i) => makeTask(svc, i + 1, node.id));

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

// 1. One task created per transaction, one after another.
const createMs = await timed(async () => {
  for (const t of tasks) await store.update((tx) => tx.tasks.create(t));
});
// 2. One task updated per transaction (a status report): read, change, write back.
const updateMs = await timed(async () => {
  for (const t of tasks) {
    await store.update((tx) => {
      const cur = tx.tasks.get(t.id)!;
      cur.status!.state = TaskState.COMPLETE;
      tx.tasks.update(cur);
    });
  }
});
// 3. The same, but N concurrent callers queued at once (the queue serializes them).
const concurrentMs = await timed(async () => {
  await Promise.all(
    tasks.map((t) =>
      store.update((tx) => {
        const cur = tx.tasks.get(t.id)!;
        cur.desiredState = TaskState.SHUTDOWN;
        tx.tasks.update(cur);
      }),
    ),
  );
});
// 4. Batches of 100 updates per transaction (the scheduler's way).
const batchMs = await timed(async () => {
  for (let i = 0; i < N; i += 100) {
    await store.update((tx) => {
      for (const t of tasks.slice(i, i + 100)) {
        const cur = tx.tasks.get(t.id)!;
        cur.nodeId = "";
        tx.tasks.update(cur);
      }
    });
  }
});
// 5. Reads: get() of one task, and find() of all tasks of the service.
const getMs = await timed(async () => {
  for (const t of tasks) store.view((tx) => tx.tasks.get(t.id));
});

const rate = (ms: number): number => Math.round((N / ms) * 1000);
console.log(
  JSON.stringify({
    bench: "store-throughput",
    txs: N,
    create_tx_per_s: rate(createMs),
    update_tx_per_s: rate(updateMs),
    concurrent_update_tx_per_s: rate(concurrentMs),
    batched_updates_per_s: rate(batchMs),
    get_per_s: rate(getMs),
    us_per_update_tx: Math.round((updateMs / N) * 1000),
  }),
);
