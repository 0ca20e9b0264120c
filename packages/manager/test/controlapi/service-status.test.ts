// ListServices with include_status: each service's REPLICAS counted by the manager from that
// service's own tasks, so that `service ls` lists no task.
import { HealthState, ServiceSpec, Task, TaskState, type DeepPartial } from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { describe, expect, it } from "vitest";
import { createService, listServices } from "../../src/controlapi/services.js";

const spec = (name: string, mode: DeepPartial<ServiceSpec>["mode"]): ServiceSpec =>
  ServiceSpec.fromPartial({ annotations: { name }, taskTemplate: { container: { image: "shoal-base:1" } }, mode });

function task(id: string, serviceId: string, slot: number, state: TaskState, patch: DeepPartial<Task> = {}): Task {
  return Task.fromPartial({
    id,
    serviceId,
    slot,
    desiredState: TaskState.RUNNING,
    status: { state },
    ...patch,
  });
}

describe("ListServices with include_status", () => {
  it("counts running, unhealthy and desired per service from its own tasks, in the services' order", async () => {
    const store = new MemoryStore();
    const web = (await createService(store, { spec: spec("web", { $case: "replicated", value: { replicas: 3 } }) }))
      .service!;
    const agent = (await createService(store, { spec: spec("agent", { $case: "global", value: {} }) })).service!;
    await store.update((tx) => {
      tx.tasks.create(task("w1", web.id, 1, TaskState.RUNNING));
      tx.tasks.create(
        task("w2", web.id, 2, TaskState.RUNNING, {
          status: { state: TaskState.RUNNING, health: HealthState.UNHEALTHY },
        }),
      );
      tx.tasks.create(task("w3", web.id, 3, TaskState.PENDING));
      // History: an old task of slot 1, shut down; it counts for nothing.
      tx.tasks.create(task("w0", web.id, 1, TaskState.SHUTDOWN, { desiredState: TaskState.SHUTDOWN }));
      tx.tasks.create(task("a1", agent.id, 0, TaskState.RUNNING, { nodeId: "n1" }));
      tx.tasks.create(task("a2", agent.id, 0, TaskState.STARTING, { nodeId: "n2" }));
    });

    const { services, statuses } = listServices(store, { filters: undefined, includeStatus: true });
    expect(services.map((s) => s.spec?.annotations?.name)).toEqual(["agent", "web"]);
    expect(statuses).toEqual([
      { serviceId: agent.id, running: 1, unhealthy: 0, desired: 2, completed: 0, total: 0 },
      { serviceId: web.id, running: 1, unhealthy: 1, desired: 3, completed: 0, total: 0 },
    ]);
    expect(listServices(store, { filters: undefined, includeStatus: false }).statuses).toEqual([]);
  });

  it("counts a replicated job's current run with its completions", async () => {
    const store = new MemoryStore();
    const job = (
      await createService(store, {
        spec: spec("batch", { $case: "replicatedJob", value: { maxConcurrent: 2, totalCompletions: 4 } }),
      })
    ).service!;
    const iteration = job.jobStatus?.jobIteration;
    await store.update((tx) => {
      tx.tasks.create(task("j1", job.id, 1, TaskState.COMPLETE, { jobIteration: iteration }));
      tx.tasks.create(task("j2", job.id, 2, TaskState.RUNNING, { jobIteration: iteration }));
    });
    const { statuses } = listServices(store, { filters: undefined, includeStatus: true });
    expect(statuses).toEqual([{ serviceId: job.id, running: 1, unhealthy: 0, desired: 2, completed: 1, total: 4 }]);
  });
});
