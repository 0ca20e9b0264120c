import { DaemonUnavailableError, ExecError, ExecErrorReason, type Controller } from "@shoal/agent";
import { ErrorCode, HealthState, silentLogger, systemClock } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { shutdownAndRemove } from "../../src/worker/teardown.js";

/** A controller whose shutdown and remove fail with the errors given, in turn, then succeed. */
function failing(shutdownErrors: Error[], removeErrors: Error[]): { controller: Controller; calls: string[] } {
  const calls: string[] = [];
  const step = (name: string, errors: Error[]) => async (): Promise<void> => {
    calls.push(name);
    const err = errors.shift();
    if (err !== undefined) throw err;
  };
  const controller: Controller = {
    taskId: "t1",
    health: HealthState.NONE,
    prepare: async () => undefined,
    start: async () => undefined,
    wait: async () => ({ exitCode: 0, oomKilled: false }),
    shutdown: step("shutdown", shutdownErrors),
    terminate: async () => undefined,
    remove: step("remove", removeErrors),
    inspect: async () => undefined,
    onHealth: () => () => undefined,
    close: () => undefined,
  };
  return { controller, calls };
}

const options = { clock: systemClock, logger: silentLogger(), backoff: { initialMs: 1, maxMs: 2 } };
const fatal = (): ExecError => new ExecError(ErrorCode.Internal, ExecErrorReason.Daemon, "refused");

describe("shutdownAndRemove", () => {
  it("stops, then removes", async () => {
    const { controller, calls } = failing([], []);
    expect(await shutdownAndRemove(controller, new AbortController().signal, options)).toBe(true);
    expect(calls).toEqual(["shutdown", "remove"]);
  });

  it("retries temporary errors, without stopping twice", async () => {
    const away = (): Error => new DaemonUnavailableError("away");
    const { controller, calls } = failing([away()], [away(), away()]);
    expect(await shutdownAndRemove(controller, new AbortController().signal, options)).toBe(true);
    expect(calls).toEqual(["shutdown", "shutdown", "remove", "remove", "remove"]);
  });

  it("removes (which kills) when the stop fails for good, and gives up when the removal does", async () => {
    const { controller, calls } = failing([fatal()], [fatal()]);
    expect(await shutdownAndRemove(controller, new AbortController().signal, options)).toBe(false);
    expect(calls).toEqual(["shutdown", "remove"]);
  });

  it("gives up when aborted", async () => {
    const stop = new AbortController();
    stop.abort();
    const { controller, calls } = failing([], []);
    expect(await shutdownAndRemove(controller, stop.signal, options)).toBe(false);
    expect(calls).toEqual([]);
  });
});
