// The executor on a test host pulls its image from the run's registry when the host does not have
// it, then runs the task: the path every agent takes for a new image.
import { HealthState, Task, TaskState, newId, silentLogger } from "@shoal/shared";
import { DockerExecutor, doTask, type Controller } from "@shoal/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../harness/index.js";

let harness: Harness;
let executor: DockerExecutor;

beforeAll(async () => {
  harness = await createHarness({ hosts: 1 });
  executor = new DockerExecutor({ logger: silentLogger(), host: harness.hosts[0]!.dockerHost });
});

afterAll(async () => {
  await executor?.close();
  await harness?.dispose();
});

/** Steps the task until it stops advancing. */
async function drive(task: Task, controller: Controller): Promise<Task> {
  let current = task;
  for (let i = 0; i < 20; i++) {
    const result = await doTask(current, controller, AbortSignal.timeout(30_000));
    current = { ...current, status: result.status };
    if (result.outcome !== "advanced") break;
  }
  return current;
}

describe("image pull through the executor", () => {
  it("pulls a missing image from the registry, runs the task, and reports it complete", async () => {
    const host = harness.hosts[0]!;
    const before = await host.docker(["image", "inspect", harness.baseImage], { check: false });
    expect(before.exitCode).not.toBe(0);

    const task = Task.fromPartial({
      id: newId(),
      serviceId: newId(),
      slot: 1,
      nodeId: newId(),
      serviceAnnotations: { name: "pull" },
      desiredState: TaskState.RUNNING,
      status: { state: TaskState.ASSIGNED },
      spec: { container: { image: harness.baseImage, args: ["echo", "pulled and ran"] } },
    });
    const controller = executor.controller(task);
    try {
      const done = await drive(task, controller);
      expect(done.status?.state).toBe(TaskState.COMPLETE);
      expect(done.status?.containerStatus?.exitCode).toBe(0);
      expect(done.status?.health ?? HealthState.NONE).not.toBe(HealthState.UNHEALTHY);
      const after = await host.docker(["image", "inspect", "--format", "{{index .RepoTags 0}}", harness.baseImage]);
      expect(after.stdout.trim()).toBe(harness.baseImage);
      const logs = await host.docker(["logs", done.status!.containerStatus!.containerId]);
      expect(logs.stdout.trim()).toBe("pulled and ran");
    } finally {
      await controller.remove().catch(() => undefined);
      controller.close();
    }
  });
});
