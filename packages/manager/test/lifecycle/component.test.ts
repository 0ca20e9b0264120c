import { describe, expect, it, vi } from "vitest";
import { backgroundLoop, stopOnly } from "../../src/lifecycle/component.js";
import { settle } from "./fake-component.js";

describe("stopOnly", () => {
  it("has nothing to start and stops once", async () => {
    const stop = vi.fn();
    const c = stopOnly("store", stop);
    await c.run(new AbortController().signal);
    expect(stop).not.toHaveBeenCalled();
    await c.stop();
    await c.stop();
    expect(stop).toHaveBeenCalledTimes(1);
  });
});

describe("backgroundLoop", () => {
  function loop(): { run: (s: AbortSignal) => Promise<void>; stop: () => void; fail: (e: Error) => void } {
    let fail: (e: Error) => void = () => undefined;
    let end: () => void = () => undefined;
    return {
      run: (signal) =>
        new Promise<void>((resolve, reject) => {
          fail = reject;
          end = resolve;
          signal.addEventListener("abort", () => resolve());
        }),
      stop: () => end(),
      fail: (e) => fail(e),
    };
  }

  it("is up at once while the loop runs on, and stops it", async () => {
    const l = loop();
    const stop = vi.spyOn(l, "stop");
    const c = backgroundLoop("scheduler", l, () => undefined);
    await c.run(new AbortController().signal);
    await c.stop();
    expect(stop).toHaveBeenCalled();
  });

  it("reports a failure of the loop, not its end when stopped", async () => {
    const failures: unknown[] = [];
    const l = loop();
    const controller = new AbortController();
    await backgroundLoop("a", l, (e) => failures.push(e)).run(controller.signal);
    l.fail(new Error("boom"));
    await settle();
    expect(failures).toEqual([new Error("boom")]);

    const l2 = loop();
    const c2 = new AbortController();
    await backgroundLoop("b", l2, (e) => failures.push(e)).run(c2.signal);
    c2.abort();
    l2.fail(new Error("after abort"));
    await settle();
    expect(failures).toHaveLength(1);
  });
});
