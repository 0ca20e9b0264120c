import { ManualClock, TaskState } from "@shoal/shared";
import { MemoryStore } from "../../src/state/store/index.js";
import { newTask } from "../../src/orchestrator/task-factory.js";
import { service } from "./fixtures.js";
const N = 100_000;
const subs = Number(process.argv[2] ?? 0);
const clock = new ManualClock(0);
const store = new MemoryStore({ clock });
const svc = service("web", { replicas: N });
await store.update((tx) => tx.services.create(svc));
for (let i = 0; i < N; i += 1000)
  await store.update((tx) => {
    for (let j = i; j < i + 1000; j++) tx.tasks.create(newTask(svc, { slot: j + 1 }, 0));
  });
const ss = Array.from({ length: subs }, () => store.watch({ tables: ["tasks"] }));
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
  for (const s of ss) s.drain();
}
console.log("subs", subs, "status updates", N, "in", Math.round(performance.now() - t2), "ms");
