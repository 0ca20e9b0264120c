// Waiting for components that run against a real MemoryStore (LocalProposer: commits at once).
import { ManualClock, TaskState, silentLogger, type Task } from "@shoal/shared";
import { MemoryStore } from "../../src/state/store/index.js";

/** Lets every queued callback run: a few turns of the event loop. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits (in event-loop turns, not time) until `check` returns true. */
export async function until(check: () => boolean, what = "condition", turns = 2_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Running {
  readonly store: MemoryStore;
  readonly clock: ManualClock;
  stop(): Promise<void>;
}

/** A store and a clock that start at the same time, so store times and the clock agree. */
export function setup(start = 1_000_000): {
  store: MemoryStore;
  clock: ManualClock;
  logger: ReturnType<typeof silentLogger>;
} {
  const clock = new ManualClock(start);
  return { store: new MemoryStore({ clock }), clock, logger: silentLogger() };
}

export function tasksOf(store: MemoryStore, serviceId: string): Task[] {
  return store.view((tx) => tx.tasks.find({ serviceId })).sort((a, b) => a.slot - b.slot || a.id.localeCompare(b.id));
}

export function runnable(tasks: readonly Task[]): Task[] {
  return tasks.filter(
    (t) => t.desiredState <= TaskState.RUNNING && (t.status?.state ?? TaskState.NEW) <= TaskState.RUNNING,
  );
}

/** Sets a task's observed state as an agent's report would. */
export async function report(store: MemoryStore, id: string, state: TaskState, exitCode = 0): Promise<void> {
  await store.update((tx) => {
    const t = tx.tasks.get(id);
    if (t === undefined) throw new Error(`no task ${id}`);
    t.status = {
      ...(t.status ?? { timestamp: undefined, message: "", err: "", health: 0, portStatus: undefined }),
      state,
      containerStatus: { containerId: "c", pid: 0, exitCode },
    };
    tx.tasks.update(t);
  });
}

/** Moves a new task to RUNNING on `nodeId`, as the scheduler and the agent would. */
export async function place(store: MemoryStore, id: string, nodeId: string): Promise<void> {
  await store.update((tx) => {
    const t = tx.tasks.get(id)!;
    t.nodeId = nodeId;
    t.status = { ...t.status!, state: TaskState.RUNNING };
    tx.tasks.update(t);
  });
}
