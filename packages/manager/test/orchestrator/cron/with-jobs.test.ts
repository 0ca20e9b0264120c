// The job cron with the job orchestrator on one store, as the leader runs them: a tick's new
// iteration becomes tasks, and the overlap decides what happens to the run still going. The test
// plays the scheduler and the agents (place, report) on a manual clock.
import { afterEach, describe, expect, it } from "vitest";
import { ScheduleOverlap, TaskState, type Task } from "@shoal/shared";
import { JobCron } from "../../../src/orchestrator/cron/job-cron.js";
import { JobOrchestrator } from "../../../src/orchestrator/jobs/orchestrator.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { node } from "../fixtures.js";
import { place, report, settle, setup, tasksOf } from "../helpers.js";
import { MINUTE, START, jobOf, runsOf, scheduledJob } from "./fixtures.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function leader(overlap: ScheduleOverlap): { store: MemoryStore; tick: () => Promise<void> } {
  const { store, clock, logger } = setup(START);
  for (const c of [new JobCron({ store, clock, logger }), new JobOrchestrator({ store, clock, logger })]) {
    void c.run();
    stops.push(() => c.stop());
  }
  void store.update((tx) => {
    tx.nodes.create(node("n1"));
    tx.services.create(scheduledJob("job", { lastTick: START, overlap }));
  });
  return {
    store,
    tick: async () => {
      clock.advance(MINUTE);
      await settle();
      // The scheduler and the agent: new tasks run.
      for (const t of tasksOf(store, "svc-job").filter((x) => x.status?.state === TaskState.NEW)) {
        await place(store, t.id, "n1");
      }
      await settle();
    },
  };
}

/** [iteration, desired state] of each task of the job. */
const tasks = (store: MemoryStore): [number, string][] =>
  tasksOf(store, "svc-job")
    .sort((a: Task, b: Task) => (a.jobIteration?.index ?? 0) - (b.jobIteration?.index ?? 0))
    .map((t) => [t.jobIteration?.index ?? 0, TaskState[t.desiredState]!]);

describe("JobCron with the job orchestrator", () => {
  it("no task before the first tick; each tick's run becomes tasks", async () => {
    const { store, tick } = leader(ScheduleOverlap.SKIP);
    await settle();
    expect(tasks(store)).toEqual([]);
    await tick();
    expect(tasks(store)).toEqual([[1, "RUNNING"]]);
    await report(store, tasksOf(store, "svc-job")[0]!.id, TaskState.COMPLETE);
    await settle();
    expect(runsOf(jobOf(store, "svc-job")).map(([i, , o]) => [i, o])).toEqual([[1, "SUCCEEDED"]]);
    await tick();
    expect(tasks(store).map(([i]) => i)).toEqual([1, 2]);
  });

  it("replace shuts the running run's task down; skip and allow leave it running", async () => {
    const replace = leader(ScheduleOverlap.REPLACE);
    await replace.tick();
    await replace.tick();
    expect(tasks(replace.store)).toEqual([
      [1, "SHUTDOWN"],
      [2, "RUNNING"],
    ]);
    const skip = leader(ScheduleOverlap.SKIP);
    await skip.tick();
    await skip.tick();
    expect(tasks(skip.store)).toEqual([[1, "RUNNING"]]);
    expect(jobOf(skip.store, "svc-job").jobStatus!.skippedTicks).toBe(1);
    const allow = leader(ScheduleOverlap.ALLOW);
    await allow.tick();
    await allow.tick();
    expect(tasks(allow.store)).toEqual([
      [1, "RUNNING"],
      [2, "RUNNING"],
    ]);
  });
});
