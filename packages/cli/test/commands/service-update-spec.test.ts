import { describe, expect, it } from "vitest";
import { PortProtocol, ServiceSpec, UpdateOrder, durationFromMs } from "@shoal/shared";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags, type UpdateFlags } from "../../src/commands/service-update-spec.js";
import { updateFlags } from "./service-flags.js";

const current = (): ServiceSpec =>
  buildServiceSpec("registry:5000/app:1", ["sleep", "3600"], {
    name: "web",
    mode: "replicated",
    replicas: "6",
    env: ["A=1", "B=2"],
    label: ["team=x"],
    containerLabel: [],
    constraint: ["node.role==worker"],
    placementPref: [],
    publish: ["8080:80"],
    updateParallelism: "2",
  });

const flags = updateFlags;

const update = (more: Partial<UpdateFlags>, spec = current()): ServiceSpec =>
  applySpecEdit(spec, parseUpdateFlags(flags(more)));

describe("service update flags", () => {
  it("change nothing when none is given", () => {
    expect(update({})).toEqual(current());
  });

  it("set the image, replicas and args, and keep the rest", () => {
    const next = update({ image: "registry:5000/app:2", replicas: "4", args: "sleep 10" });
    expect(next.taskTemplate?.container?.image).toBe("registry:5000/app:2");
    expect(next.taskTemplate?.container?.args).toEqual(["sleep", "10"]);
    expect(next.mode).toEqual({ $case: "replicated", value: { replicas: 4 } });
    expect(next.taskTemplate?.container?.env).toEqual(["A=1", "B=2"]);
    expect(next.updateConfig).toEqual(current().updateConfig);
  });

  it("edit env, labels, constraints and ports", () => {
    const next = update({
      envAdd: ["B=3", "C=4"],
      envRm: ["A"],
      labelAdd: ["tier=web"],
      labelRm: ["team"],
      constraintAdd: ["node.labels.zone==a"],
      constraintRm: ["node.role==worker"],
      placementPrefAdd: ["spread=node.labels.zone"],
      publishAdd: ["9090:90/udp"],
      publishRm: ["80"],
    });
    expect(next.taskTemplate?.container?.env).toEqual(["B=3", "C=4"]);
    expect(next.annotations?.labels).toEqual({ tier: "web" });
    expect(next.taskTemplate?.placement?.constraints).toEqual(["node.labels.zone==a"]);
    expect(next.taskTemplate?.placement?.preferences).toHaveLength(1);
    expect(next.endpoint?.ports).toEqual([
      expect.objectContaining({ targetPort: 90, publishedPort: 9090, protocol: PortProtocol.UDP }),
    ]);
    // The same value added again leaves the spec as it was.
    expect(update({ constraintAdd: ["node.role==worker"], envAdd: ["A=1"] }).taskTemplate).toEqual(
      current().taskTemplate,
    );
  });

  it("change single fields of the update and rollback configs", () => {
    const next = update({ updateDelay: "1s", updateOrder: "start-first", rollbackParallelism: "3" });
    expect(next.updateConfig).toEqual({
      ...current().updateConfig,
      delay: durationFromMs(1000),
      order: UpdateOrder.START_FIRST,
    });
    expect(next.updateConfig?.parallelism).toBe(2);
    expect(next.rollbackConfig).toEqual({ ...current().rollbackConfig, parallelism: 3 });
  });

  it("bumps force_update with --force, and nothing else", () => {
    const once = update({ force: true });
    expect(once.taskTemplate?.forceUpdate).toBe(1);
    expect(update({ force: true }, once).taskTemplate?.forceUpdate).toBe(2);
    expect({ ...once, taskTemplate: { ...once.taskTemplate!, forceUpdate: 0 } }).toEqual(current());
  });

  it("applies the task flags create takes", () => {
    const next = update({ healthCmd: "false", healthInterval: "1s", limitMemory: "64m", stopGracePeriod: "1s" });
    expect(next.taskTemplate?.container?.healthcheck).toMatchObject({
      test: ["CMD-SHELL", "false"],
      interval: durationFromMs(1000),
    });
    expect(next.taskTemplate?.resources?.limits?.memoryBytes).toBe(64 * 1024 ** 2);
    expect(next.taskTemplate?.container?.stopGracePeriod).toEqual(durationFromMs(1000));
  });

  it.each([
    [{ replicas: "many" }, "--replicas"],
    [{ image: "" }, "--image"],
    [{ envAdd: ["=1"] }, "--env-add"],
    [{ envRm: [""] }, "--env-rm"],
    [{ publishAdd: ["x:80"] }, "--publish-add"],
    [{ publishRm: ["http"] }, "--publish-rm"],
    [{ placementPrefAdd: ["pack"] }, "--placement-pref-add"],
    [{ updateParallelism: "1.5" }, "--update-parallelism"],
    [{ updateFailureAction: "retry" }, "--update-failure-action"],
    [{ updateMaxFailureRatio: "2" }, "--update-max-failure-ratio"],
    [{ rollbackMonitor: "a while" }, "--rollback-monitor"],
    [{ limitCpu: "-1" }, "--limit-cpu"],
  ] as const)("refuse %o naming the flag", (more, flag) => {
    expect(() => parseUpdateFlags(flags(more as Partial<UpdateFlags>))).toThrow(flag);
  });

  it("refuse --replicas for a global service", () => {
    const global = ServiceSpec.fromPartial({ ...current(), mode: { $case: "global", value: {} } });
    expect(() => update({ replicas: "2" }, global)).toThrow("--replicas");
  });

  it("changes a replicated job's completions and concurrency, and refuses concurrency elsewhere", () => {
    const job = buildServiceSpec("app:1", [], {
      name: "batch",
      mode: "replicated-job",
      replicas: "10",
      maxConcurrent: "3",
      env: [],
      label: [],
      containerLabel: [],
      constraint: [],
      placementPref: [],
      publish: [],
    });
    const next = applySpecEdit(job, parseUpdateFlags(flags({ replicas: "20", maxConcurrent: "5" })));
    expect(next.mode).toEqual({ $case: "replicatedJob", value: { totalCompletions: 20, maxConcurrent: 5 } });
    expect(() => applySpecEdit(current(), parseUpdateFlags(flags({ maxConcurrent: "2" })))).toThrow("--max-concurrent");
  });
});
