// The job orchestrator with the restart supervisor and the reaper on one store, as the leader runs
// them; the test plays the scheduler and the agents (place, report) on a manual clock.
import { JobRunOutcome, ScheduleOverlap, TaskState, UpdateServiceRequest, type Service } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { updateService } from "../../../src/controlapi/services.js";
import { startJobRun } from "../../../src/orchestrator/jobs/job-runs.js";
import { JobOrchestrator } from "../../../src/orchestrator/jobs/orchestrator.js";
import { TaskReaper } from "../../../src/orchestrator/reaper/task-reaper.js";
import { RestartSupervisor } from "../../../src/orchestrator/restart/supervisor.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { node } from "../fixtures.js";
import { place, report, settle, setup, tasksOf, until } from "../helpers.js";
import { job } from "./fixtures.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function start(
  store: MemoryStore,
  clock: ReturnType<typeof setup>["clock"],
  logger: ReturnType<typeof setup>["logger"],
) {
  for (const c of [
    new JobOrchestrator({ store, clock, logger }),
    new RestartSupervisor({ store, clock, logger }),
    new TaskReaper({ store, clock, logger }),
  ]) {
    void c.run();
    stops.push(() => c.stop());
  }
}

function serviceOf(store: MemoryStore, id: string): Service {
  return store.view((tx) => tx.services.get(id))!;
}

const active = (store: MemoryStore, id: string) =>
  tasksOf(store, id).filter((t) => t.desiredState <= TaskState.RUNNING && (t.status?.state ?? 0) <= TaskState.RUNNING);

