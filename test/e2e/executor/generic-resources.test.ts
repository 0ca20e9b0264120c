// The generic resources the scheduler gave a task reach its container on a real dockerd as
// Swarm's DOCKER_RESOURCE_<KIND> variables: seen by `docker inspect` and from inside.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { Task, TaskState, discreteResource, namedResource, silentLogger } from "@shoal/shared";
import { DockerExecutor, doTask, type Controller } from "@shoal/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../harness/image.js";

const run = promisify(execFile);
const RUN = randomBytes(3).toString("hex");
const NODE = `e2enode${RUN}`;
const RUN_LABEL = "com.shoal.e2e.run";
let image: string;
let executor: DockerExecutor;
const controllers: Controller[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 20_000 });
  return stdout.trim();
}

beforeAll(async () => {
  image = await ensureBaseImage();
  executor = new DockerExecutor({ logger: silentLogger(), nodeId: NODE, backoff: { initialMs: 50, maxMs: 200 } });
});

afterAll(async () => {
  for (const c of controllers) c.close();
  await executor.close();
  const ids = await docker("ps", "-aq", "--filter", `label=${RUN_LABEL}=${RUN}`);
  if (ids !== "") await docker("rm", "-f", "-v", ...ids.split("\n"));
});

describe("generic resources on the host's dockerd", () => {
  it("hands the task's assigned units and counts to its container as DOCKER_RESOURCE_*", async () => {
    const task = Task.fromPartial({
      id: `t${RUN}gpu`,
      serviceId: `s${RUN}gpu`,
      slot: 1,
      nodeId: NODE,
      serviceAnnotations: { name: `e2e-${RUN}-gpu` },
      desiredState: TaskState.RUNNING,
      status: { state: TaskState.ASSIGNED },
      spec: { container: { image, args: ["sleep", "60"], env: ["A=1"], labels: { [RUN_LABEL]: RUN } } },
      assignedGenericResources: [
        namedResource("gpu", "GPU-a"),
        namedResource("gpu", "GPU-b"),
        discreteResource("ssd", 2),
      ],
    });
    const controller = executor.controller(task);
    controllers.push(controller);
    const signal = AbortSignal.timeout(30_000);
    let current = task;
    while ((current.status?.state ?? 0) < TaskState.RUNNING) {
      const step = await doTask(current, controller, signal);
      expect(step.status.state).toBeLessThanOrEqual(TaskState.RUNNING);
      if (step.outcome === "retry") await new Promise((r) => setTimeout(r, 100));
      current = { ...current, status: step.status };
    }
    const name = await docker("ps", "-q", "--filter", `label=com.shoal.task.id=${task.id}`);
    const env = JSON.parse(await docker("inspect", "--format", "{{json .Config.Env}}", name)) as string[];
    expect(env).toEqual(expect.arrayContaining(["A=1", "DOCKER_RESOURCE_GPU=GPU-a,GPU-b", "DOCKER_RESOURCE_SSD=2"]));
    expect(await docker("exec", name, "sh", "-c", "echo $DOCKER_RESOURCE_GPU")).toBe("GPU-a,GPU-b");
  });
});
