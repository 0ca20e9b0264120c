import { describe, expect, it } from "vitest";
import { Service, SequenceConflictError, TaskState, UpdateState, Task, type UpdateServiceRequest } from "@shoal/shared";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { runServiceUpdate } from "../../src/commands/service-update.js";
import type { UpdateFlags } from "../../src/commands/service-update-spec.js";
import { fakeControl, sink } from "./fake-control.js";
import { createFlags, updateFlags } from "./service-flags.js";

const service = Service.fromPartial({
  id: "svc1",
  meta: { version: { index: 7 } },
  specVersion: { index: 1 },
  spec: buildServiceSpec("app:1", [], createFlags({ replicas: "2" })),
  updateStatus: { state: UpdateState.COMPLETED, startedAt: new Date(1000), message: "update completed" },
});

const flags = (more: Partial<UpdateFlags & { rollback: boolean }>): UpdateFlags & { rollback?: boolean } => ({
  ...updateFlags(),
  ...more,
});

const out = () => ({ stdout: sink(), stderr: sink() });

describe("shoal service update", () => {
  it("sends the next spec with the version it read", async () => {
    const { control, calls } = fakeControl(() => ({ service }));
    await runServiceUpdate(control, "web", flags({ image: "app:2", detach: true }), out());
    expect(calls.map((c) => c.method)).toEqual(["getService", "updateService"]);
    const req = calls[1]!.request as UpdateServiceRequest;
    expect(req).toMatchObject({ serviceId: "svc1", serviceVersion: { index: 7 }, rollback: false });
    expect(req.spec?.taskTemplate?.container?.image).toBe("app:2");
  });

  it("sends nothing at all when a flag is bad, and names the flag", async () => {
    const { control, calls } = fakeControl(() => ({ service }));
    await expect(runServiceUpdate(control, "web", flags({ updateParallelism: "x" }), out())).rejects.toThrow(
      "--update-parallelism",
    );
    await expect(runServiceUpdate(control, "web", flags({ rollback: true, image: "x" }), out())).rejects.toThrow(
      "--rollback",
    );
    expect(calls).toEqual([]);
  });

  it("explains a stale version (the manager's out-of-sequence refusal)", async () => {
    const { control } = fakeControl((method) => {
      if (method === "updateService")
        throw new SequenceConflictError("service svc1: update of version 7, but the store has 8");
      return { service };
    });
    const err = await runServiceUpdate(control, "web", flags({ image: "app:2", detach: true }), out()).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ code: "SEQUENCE_CONFLICT" });
    expect(err!.message).toMatch(/^update out of sequence: service web changed since it was read \(version 7\)/);
    expect(err!.message).toContain("run the command again");
  });

  it("rolls back with rollback: true and no spec", async () => {
    const { control, calls } = fakeControl(() => ({ service }));
    await runServiceUpdate(control, "web", flags({ rollback: true, detach: true }), out());
    expect(calls[1]!.request).toMatchObject({ serviceId: "svc1", serviceVersion: { index: 7 }, rollback: true });
    expect((calls[1]!.request as UpdateServiceRequest).spec).toBeUndefined();
  });

  it("follows the rollout until the update completes", async () => {
    let polls = 0;
    const updated = Service.fromPartial({ ...service, specVersion: { index: 2 } });
    const task = (slot: number, version: number, state: TaskState): Task =>
      Task.fromPartial({
        id: `t${slot}-${version}`,
        serviceId: "svc1",
        slot,
        specVersion: { index: version },
        desiredState: TaskState.RUNNING,
        status: { state },
        meta: { createdAt: new Date(version * 1000) },
      });
    const { control } = fakeControl((method) => {
      if (method === "getService") {
        polls++;
        const status =
          polls < 3
            ? service.updateStatus
            : {
                state: polls < 4 ? UpdateState.UPDATING : UpdateState.COMPLETED,
                startedAt: new Date(5000),
                message: "",
              };
        return { service: polls === 1 ? service : { ...updated, updateStatus: status } };
      }
      if (method === "listTasks") {
        const tasks =
          polls < 3
            ? [task(1, 1, TaskState.RUNNING), task(2, 1, TaskState.RUNNING)]
            : [task(1, 2, TaskState.RUNNING), task(2, 2, TaskState.RUNNING)];
        return { tasks };
      }
      return { service: updated };
    });
    const o = out();
    await runServiceUpdate(control, "web", flags({ image: "app:2" }), o);
    expect(o.stdout.text).toBe("web\n");
    expect(o.stderr.text).toContain("overall progress: 2 out of 2 tasks");
    expect(o.stderr.text).toContain("1/2: running");
    expect(o.stderr.text).toMatch(/verify: Service converged\n$/);
  });

  it("runs a job again on --force and waits for that run, not for a rollout", async () => {
    const job = Service.fromPartial({
      id: "job1",
      meta: { version: { index: 3 } },
      spec: buildServiceSpec("app:1", [], {
        name: "batch",
        mode: "replicated-job",
        replicas: "2",
        env: [],
        label: [],
        containerLabel: [],
        constraint: [],
        placementPref: [],
        publish: [],
      }),
      jobStatus: { jobIteration: { index: 1 }, runs: [{ iteration: { index: 1 }, outcome: 1 }] },
    });
    const again = Service.fromPartial({
      ...job,
      jobStatus: {
        jobIteration: { index: 2 },
        runs: [
          { iteration: { index: 1 }, outcome: 1 },
          { iteration: { index: 2 }, outcome: 1, succeeded: 2 },
        ],
      },
    });
    const done = (slot: number) =>
      Task.fromPartial({ serviceId: "job1", slot, jobIteration: { index: 2 }, status: { state: TaskState.COMPLETE } });
    const { control, calls } = fakeControl((method) =>
      method === "listTasks"
        ? { tasks: [done(1), done(2)] }
        : { service: method === "getService" && calls.length === 1 ? job : again },
    );
    const o = out();
    await runServiceUpdate(control, "batch", flags({ force: true }), o);
    const req = calls[1]!.request as UpdateServiceRequest;
    expect(req.spec?.taskTemplate?.forceUpdate).toBe(1);
    expect(o.stderr.text).toContain("job progress: 2 out of 2 complete");
    expect(o.stderr.text).toContain("job complete");
  });
});
