import { describe, expect, it } from "vitest";
import { UpdateFailureAction, UpdateOrder, durationFromMs } from "@shoal/shared";
import { DEFAULT_UPDATE_CONFIG, applyUpdateConfig, parseUpdateConfigFlags } from "../../src/commands/update-config.js";

describe("--update-* and --rollback-* flags", () => {
  it("give nothing when none is set", () => {
    expect(parseUpdateConfigFlags({}, "update")).toBeUndefined();
    expect(parseUpdateConfigFlags({ updateParallelism: "2" }, "rollback")).toBeUndefined();
  });

  it("parse every field of one kind", () => {
    const edit = parseUpdateConfigFlags(
      {
        updateParallelism: "2",
        updateDelay: "1s",
        updateOrder: "start-first",
        updateFailureAction: "rollback",
        updateMonitor: "500ms",
        updateMaxFailureRatio: "0.25",
      },
      "update",
    );
    expect(edit).toEqual({
      parallelism: 2,
      delay: durationFromMs(1000),
      order: UpdateOrder.START_FIRST,
      failureAction: UpdateFailureAction.ROLLBACK,
      monitor: durationFromMs(500),
      maxFailureRatio: 0.25,
    });
    expect(parseUpdateConfigFlags({ rollbackParallelism: "0", rollbackFailureAction: "continue" }, "rollback")).toEqual(
      { parallelism: 0, failureAction: UpdateFailureAction.CONTINUE },
    );
  });

  it.each([
    [{ updateParallelism: "-1" }, "update", "--update-parallelism"],
    [{ updateParallelism: "two" }, "update", "--update-parallelism"],
    [{ updateDelay: "5" }, "update", "--update-delay"],
    [{ updateOrder: "first" }, "update", "--update-order"],
    [{ updateFailureAction: "explode" }, "update", "--update-failure-action"],
    [{ updateMonitor: "soon" }, "update", "--update-monitor"],
    [{ updateMaxFailureRatio: "1.5" }, "update", "--update-max-failure-ratio"],
    [{ updateMaxFailureRatio: "-0.1" }, "update", "--update-max-failure-ratio"],
    [{ rollbackFailureAction: "rollback" }, "rollback", "--rollback-failure-action"],
    [{ rollbackDelay: "1x" }, "rollback", "--rollback-delay"],
  ] as const)("refuse %o naming the flag", (flags, kind, flag) => {
    expect(() => parseUpdateConfigFlags(flags, kind)).toThrow(flag);
  });

  it("change only the fields given, from Swarm's defaults when unset", () => {
    const fresh = applyUpdateConfig(undefined, { delay: durationFromMs(2000) });
    expect(fresh).toEqual({ ...DEFAULT_UPDATE_CONFIG, delay: durationFromMs(2000) });
    expect(fresh.parallelism).toBe(1);
    const next = applyUpdateConfig(fresh, { parallelism: 3 });
    expect(next).toEqual({ ...fresh, parallelism: 3 });
    expect(applyUpdateConfig(next, undefined)).toEqual(next);
  });
});
