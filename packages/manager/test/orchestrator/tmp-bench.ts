import { ManualClock, TaskState, silentLogger } from "@shoal/shared";
import { MemoryStore } from "../../src/state/store/index.js";
import { ReplicatedOrchestrator } from "../../src/orchestrator/replicated/orchestrator.js";
import { RestartSupervisor } from "../../src/orchestrator/restart/supervisor.js";
import { TaskReaper } from "../../src/orchestrator/reaper/task-reaper.js";
import { GlobalOrchestrator } from "../../src/orchestrator/global/orchestrator.js";
import { service, node } from "./fixtures.js";

const N = Number(process.argv[2] ?? 100_000);
const clock = new ManualClock(0);
const store = new MemoryStore({ clock });
const logger = silentLogger();
const pick = (process.env["COMPS"] ?? "rsgx").split("");
const comps = [
  new ReplicatedOrchestrator({ store, logger, clock }),
  ...(pick.includes("s") ? [new RestartSupervisor({ store, logger, clock })] : []),
  ...(pick.includes("x") ? [new TaskReaper({ store, logger, clock })] : []),
  ...(pick.includes("g") ? [new GlobalOrchestrator({ store, logger, clock })] : []),
];
await store.update((tx) => {
  for (let i = 0; i < 100; i++) tx.nodes.create(node(`n${i}`));
});
for (const c of comps) void c.run();
const svc = service("web", { replicas: N });
const t0 = performance.now();
await store.update((tx) => tx.services.create(svc));
const count = () => store.view((tx) => tx.tasks.find({ serviceId: svc.id }).length);
while (count() < N) await new Promise((r) => setTimeout(r, 50));
const t1 = performance.now();
console.log("created", N, "in", Math.round(t1 - t0), "ms", "heap MB", Math.round(process.memoryUsage().heapUsed / 1e6));
// All running, as the scheduler and agents would do, in batches of 1000.
const ids = store.view((tx) => tx.tasks.find({ serviceId: svc.id }).map((t) => t.id));
const t2 = performance.now();
for (let i = 0; i < ids.length; i += 1000) {
  await store.update((tx) => {
    for (const id of ids.slice(i, i + 1000)) {
      const t = tx.tasks.get(id)!;
      t.nodeId = `n${i % 100}`;
      t.status = { ...t.status!, state: TaskState.RUNNING };
      tx.tasks.update(t);
    }
  });
}
const t3 = performance.now();
console.log("status updates", N, "in", Math.round(t3 - t2), "ms");
if (!pick.includes("s")) process.exit(0);
// Fail 1000 tasks in one batch
await store.update((tx) => {
  for (const id of ids.slice(0, 1000)) {
    const t = tx.tasks.get(id)!;
    t.status = { ...t.status!, state: TaskState.FAILED };
    tx.tasks.update(t);
  }
});
const t4 = performance.now();
await new Promise((r) => setTimeout(r, 200));
clock.advance(5000);
while (count() < N + 1000) await new Promise((r) => setTimeout(r, 20));
console.log("1000 restarts in", Math.round(performance.now() - t4), "ms (incl 200ms wait)");
for (const c of comps) await c.stop();
