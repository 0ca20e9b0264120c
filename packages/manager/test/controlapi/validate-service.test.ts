import { describe, expect, it } from "vitest";
import { ServiceSpec, type DeepPartial } from "@shoal/shared";
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
});