describe("JobOrchestrator", () => {
  it("completes a job of 10 with never more than 3 at a time", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("batch", { total: 10, maxConcurrent: 3, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    let most = 0;
    for (let round = 0; round < 50; round++) {
      await settle();
      const live = active(store, svc.id);
      most = Math.max(most, live.length);
      if (live.length === 0) break;
      // Run what is new, complete one task that runs.
      for (const t of live.filter((x) => x.status?.state === TaskState.NEW)) await place(store, t.id, "n1");
      const running = active(store, svc.id).find((x) => x.status?.state === TaskState.RUNNING);
      if (running !== undefined) await report(store, running.id, TaskState.COMPLETE);
    }
    await until(() => serviceOf(store, svc.id).jobStatus!.runs[0]!.outcome === JobRunOutcome.SUCCEEDED, "success");
    expect(most).toBe(3);
    const done = tasksOf(store, svc.id).filter((t) => t.status?.state === TaskState.COMPLETE);
    expect(done.map((t) => t.slot).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(serviceOf(store, svc.id).jobStatus!.runs[0]).toMatchObject({ succeeded: 10, failed: 0 });
    // Completed tasks are not restarted.
    clock.advance(60_000);
    await settle();
    expect(tasksOf(store, svc.id)).toHaveLength(10);
  });

  it("restarts a failed task after its delay, and fails the run once max attempts are spent", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("flaky", { total: 1, restart: { maxAttempts: 2, delayMs: 1_000 }, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(() => active(store, svc.id).length === 1, `attempt ${attempt}`);
      const t = active(store, svc.id)[0]!;
      await place(store, t.id, "n1");
      await report(store, t.id, TaskState.FAILED, 1);
      await settle();
      clock.advance(1_000);
    }
    await until(() => serviceOf(store, svc.id).jobStatus!.runs[0]!.outcome === JobRunOutcome.FAILED, "failed run");
    expect(serviceOf(store, svc.id).jobStatus!.runs[0]).toMatchObject({ succeeded: 0, failed: 3 });
    clock.advance(10_000);
    await settle();
    expect(active(store, svc.id)).toHaveLength(0);
    expect(tasksOf(store, svc.id)).toHaveLength(3);
  });

  it("runs again on update --force: the old run's tasks shut down, a new run in its own slots", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("again", { total: 2, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    await until(() => active(store, svc.id).length === 2, "first run");
    const [a, b] = active(store, svc.id);
    await place(store, a!.id, "n1");
    await place(store, b!.id, "n1");
    await report(store, a!.id, TaskState.COMPLETE);

    const current = serviceOf(store, svc.id);
    const spec = structuredClone(current.spec!);
    spec.taskTemplate!.forceUpdate = 1;
    await updateService(
      store,
      UpdateServiceRequest.fromPartial({ serviceId: svc.id, serviceVersion: current.meta!.version, spec }),
      clock,
    );
    await until(() => active(store, svc.id).filter((t) => t.jobIteration?.index === 2).length === 2, "second run");
    expect(store.view((tx) => tx.tasks.get(b!.id))!.desiredState).toBe(TaskState.SHUTDOWN);
    expect(
      active(store, svc.id)
        .map((t) => [t.slot, t.jobIteration?.index])
        .sort(),
    ).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(serviceOf(store, svc.id).jobStatus!.runs.map((r) => r.outcome)).toEqual([
      JobRunOutcome.REPLACED,
      JobRunOutcome.RUNNING,
    ]);
  });

  it("runs a global job once per node, on a node that joins later too", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("setup", { global: true, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("a"));
      tx.nodes.create(node("b"));
      tx.services.create(svc);
    });
    await until(() => active(store, svc.id).length === 2, "a task per node");
    for (const t of active(store, svc.id)) {
      await place(store, t.id, t.nodeId);
      await report(store, t.id, TaskState.COMPLETE);
    }
    await until(() => serviceOf(store, svc.id).jobStatus!.runs[0]!.outcome === JobRunOutcome.SUCCEEDED, "success");
    await settle();
    expect(active(store, svc.id)).toHaveLength(0);

    await store.update((tx) => tx.nodes.create(node("c")));
    await until(() => active(store, svc.id).length === 1, "a task on the new node");
    expect(active(store, svc.id)[0]).toMatchObject({ nodeId: "c", jobIteration: { index: 1 } });
    expect(tasksOf(store, svc.id).filter((t) => t.nodeId !== "c")).toHaveLength(2);

    // Removed: every task of the job goes.
    await store.update((tx) => tx.services.delete(svc.id));
    await until(() => tasksOf(store, svc.id).every((t) => t.desiredState === TaskState.REMOVE), "tasks removed");
  });

  it("keeps a bounded history per slot over many runs (the reaper trims across runs)", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("often", { total: 1, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    for (let run = 1; run <= 8; run++) {
      await until(() => active(store, svc.id).length === 1, `run ${run}`);
      const t = active(store, svc.id)[0]!;
      expect(t.jobIteration?.index).toBe(run);
      await place(store, t.id, "n1");
      await report(store, t.id, TaskState.COMPLETE);
      await until(() => serviceOf(store, svc.id).jobStatus!.runs.at(-1)!.outcome === JobRunOutcome.SUCCEEDED, "done");
      clock.advance(1_000);
      await store.update((tx) => tx.services.update(startJobRun(tx.services.get(svc.id)!, clock.now())));
    }
    await until(() => tasksOf(store, svc.id).length <= 6, "history trimmed");
    await settle();
    // The default history limit (5 finished tasks) and the live task of the ninth run.
    expect(tasksOf(store, svc.id)).toHaveLength(6);
    expect(tasksOf(store, svc.id).some((t) => t.jobIteration?.index === 8)).toBe(true);
  });

  it("under overlap ALLOW leaves the older run to finish beside the new one, and never restarts it", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("overlap", { total: 1, overlap: ScheduleOverlap.ALLOW, restart: { delayMs: 0 }, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    await until(() => active(store, svc.id).length === 1, "first run");
    const first = active(store, svc.id)[0]!;
    await place(store, first.id, "n1");

    // The next tick: a second run in its own slot, the first one still running.
    await store.update((tx) => tx.services.update(startJobRun(tx.services.get(svc.id)!, clock.now())));
    await until(() => active(store, svc.id).length === 2, "both runs");
    expect(
      active(store, svc.id)
        .map((t) => [t.slot, t.jobIteration?.index])
        .sort(),
    ).toEqual([
      [1, 1],
      [1, 2],
    ]);

    // The first run's task fails: no successor (an older run), and that run is settled FAILED.
    await report(store, first.id, TaskState.FAILED, 1);
    await until(() => serviceOf(store, svc.id).jobStatus!.runs[0]!.outcome === JobRunOutcome.FAILED, "first failed");
    clock.advance(10_000);
    await settle();
    expect(active(store, svc.id).map((t) => t.jobIteration?.index)).toEqual([2]);
    expect(serviceOf(store, svc.id).jobStatus!.runs[1]!.outcome).toBe(JobRunOutcome.RUNNING);
  });

  it("carries a run on from the store alone after a leader change", async () => {
    const { store, clock, logger } = setup();
    start(store, clock, logger);
    const svc = job("handover", { total: 4, maxConcurrent: 2, now: clock.now() });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    await until(() => active(store, svc.id).length === 2, "first two");
    const [a, b] = active(store, svc.id);
    await place(store, a!.id, "n1");
    await place(store, b!.id, "n1");
    await report(store, a!.id, TaskState.COMPLETE);
    await until(() => active(store, svc.id).length === 2, "a third");
    // The leader goes: its components stop; the next leader's start from the store.
    for (const stop of stops.splice(0)) await stop();
    await report(store, b!.id, TaskState.COMPLETE);
    start(store, clock, logger);
    await until(() => active(store, svc.id).length === 2, "a fourth, after the change");
    for (const t of active(store, svc.id)) {
      await place(store, t.id, "n1");
      await report(store, t.id, TaskState.COMPLETE);
    }
    await until(() => serviceOf(store, svc.id).jobStatus!.runs[0]!.outcome === JobRunOutcome.SUCCEEDED, "success");
    expect(tasksOf(store, svc.id).map((t) => t.slot)).toEqual([1, 2, 3, 4]);
  });
});
