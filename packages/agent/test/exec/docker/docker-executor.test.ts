// The Docker executor with no daemon behind its socket: everything is a temporary error.
import { TaskState, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { DaemonUnavailableError, DockerExecutor, doTask } from "@shoal/agent";
import { makeTask, withState } from "../task-fixture.js";

describe("DockerExecutor without a daemon", () => {
  let executor: DockerExecutor;
  afterEach(async () => {
    await executor.close();
  });

  function make(): DockerExecutor {
    executor = new DockerExecutor({ logger: silentLogger(), host: "unix:///nonexistent/shoal-test.sock" });
    return executor;
  }

  it("reports an unreachable daemon as temporary from describe and list", async () => {
    const e = make();
    await expect(e.describe()).rejects.toBeInstanceOf(DaemonUnavailableError);
    await expect(e.list()).rejects.toMatchObject({ temporary: true, reason: "daemon-unavailable" });
  });

  it("keeps a task in its state and asks for a retry", async () => {
    const e = make();
    for (const state of [TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING]) {
      const task = withState(makeTask(), state);
      const controller = e.controller(task);
      const step = await doTask(task, controller);
      controller.close();
      expect(step.outcome).toBe("retry");
      expect(step.status.state).toBe(state);
      expect(step.status.err).toMatch(/docker daemon unreachable: connect ENOENT/);
    }
  });

  it("ends waits with a temporary error when closed", async () => {
    const e = make();
    const controller = e.controller(makeTask());
    await e.close();
    await expect(controller.wait()).rejects.toMatchObject({ temporary: true });
  });
});
