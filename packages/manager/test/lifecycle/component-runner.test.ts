import { describe, expect, it } from "vitest";
import { ErrorCode, silentLogger } from "@shoal/shared";
import { ComponentRunner, StartAbortedError } from "../../src/lifecycle/component-runner.js";
import { FakeComponent, settle } from "./fake-component.js";

function setup(behaviours: Record<string, ConstructorParameters<typeof FakeComponent>[2]> = {}): {
  journal: string[];
  parts: FakeComponent[];
  runner: ComponentRunner;
} {
  const journal: string[] = [];
  const parts = ["a", "b", "c"].map((name) => new FakeComponent(name, journal, behaviours[name]));
  return { journal, parts, runner: new ComponentRunner(parts, silentLogger()) };
}

describe("ComponentRunner", () => {
  it("starts components one after another, each once the one before is up", async () => {
    const { journal, runner } = setup();
    await runner.start();
    expect(journal).toEqual(["run a", "up a", "run b", "up b", "run c", "up c"]);
    expect(runner.names).toEqual(["a", "b", "c"]);
  });

  it("waits for a component to be up before starting the next", async () => {
    const { journal, parts, runner } = setup({ b: { hold: true } });
    const started = runner.start();
    await settle();
    expect(journal).toEqual(["run a", "up a", "run b"]);
    parts[1]!.up();
    await started;
    expect(journal.slice(3)).toEqual(["up b", "run c", "up c"]);
  });

  it("stops in reverse order, aborting each component's signal just before its stop", async () => {
    const { journal, parts, runner } = setup();
    await runner.start();
    journal.length = 0;
    await runner.stop();
    expect(journal).toEqual(["stop c (aborted)", "stop b (aborted)", "stop a (aborted)"]);
    expect(parts.every((p) => p.signal?.aborted)).toBe(true);
  });

  it("stops once however often stop() is called", async () => {
    const { parts, runner } = setup();
    await runner.start();
    const first = runner.stop();
    expect(runner.stop()).toBe(first);
    await Promise.all([first, runner.stop()]);
    await runner.stop();
    expect(parts.map((p) => p.stops)).toEqual([1, 1, 1]);
  });

  it("logs a stop that fails and stops the rest", async () => {
    const { journal, runner } = setup({ b: { failStop: new Error("stuck") } });
    await runner.start();
    journal.length = 0;
    await expect(runner.stop()).resolves.toBeUndefined();
    expect(journal).toEqual(["stop c (aborted)", "stop b (aborted)", "stop a (aborted)"]);
  });

  it("on stop() during start-up: the starting component gives up, no other starts, all started stop in reverse", async () => {
    const { journal, parts, runner } = setup({ b: { hold: true } });
    const started = runner.start();
    await settle();
    const stopped = runner.stop();
    await expect(started).rejects.toBeInstanceOf(StartAbortedError);
    await stopped;
    expect(journal).toEqual(["run a", "up a", "run b", "stop b (aborted)", "stop a (aborted)"]);
    expect(parts[2]!.signal).toBeUndefined();
    const err = await started.catch((e: unknown) => e as StartAbortedError);
    expect(err).toMatchObject({ code: ErrorCode.Cancelled, component: "b" });
  });

  it("on stop() before start(): nothing starts", async () => {
    const { journal, runner } = setup();
    await runner.stop();
    await expect(runner.start()).rejects.toMatchObject({ component: "a" });
    expect(journal).toEqual([]);
  });

  it("on a failure halfway: stops those started (the failed one too) in reverse order and rejects with the cause", async () => {
    const cause = new Error("port in use");
    const { journal, parts, runner } = setup({ b: { fail: cause } });
    await expect(runner.start()).rejects.toBe(cause);
    expect(journal).toEqual(["run a", "up a", "run b", "stop b (aborted)", "stop a (aborted)"]);
    expect(parts[2]!.signal).toBeUndefined();
    // Stopped already: a later stop() does nothing more.
    await runner.stop();
    expect(parts.map((p) => p.stops)).toEqual([1, 1, 0]);
  });

  it("refuses a second start()", async () => {
    const { runner } = setup();
    await runner.start();
    await expect(runner.start()).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
  });

  it("treats a run() that throws at once as a failure", async () => {
    const journal: string[] = [];
    const a = new FakeComponent("a", journal);
    const bad = {
      name: "bad",
      run: (): Promise<void> => {
        throw new Error("sync");
      },
      stop: () => void journal.push("stop bad"),
    };
    const runner = new ComponentRunner([a, bad], silentLogger());
    await expect(runner.start()).rejects.toThrow("sync");
    expect(journal).toEqual(["run a", "up a", "stop bad", "stop a (aborted)"]);
  });
});
