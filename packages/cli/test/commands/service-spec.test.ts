import { describe, expect, it } from "vitest";
import {
  PortProtocol,
  PublishMode,
  RestartCondition,
  UpdateFailureAction,
  UpdateOrder,
  durationFromMs,
} from "@shoal/shared";
import { buildServiceSpec, parsePlacementPref, parsePort, type CreateFlags } from "../../src/commands/service-spec.js";
import { createFlags } from "./service-flags.js";

const flags = createFlags;

describe("service create flags", () => {
  it("make jobs as the docker CLI does: --replicas completions, --max-concurrent default the replicas", () => {
    const job = buildServiceSpec("busybox", [], flags({ mode: "replicated-job", replicas: "10", maxConcurrent: "3" }));
    expect(job.mode).toEqual({ $case: "replicatedJob", value: { totalCompletions: 10, maxConcurrent: 3 } });
    expect(job.updateConfig).toBeUndefined();
    expect(job.rollbackConfig).toBeUndefined();
    const all = buildServiceSpec("busybox", [], flags({ mode: "replicated-job", replicas: "4" }));
    expect(all.mode).toEqual({ $case: "replicatedJob", value: { totalCompletions: 4, maxConcurrent: 4 } });
    expect(buildServiceSpec("busybox", [], flags({ mode: "global-job" })).mode).toEqual({
      $case: "globalJob",
      value: {},
    });
  });

  it("build the spec with Swarm's update and rollback defaults", () => {
    const spec = buildServiceSpec("busybox", ["sleep", "60"], flags({ replicas: "3", env: ["A=1"] }));
    expect(spec.mode).toEqual({ $case: "replicated", value: { replicas: 3 } });
    expect(spec.taskTemplate?.container).toMatchObject({ image: "busybox", args: ["sleep", "60"], env: ["A=1"] });
    for (const c of [spec.updateConfig, spec.rollbackConfig]) {
      expect(c).toEqual({
        parallelism: 1,
        delay: durationFromMs(0),
        failureAction: UpdateFailureAction.PAUSE,
        monitor: durationFromMs(5000),
        maxFailureRatio: 0,
        order: UpdateOrder.STOP_FIRST,
      });
    }
  });

  it("take --update-* and --rollback-*", () => {
    const spec = buildServiceSpec(
      "busybox",
      [],
      flags({
        updateParallelism: "2",
        updateOrder: "start-first",
        updateFailureAction: "rollback",
        rollbackParallelism: "0",
      }),
    );
    expect(spec.updateConfig).toMatchObject({
      parallelism: 2,
      order: UpdateOrder.START_FIRST,
      failureAction: UpdateFailureAction.ROLLBACK,
    });
    expect(spec.rollbackConfig).toMatchObject({ parallelism: 0, failureAction: UpdateFailureAction.PAUSE });
  });

  it("keep the task flags as before: health, restart, resources, placement", () => {
    const spec = buildServiceSpec(
      "busybox",
      [],
      flags({
        healthCmd: "true",
        healthInterval: "1s",
        restartCondition: "none",
        limitCpu: "0.5",
        maxReplicasPerNode: "2",
        constraint: ["node.labels.zone==a"],
        placementPref: ["spread=node.labels.zone"],
        publish: ["8080:80"],
      }),
    );
    expect(spec.taskTemplate?.container?.healthcheck).toEqual({
      test: ["CMD-SHELL", "true"],
      interval: durationFromMs(1000),
      timeout: undefined,
      startPeriod: undefined,
      retries: 0,
    });
    expect(spec.taskTemplate?.restartPolicy).toMatchObject({ condition: RestartCondition.NONE, maxAttempts: 0 });
    expect(spec.taskTemplate?.resources).toEqual({
      limits: { nanoCpus: 5e8, memoryBytes: 0, pids: 0, generic: [] },
      reservations: undefined,
    });
    expect(spec.taskTemplate?.placement).toEqual({
      constraints: ["node.labels.zone==a"],
      preferences: [{ preference: { $case: "spread", value: { spreadDescriptor: "node.labels.zone" } } }],
      maxReplicasPerNode: 2,
      platforms: [],
    });
    expect(spec.endpoint?.ports[0]).toMatchObject({ targetPort: 80, publishedPort: 8080 });
  });

  // The docker CLI's rule: "<strategy>=<arg>", only spread, any descriptor (Swarm takes it as given).
  it("take any spread descriptor, and refuse other strategies as the docker CLI does", () => {
    for (const d of ["com.example.label", "node.labels.zone", "engine.labels.disk", ""]) {
      expect(parsePlacementPref(`spread=${d}`)).toEqual({
        preference: { $case: "spread", value: { spreadDescriptor: d } },
      });
    }
    expect(() => parsePlacementPref("binpack=node.labels.zone")).toThrow(
      "--placement-pref: unsupported placement preference binpack (only spread is supported)",
    );
    expect(() => parsePlacementPref("spread")).toThrow('must be of the format "<strategy>=<arg>"');
  });

  it.each([
    [{ mode: "both" }, "--mode"],
    [{ mode: "global", replicas: "2" }, "--replicas"],
    [{ mode: "global-job", replicas: "2" }, "--replicas"],
    [{ mode: "replicated", maxConcurrent: "2" }, "--max-concurrent"],
    [{ mode: "replicated-job", maxConcurrent: "x" }, "--max-concurrent"],
    [{ mode: "replicated-job", updateParallelism: "2" }, "--update-*"],
    [{ publish: ["80:"] }, "--publish"],
    [{ placementPref: ["binpack"] }, "--placement-pref"],
    [{ placementPref: ["spread=a=b"] }, "--placement-pref"],
    [{ updateDelay: "soon" }, "--update-delay"],
    [{ rollbackOrder: "random" }, "--rollback-order"],
  ] as const)("refuse %o naming the flag", (more, flag) => {
    expect(() => buildServiceSpec("busybox", [], flags(more as Partial<CreateFlags>))).toThrow(flag);
  });
});

describe("--publish", () => {
  it("publishes in ingress mode by default, as the docker CLI does", () => {
    expect(parsePort("8080:80")).toMatchObject({
      publishedPort: 8080,
      targetPort: 80,
      publishMode: PublishMode.INGRESS,
    });
    expect(parsePort("80/udp")).toMatchObject({ publishedPort: 0, targetPort: 80, protocol: PortProtocol.UDP });
    expect(parsePort("target=80")).toMatchObject({ publishedPort: 0, publishMode: PublishMode.INGRESS });
  });

  it("publishes on the task's node with mode=host", () => {
    expect(parsePort("published=18081,target=8080,mode=host")).toMatchObject({
      publishedPort: 18081,
      targetPort: 8080,
      publishMode: PublishMode.HOST,
    });
  });

  it("refuses an unknown mode and a missing target, naming the flag", () => {
    expect(() => parsePort("target=80,mode=vip")).toThrow(/--publish.*mode "vip" must be ingress or host/);
    expect(() => parsePort("published=80")).toThrow(/--publish.*target port/);
  });
});
