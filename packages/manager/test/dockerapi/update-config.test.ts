import { UpdateFailureAction, UpdateOrder } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { fromDockerUpdateConfig, toDockerUpdateConfig } from "../../src/dockerapi/update-config.js";

describe("update and rollback configs", () => {
  it("reads Docker's defaults for unset words, and writes the config back", () => {
    const u = fromDockerUpdateConfig({ Parallelism: 2, Delay: 1_000_000_000 }, "RollbackConfig")!;
    expect(u).toEqual({
      parallelism: 2,
      delay: { seconds: 1, nanos: 0 },
      failureAction: UpdateFailureAction.PAUSE,
      monitor: undefined,
      maxFailureRatio: 0,
      order: UpdateOrder.STOP_FIRST,
    });
    expect(toDockerUpdateConfig(u, false)).toEqual({
      Parallelism: 2,
      Delay: 1_000_000_000,
      FailureAction: "pause",
      MaxFailureRatio: 0,
      Order: "stop-first",
    });
    expect(toDockerUpdateConfig(u, true)?.Monitor).toBe(5_000_000_000);
    expect(fromDockerUpdateConfig(undefined, "UpdateConfig")).toBeUndefined();
    expect(toDockerUpdateConfig(undefined, false)).toBeUndefined();
  });

  it("gives the failure ratio back as it was sent, not as the float32 it is stored in", () => {
    const stored = fromDockerUpdateConfig({ MaxFailureRatio: 0.4 }, "UpdateConfig")!;
    // What the proto's float keeps of 0.4.
    stored.maxFailureRatio = Math.fround(stored.maxFailureRatio);
    expect(toDockerUpdateConfig(stored, false)?.MaxFailureRatio).toBe(0.4);
    expect(JSON.stringify(toDockerUpdateConfig({ ...stored, maxFailureRatio: Math.fround(0.15) }, false))).toContain(
      '"MaxFailureRatio":0.15,',
    );
  });

  it("refuses a failure ratio outside 0..1, naming the config", () => {
    expect(() => fromDockerUpdateConfig({ MaxFailureRatio: 1.5 }, "RollbackConfig")).toThrow(
      "RollbackConfig.MaxFailureRatio: must be from 0 to 1, not 1.5",
    );
    expect(() => fromDockerUpdateConfig({ Order: "sideways" }, "UpdateConfig")).toThrow(
      'UpdateConfig.Order: "sideways" is not one of stop-first, start-first',
    );
  });
});
