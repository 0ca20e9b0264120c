import { describe, expect, it } from "vitest";
import type { ScheduleOverlap } from "@shoal/shared";
import { RebalanceMode, ServiceSpec, type DeepPartial } from "@shoal/shared";
import { isImageReference, validateServiceSpec } from "@shoal/manager";

const valid: DeepPartial<ServiceSpec> = {
  annotations: { name: "web" },
  taskTemplate: { container: { image: "shoal-base:1", env: ["A=1"] } },
  mode: { $case: "replicated", value: { replicas: 3 } },
};

function check(patch: DeepPartial<ServiceSpec>): () => ServiceSpec {
  return () => validateServiceSpec(ServiceSpec.fromPartial({ ...valid, ...patch }));
}

describe("validateServiceSpec", () => {
  it("takes rebalance auto on a replicated service only, and no other value", () => {
    expect(check({ rebalance: RebalanceMode.AUTO })().rebalance).toBe(RebalanceMode.AUTO);
    expect(check({ rebalance: RebalanceMode.AUTO, mode: { $case: "global", value: {} } })).toThrow(
      "spec.rebalance: automatic rebalancing applies to replicated services only",
    );
    expect(check({ rebalance: 7 as RebalanceMode })).toThrow(
      "spec.rebalance: 7 is not a rebalance mode (manual or auto)",
    );
  });

  it("accepts a complete spec", () => {
    expect(check({})()).toMatchObject({ annotations: { name: "web" } });
  });

  it("names the field of each problem", () => {
    expect(check({ annotations: { name: "" } })).toThrow("spec.annotations.name: a service needs a name");
    expect(check({ annotations: { name: "-web" } })).toThrow(
      /spec\.annotations\.name: "-web" is not a valid service name/,
    );
    expect(check({ taskTemplate: { container: { image: "" } } })).toThrow(
      "spec.task_template.container.image: an image is required",
    );
    expect(check({ taskTemplate: { container: { image: "shoal-base:1", env: ["A=1", "NOEQUALS"] } } })).toThrow(
      'spec.task_template.container.env[1]: "NOEQUALS" is not of the form KEY=VALUE',
    );
    expect(check({ mode: { $case: "replicated", value: { replicas: 1.5 } } })).toThrow(
      /spec\.mode\.replicated\.replicas/,
    );
    expect(check({ taskTemplate: { container: { image: "x" }, resources: { limits: { memoryBytes: -1 } } } })).toThrow(
      "spec.task_template.resources.limits: cannot be negative",
    );
  });

  it("accepts jobs, and refuses what a job cannot have, naming the field", () => {
    const replicatedJob = { $case: "replicatedJob" as const, value: { totalCompletions: 10, maxConcurrent: 3 } };
    expect(check({ mode: replicatedJob })().mode).toEqual(replicatedJob);
    expect(check({ mode: { $case: "globalJob", value: {} } })().mode?.$case).toBe("globalJob");
    expect(check({ mode: { $case: "replicatedJob", value: { totalCompletions: 2, maxConcurrent: 3 } } })).toThrow(
      "spec.mode.replicated_job.max_concurrent: cannot be more than total_completions (2), not 3",
    );
    expect(check({ mode: { $case: "replicatedJob", value: { totalCompletions: -1 } } })).toThrow(
      /spec\.mode\.replicated_job\.total_completions: must be a whole number/,
    );
    expect(check({ mode: replicatedJob, updateConfig: { parallelism: 1 } })).toThrow(
      "spec.update_config: a job has no update config",
    );
    expect(check({ mode: { $case: "globalJob", value: {} }, rollbackConfig: { parallelism: 1 } })).toThrow(
      "spec.rollback_config: a job has no rollback config",
    );
  });

  // SwarmKit's Control API parses constraints only; its scheduler skips descriptors it cannot read.
  it("takes any placement preference as given, and still parses constraints", () => {
    const placement = (constraints: string[], descriptors: string[]): DeepPartial<ServiceSpec> => ({
      taskTemplate: {
        container: { image: "x" },
        placement: {
          constraints,
          preferences: descriptors.map((d) => ({ preference: { $case: "spread", value: { spreadDescriptor: d } } })),
        },
      },
    });
    for (const d of ["com.example.label", "node.hostname", "node.labels.", "", "node.labels.rack"]) {
      expect(check(placement([], [d]))).not.toThrow();
    }
    expect(check({ taskTemplate: { container: { image: "x" }, placement: { preferences: [{}] } } })).not.toThrow();
    expect(check(placement(["node.labels.rack"], []))).toThrow(/placement\.constraints\[0\]: missing operator/);
  });

  it("knows Docker's image references", () => {
    for (const ok of [
      "busybox",
      "busybox:1.36",
      "library/busybox",
      "10.0.0.1:5000/team/app:v1.2",
      "localhost/app",
      "reg.example.com/a/b_c-d",
      `app@sha256:${"a".repeat(64)}`,
    ]) {
      expect(isImageReference(ok), ok).toBe(true);
    }
    for (const bad of ["Busybox", "a b", "app:", ":tag", "app@sha256:xyz", "reg:port/app", "app//x"]) {
      expect(isImageReference(bad), bad).toBe(false);
    }
  });

  it("checks update and rollback configs, naming the field", () => {
    const config = (patch: object) => ({
      parallelism: 1,
      delay: undefined,
      failureAction: 0,
      monitor: undefined,
      maxFailureRatio: 0,
      order: 0,
      ...patch,
    });
    expect(check({ updateConfig: config({ parallelism: 0, maxFailureRatio: 1 }) })).not.toThrow();
    expect(check({ updateConfig: config({ parallelism: -1 }) })).toThrow(/^spec\.update_config\.parallelism: /);
    expect(check({ updateConfig: config({ maxFailureRatio: 1.5 }) })).toThrow(
      "spec.update_config.max_failure_ratio: must be from 0 to 1, not 1.5",
    );
    expect(check({ rollbackConfig: config({ maxFailureRatio: -0.1 }) })).toThrow(
      /^spec\.rollback_config\.max_failure_ratio: /,
    );
    expect(check({ updateConfig: config({ delay: { seconds: -1, nanos: 0 } }) })).toThrow(
      "spec.update_config.delay: cannot be negative",
    );
    expect(check({ rollbackConfig: config({ monitor: { seconds: 0, nanos: -5 } }) })).toThrow(
      "spec.rollback_config.monitor: cannot be negative",
    );
    expect(check({ updateConfig: config({ failureAction: 7 }) })).toThrow(/^spec\.update_config\.failure_action: /);
    expect(check({ updateConfig: config({ order: 9 }) })).toThrow(/^spec\.update_config\.order: /);
  });

  it("checks restart conditions, durations and attempts", () => {
    const policy = (patch: object) => ({
      taskTemplate: {
        container: { image: "x" },
        restartPolicy: { condition: 0, delay: undefined, maxAttempts: 0, window: undefined, ...patch },
      },
    });
    expect(check(policy({ condition: 2, delay: { seconds: 5, nanos: 0 } }))).not.toThrow();
    expect(check(policy({ condition: 3 }))).toThrow(
      "spec.task_template.restart_policy.condition: unknown restart condition 3",
    );
    expect(check(policy({ condition: -1 }))).toThrow(/restart_policy\.condition: unknown restart condition -1/);
    expect(check(policy({ delay: { seconds: 1, nanos: 1_000_000_000 } }))).toThrow(
      /^spec\.task_template\.restart_policy\.delay: is not a valid duration/,
    );
    expect(check(policy({ window: { seconds: -1, nanos: 0 } }))).toThrow(
      "spec.task_template.restart_policy.window: cannot be negative",
    );
    expect(check(policy({ maxAttempts: 2 ** 53 + 2 }))).toThrow(/restart_policy\.max_attempts: must be a whole number/);
  });

  it("checks ports: target and published ranges, protocol and publish mode", () => {
    const ports = (patch: object) => ({
      endpoint: { ports: [{ name: "", protocol: 0, targetPort: 80, publishedPort: 0, publishMode: 0, ...patch }] },
    });
    expect(check(ports({ protocol: 1, publishMode: 1, publishedPort: 8080 }))).not.toThrow();
    expect(check(ports({ targetPort: 0 }))).toThrow(
      "spec.endpoint.ports[0].target_port: must be a port from 1 to 65535, not 0",
    );
    expect(check(ports({ targetPort: 70_000 }))).toThrow(/ports\[0\]\.target_port: must be a port/);
    expect(check(ports({ publishedPort: 2 ** 32 - 1 }))).toThrow(/ports\[0\]\.published_port: must be a port/);
    expect(check(ports({ protocol: 2 }))).toThrow("spec.endpoint.ports[0].protocol: unknown protocol 2");
    expect(check(ports({ publishMode: 999 }))).toThrow("spec.endpoint.ports[0].publish_mode: unknown publish mode 999");
  });

  it("checks health-check durations and retries, and the stop grace period", () => {
    const health = (patch: object) => ({
      taskTemplate: {
        container: {
          image: "x",
          healthcheck: {
            test: ["CMD", "true"],
            interval: undefined,
            timeout: undefined,
            startPeriod: undefined,
            retries: 0,
            ...patch,
          },
        },
      },
    });
    expect(check(health({ interval: { seconds: 0, nanos: 0 }, timeout: { seconds: 3, nanos: 0 } }))).not.toThrow();
    expect(check(health({ interval: { seconds: -1, nanos: 0 } }))).toThrow(
      "spec.task_template.container.healthcheck.interval: cannot be negative",
    );
    expect(check(health({ timeout: { seconds: 0, nanos: 1000 } }))).toThrow(
      "spec.task_template.container.healthcheck.timeout: must be at least 1ms (or 0 for the default)",
    );
    expect(check(health({ startPeriod: { seconds: 0, nanos: 2 ** 31 - 1 } }))).toThrow(
      /healthcheck\.start_period: is not a valid duration/,
    );
    expect(check(health({ retries: -1 }))).toThrow(/healthcheck\.retries: must be a whole number/);
    expect(
      check({ taskTemplate: { container: { image: "x", stopGracePeriod: { seconds: -(2 ** 40), nanos: 0 } } } }),
    ).toThrow("spec.task_template.container.stop_grace_period: cannot be negative");
  });

  it("checks label keys of the service and its container", () => {
    expect(check({ annotations: { name: "web", labels: { "com.example/tier": "x" } } })).not.toThrow();
    expect(check({ annotations: { name: "web", labels: { "": "x" } } })).toThrow(
      "spec.annotations.labels: a label key cannot be empty",
    );
    expect(check({ taskTemplate: { container: { image: "x", labels: { "a\nb": "" } } } })).toThrow(
      /^spec\.task_template\.container\.labels: "a\\nb" is not a valid label key/,
    );
  });

  it("checks a schedule: only on a job, a five-field expression, a known zone and overlap", () => {
    const job = { $case: "replicatedJob" as const, value: { maxConcurrent: 1, totalCompletions: 1 } };
    const schedule = { cron: "*/5 * * * *", timezone: "Europe/Paris", overlap: 0 };
    expect(check({ mode: job, schedule })()).toMatchObject({ schedule });
    expect(check({ mode: { $case: "globalJob", value: {} }, schedule: { cron: "@daily" } })).not.toThrow();
    expect(check({ schedule })).toThrow(
      "spec.schedule: a schedule is only for jobs (mode replicated-job or global-job)",
    );
    expect(check({ mode: job, schedule: { ...schedule, cron: "*/5 * * *" } })).toThrow(
      /^spec\.schedule\.cron: "\*\/5 \* \* \*" is not a five-field cron expression/,
    );
    expect(check({ mode: job, schedule: { ...schedule, cron: "0 25 * * *" } })).toThrow(
      /^spec\.schedule\.cron: .* is not a valid cron expression: .*hour/,
    );
    expect(check({ mode: job, schedule: { ...schedule, timezone: "Europe/Pariss" } })).toThrow(
      /^spec\.schedule\.timezone: "Europe\/Pariss" is not a known IANA time zone/,
    );
    expect(check({ mode: job, schedule: { ...schedule, overlap: 9 as ScheduleOverlap } })).toThrow(
      "spec.schedule.overlap: 9 is not skip, allow or replace",
    );
  });
});
