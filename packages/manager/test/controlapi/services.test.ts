import { describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import {
  JobRunOutcome,
  ManualClock,
  ScheduleOverlap,
  ServiceSpec,
  UpdateState,
  toServiceError,
  type DeepPartial,
} from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { createService, updateService } from "../../src/controlapi/services.js";

const spec = (patch: DeepPartial<ServiceSpec> = {}): ServiceSpec =>
  ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { container: { image: "shoal-base:1" } },
    mode: { $case: "replicated", value: { replicas: 2 } },
    ...patch,
  });

describe("services in the Control API", () => {
  it("counts spec versions for changes of what tasks run, not for scaling", async () => {
    const store = new MemoryStore();
    const created = (await createService(store, { spec: spec() })).service!;
    expect(created.specVersion?.index).toBe(1);

    const scaled = (
      await updateService(store, {
        serviceId: created.id,
        serviceVersion: created.meta?.version,
        spec: spec({ mode: { $case: "replicated", value: { replicas: 5 } } }),
        rollback: false,
      })
    ).service!;
    expect(scaled.specVersion?.index).toBe(1);
    expect(scaled.previousSpec).toBeUndefined();

    const newImage = (
      await updateService(store, {
        serviceId: created.id,
        serviceVersion: scaled.meta?.version,
        spec: spec({ taskTemplate: { container: { image: "shoal-base:2" } } }),
        rollback: false,
      })
    ).service!;
    expect(newImage.specVersion?.index).toBe(2);
    expect(newImage.previousSpec?.taskTemplate?.container?.image).toBe("shoal-base:1");
  });

  it("refuses an update based on an older version, and changes nothing", async () => {
    const store = new MemoryStore();
    const created = (await createService(store, { spec: spec() })).service!;
    await updateService(store, {
      serviceId: "web",
      serviceVersion: created.meta?.version,
      spec: spec(),
      rollback: false,
    });
    await expect(
      updateService(store, {
        serviceId: "web",
        serviceVersion: created.meta?.version,
        spec: spec({ mode: { $case: "replicated", value: { replicas: 9 } } }),
        rollback: false,
      }),
    ).rejects.toMatchObject({ code: "SEQUENCE_CONFLICT" });
    const mode = store.view((tx) => tx.services.get(created.id))!.spec!.mode;
    expect(mode?.$case === "replicated" && mode.value.replicas).toBe(2);
  });

  it("names both versions when it refuses an update out of sequence (ABORTED over gRPC)", async () => {
    const store = new MemoryStore();
    const created = (await createService(store, { spec: spec() })).service!;
    const next = (
      await updateService(store, {
        serviceId: "web",
        serviceVersion: created.meta?.version,
        spec: spec({ taskTemplate: { container: { image: "shoal-base:2" } } }),
        rollback: false,
      })
    ).service!;
    const stale = created.meta!.version!.index;
    const stored = next.meta!.version!.index;
    const refused: unknown = await updateService(store, {
      serviceId: "web",
      serviceVersion: created.meta?.version,
      spec: spec({ taskTemplate: { container: { image: "shoal-base:3" } } }),
      rollback: false,
    }).catch((err: unknown) => err);
    expect(refused).toMatchObject({
      code: "SEQUENCE_CONFLICT",
      message: `service ${created.id}: update of version ${stale}, but the store has ${stored}`,
    });
    expect(toServiceError(refused).code).toBe(status.ABORTED);
    const kept = store.view((tx) => tx.services.get(created.id))!;
    expect(kept.spec?.taskTemplate?.container?.image).toBe("shoal-base:2");
    expect(kept.specVersion?.index).toBe(2);
  });

  it("starts a rollout (UPDATING) when the task definition changes, and a rollback when asked", async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(5_000);
    const created = (await createService(store, { spec: spec() })).service!;
    expect(created.updateStatus).toBeUndefined();

    const scaled = (
      await updateService(
        store,
        {
          serviceId: "web",
          serviceVersion: created.meta?.version,
          spec: spec({ mode: { $case: "replicated", value: { replicas: 3 } } }),
          rollback: false,
        },
        clock,
      )
    ).service!;
    expect(scaled.updateStatus).toBeUndefined(); // scaling is no rollout

    const updated = (
      await updateService(
        store,
        {
          serviceId: "web",
          serviceVersion: scaled.meta?.version,
          spec: spec({ taskTemplate: { container: { image: "shoal-base:2" } } }),
          rollback: false,
        },
        clock,
      )
    ).service!;
    expect(updated.updateStatus).toEqual({
      state: UpdateState.UPDATING,
      startedAt: new Date(5_000),
      completedAt: undefined,
      message: "update in progress",
    });

    clock.advance(1_000);
    const back = (
      await updateService(
        store,
        { serviceId: "web", serviceVersion: updated.meta?.version, spec: undefined, rollback: true },
        clock,
      )
    ).service!;
    expect(back.updateStatus).toMatchObject({
      state: UpdateState.ROLLBACK_STARTED,
      startedAt: new Date(6_000),
      message: "manually requested rollback",
    });
    expect(back.spec?.taskTemplate?.container?.image).toBe("shoal-base:1");
    expect(back.previousSpec?.taskTemplate?.container?.image).toBe("shoal-base:2");
    expect(back.specVersion?.index).toBe(3);
  });

  it("a bumped force_update is a change of the task definition", async () => {
    const store = new MemoryStore();
    const created = (await createService(store, { spec: spec() })).service!;
    const forced = (
      await updateService(store, {
        serviceId: "web",
        serviceVersion: created.meta?.version,
        spec: spec({ taskTemplate: { container: { image: "shoal-base:1" }, forceUpdate: 1 } }),
        rollback: false,
      })
    ).service!;
    expect(forced.specVersion?.index).toBe(2);
    expect(forced.updateStatus?.state).toBe(UpdateState.UPDATING);
  });

  it("starts a job's first run on create, another on a change or --force, and keeps its mode", async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(1_000);
    const jobSpec = (force = 0, image = "shoal-base:1") =>
      spec({
        mode: { $case: "replicatedJob", value: { totalCompletions: 4, maxConcurrent: 2 } },
        taskTemplate: { container: { image }, forceUpdate: force },
      });
    const created = (await createService(store, { spec: jobSpec() }, clock)).service!;
    expect(created.jobStatus).toMatchObject({
      jobIteration: { index: 1 },
      lastExecution: new Date(1_000),
      runs: [{ iteration: { index: 1 }, outcome: JobRunOutcome.RUNNING }],
    });
    clock.advance(500);
    const same = (
      await updateService(
        store,
        { serviceId: created.id, serviceVersion: created.meta?.version, spec: jobSpec(), rollback: false },
        clock,
      )
    ).service!;
    expect(same.jobStatus?.jobIteration?.index).toBe(1);
    const forced = (
      await updateService(
        store,
        { serviceId: created.id, serviceVersion: same.meta?.version, spec: jobSpec(1), rollback: false },
        clock,
      )
    ).service!;
    expect(forced.jobStatus?.jobIteration?.index).toBe(2);
    expect(forced.jobStatus?.runs.map((r) => r.outcome)).toEqual([JobRunOutcome.REPLACED, JobRunOutcome.RUNNING]);
    expect(forced.updateStatus).toBeUndefined(); // no rollout for a job

    const toService = updateService(store, {
      serviceId: created.id,
      serviceVersion: forced.meta?.version,
      spec: spec(),
      rollback: false,
    });
    await expect(toService).rejects.toThrow(
      "spec.mode: a replicated job cannot become a replicated service: remove it and create it again",
    );
    const after = store.view((tx) => tx.services.get(created.id))!;
    expect(after.meta?.version).toEqual(forced.meta?.version);
  });

  it("a scheduled job waits for its first tick, and a changed schedule counts ticks from the change", async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(60_000);
    const scheduled = (cron: string, overlap = ScheduleOverlap.SKIP, image = "shoal-base:1") =>
      spec({
        mode: { $case: "replicatedJob", value: { totalCompletions: 1, maxConcurrent: 1 } },
        taskTemplate: { container: { image } },
        schedule: { cron, timezone: "", overlap },
      });
    const created = (await createService(store, { spec: scheduled("*/5 * * * *") }, clock)).service!;
    expect(created.jobStatus).toMatchObject({ jobIteration: { index: 0 }, lastTick: new Date(60_000), runs: [] });
    clock.advance(60_000);
    const update = async (next: ServiceSpec) => {
      const current = store.view((tx) => tx.services.get(created.id))!;
      const req = { serviceId: created.id, serviceVersion: current.meta?.version, spec: next, rollback: false };
      return (await updateService(store, req, clock)).service!;
    };
    // Another overlap or image: the last tick stays (and a scheduled job's change starts no run).
    const same = await update(scheduled("*/5 * * * *", ScheduleOverlap.ALLOW, "shoal-base:2"));
    expect(same.jobStatus).toMatchObject({ jobIteration: { index: 0 }, lastTick: new Date(60_000) });
    clock.advance(60_000);
    const changed = await update(scheduled("0 * * * *", ScheduleOverlap.ALLOW, "shoal-base:2"));
    expect(changed.jobStatus).toMatchObject({ jobIteration: { index: 0 }, lastTick: new Date(180_000) });
    // Removing the schedule makes an ordinary job again: its spec changed, so it runs now.
    const unscheduled = await update({
      ...scheduled("0 * * * *", ScheduleOverlap.ALLOW, "shoal-base:2"),
      schedule: undefined,
    });
    expect(unscheduled.jobStatus?.jobIteration?.index).toBe(1);
    // Adding one starts no run, and counts ticks from then.
    clock.advance(60_000);
    const rescheduled = await update(scheduled("0 * * * *", ScheduleOverlap.ALLOW, "shoal-base:2"));
    expect(rescheduled.jobStatus).toMatchObject({ jobIteration: { index: 1 }, lastTick: new Date(240_000) });
    await expect(
      update({ ...scheduled("0 * * * *"), schedule: { cron: "0 0 31 2 *", timezone: "", overlap: 0 } }),
    ).rejects.toThrow('spec.schedule.cron: "0 0 31 2 *" matches no date');
  });
});
