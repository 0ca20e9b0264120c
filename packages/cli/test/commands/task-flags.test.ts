import { describe, expect, it } from "vitest";
import { RestartCondition, TaskSpec, durationFromMs } from "@shoal/shared";
import { applyTaskEdit, parseTaskFlags } from "../../src/commands/task-flags.js";

const template = (): TaskSpec =>
  TaskSpec.fromPartial({
    container: {
      image: "busybox",
      healthcheck: { test: ["CMD-SHELL", "true"], interval: durationFromMs(1000), retries: 2 },
    },
    resources: { limits: { nanoCpus: 5e8, memoryBytes: 64 * 1024 ** 2 } },
    restartPolicy: { condition: RestartCondition.ON_FAILURE, maxAttempts: 3 },
    placement: { constraints: ["node.role==worker"], maxReplicasPerNode: 2 },
  });

describe("task flags", () => {
  it("change nothing when none is given", () => {
    expect(parseTaskFlags({})).toEqual({});
    expect(applyTaskEdit(template(), {})).toEqual(template());
  });

  it("change one field each and keep the others", () => {
    const next = applyTaskEdit(
      template(),
      parseTaskFlags({ limitMemory: "128m", restartDelay: "2s", healthRetries: "5", maxReplicasPerNode: "1" }),
    );
    expect(next.resources?.limits).toEqual({ nanoCpus: 5e8, memoryBytes: 128 * 1024 ** 2, pids: 0, generic: [] });
    expect(next.restartPolicy).toMatchObject({
      condition: RestartCondition.ON_FAILURE,
      maxAttempts: 3,
      delay: durationFromMs(2000),
    });
    expect(next.container?.healthcheck).toMatchObject({
      test: ["CMD-SHELL", "true"],
      interval: durationFromMs(1000),
      retries: 5,
    });
    expect(next.placement).toEqual({
      constraints: ["node.role==worker"],
      preferences: [],
      maxReplicasPerNode: 1,
      platforms: [],
    });
  });

  it("disable the health check with --no-healthcheck, and start afresh after it", () => {
    const off = applyTaskEdit(template(), parseTaskFlags({ noHealthcheck: true }));
    expect(off.container?.healthcheck?.test).toEqual(["NONE"]);
    const on = applyTaskEdit(off, parseTaskFlags({ healthCmd: "false" }));
    expect(on.container?.healthcheck).toMatchObject({ test: ["CMD-SHELL", "false"], retries: 0 });
  });

  it.each([
    [{ limitCpu: "lots" }, "--limit-cpu"],
    [{ reserveMemory: "12q" }, "--reserve-memory"],
    [{ restartCondition: "always" }, "--restart-condition"],
    [{ restartMaxAttempts: "1.5" }, "--restart-max-attempts"],
    [{ healthInterval: "1" }, "--health-interval"],
    [{ stopGracePeriod: "x" }, "--stop-grace-period"],
    [{ maxReplicasPerNode: "-1" }, "--max-replicas-per-node"],
    [{ noHealthcheck: true, healthCmd: "true" }, "--no-healthcheck"],
  ] as const)("refuse %o naming the flag", (flags, flag) => {
    expect(() => parseTaskFlags(flags)).toThrow(flag);
  });
});
