// The Docker controller's wait against a stubbed daemon (inspect only) and a stubbed event
// source, on a manual clock: how an exit 137 becomes an OOM kill or a plain SIGKILL.
import { ManualClock, silentLogger, type Task } from "@shoal/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DockerController,
  OOM_EVENT_WAIT_MS,
  type DockerControllerDeps,
} from "../../../src/exec/docker/docker-controller.js";
import type { TaskEventListener, TaskEventSource } from "../../../src/exec/docker/event-stream.js";
import { TaskExitError } from "../../../src/exec/errors.js";
import { containerName } from "../../../src/exec/task-name.js";
import { makeTask } from "../task-fixture.js";

interface StubState {
  readonly Status: "created" | "running" | "exited";
  readonly ExitCode: number;
  readonly OOMKilled: boolean;
}

/** A daemon that knows one container, the task's, and answers inspect with its state. */
class StubDocker {
  state: StubState = { Status: "running", ExitCode: 0, OOMKilled: false };
  inspects = 0;

  constructor(private readonly task: Task) {}

  getContainer(name: string): { inspect: () => Promise<unknown> } {
    return {
      inspect: async () => {
        this.inspects++;
        if (name !== containerName(this.task)) throw Object.assign(new Error("no such container"), { statusCode: 404 });
        return {
          Id: "c1",
          Config: { Labels: { "com.shoal.task.id": this.task.id } },
          State: { ...this.state, Running: this.state.Status === "running", Error: "", Pid: 0 },
        };
      },
    };
  }
}

/** Hands the test the controller's listener, to send it events in any order. */
class StubEvents implements TaskEventSource {
  private readonly listeners = new Map<string, TaskEventListener>();

  subscribeTask(taskId: string, listener: TaskEventListener): () => void {
    this.listeners.set(taskId, listener);
    return () => this.listeners.delete(taskId);
  }

  emit(taskId: string, action: string, attributes: Record<string, string> = {}): void {
    this.listeners.get(taskId)?.onEvent({ action, containerId: "c1", taskId, attributes, time: 1 });
  }
}

/** Lets the controller's inspects (stubbed, so microtasks and a macrotask at most) finish. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

async function peek(promise: Promise<unknown>): Promise<"pending" | "settled"> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done ? "settled" : "pending";
}

describe("DockerController.wait on an exit 137", () => {
  const controllers: DockerController[] = [];
  afterEach(() => {
    for (const c of controllers.splice(0)) c.close();
  });

  function setup(): { task: Task; docker: StubDocker; events: StubEvents; clock: ManualClock; wait: Promise<unknown> } {
    const task = makeTask();
    const docker = new StubDocker(task);
    const events = new StubEvents();
    const clock = new ManualClock();
    const controller = new DockerController(task, {
      docker: docker as unknown as DockerControllerDeps["docker"],
      events,
      logger: silentLogger(),
      clock,
    });
    controllers.push(controller);
    const wait = controller.wait();
    wait.catch(() => undefined); // observed by each test
    return { task, docker, events, clock, wait };
  }

  /** The container dies with `code`, as the daemon reports it: inspect first, then the event. */
  function die(s: ReturnType<typeof setup>, code: number, oomKilled = false): void {
    s.docker.state = { Status: "exited", ExitCode: code, OOMKilled: oomKilled };
    s.events.emit(s.task.id, "die", { exitCode: String(code) });
  }

  const oomFailure = { reason: "oom", exitCode: 137, oomKilled: true };

  it("reports an OOM kill whose oom event arrives after die, without waiting for the deadline", async () => {
    const s = setup();
    await settle();
    die(s, 137);
    await vi.waitFor(() => expect(s.clock.pendingTimers).toBe(1));
    expect(await peek(s.wait)).toBe("pending");
    s.events.emit(s.task.id, "oom");
    await expect(s.wait).rejects.toMatchObject(oomFailure);
    await expect(s.wait).rejects.toThrow("task: killed for going over its memory limit (OOM), exit (137)");
    expect(s.clock.now()).toBe(0);
    expect(s.clock.pendingTimers).toBe(0);
  });

  it("reports an OOM kill whose oom event came before die at once", async () => {
    const s = setup();
    await settle();
    s.events.emit(s.task.id, "oom");
    die(s, 137);
    await expect(s.wait).rejects.toMatchObject(oomFailure);
    expect(s.clock.pendingTimers).toBe(0);
  });

  it("reports an OOM kill that inspect shows, with no event, at once", async () => {
    const s = setup();
    await settle();
    die(s, 137, true);
    await expect(s.wait).rejects.toMatchObject(oomFailure);
    expect(s.clock.pendingTimers).toBe(0);
  });

  it("reports a plain SIGKILL as a plain exit once the deadline passes with no oom event", async () => {
    const s = setup();
    await settle();
    die(s, 137);
    await vi.waitFor(() => expect(s.clock.pendingTimers).toBe(1));
    s.clock.advance(OOM_EVENT_WAIT_MS - 1);
    expect(await peek(s.wait)).toBe("pending");
    const inspects = s.docker.inspects;
    s.clock.advance(1);
    await expect(s.wait).rejects.toMatchObject({ reason: "exit", exitCode: 137, oomKilled: false });
    await expect(s.wait).rejects.toThrow("task: non-zero exit (137)");
    // One last look at inspect, not a polling loop.
    expect(s.docker.inspects).toBe(inspects + 1);
  });

  it("takes OOMKilled from the last look at the deadline when no event came", async () => {
    const s = setup();
    await settle();
    die(s, 137);
    await vi.waitFor(() => expect(s.clock.pendingTimers).toBe(1));
    s.docker.state = { Status: "exited", ExitCode: 137, OOMKilled: true };
    s.clock.advance(OOM_EVENT_WAIT_MS);
    await expect(s.wait).rejects.toMatchObject(oomFailure);
  });

  it("reports other exit codes at once", async () => {
    const s = setup();
    await settle();
    die(s, 143);
    await expect(s.wait).rejects.toBeInstanceOf(TaskExitError);
    await expect(s.wait).rejects.toMatchObject({ reason: "exit", exitCode: 143 });
    expect(s.clock.pendingTimers).toBe(0);
  });

  it("ends the wait for the oom event when the controller closes", async () => {
    const s = setup();
    await settle();
    die(s, 137);
    await vi.waitFor(() => expect(s.clock.pendingTimers).toBe(1));
    controllers[0]!.close();
    await expect(s.wait).rejects.toMatchObject({ temporary: true, reason: "aborted" });
    expect(s.clock.pendingTimers).toBe(0);
  });
});
