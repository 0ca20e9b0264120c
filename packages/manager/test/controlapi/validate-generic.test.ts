import { ServiceSpec, discreteResource, namedResource, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { validateServiceSpec } from "../../src/controlapi/validate-service.js";

function spec(taskTemplate: DeepPartial<ServiceSpec["taskTemplate"]>): ServiceSpec {
  return ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { container: { image: "busybox:1" }, ...taskTemplate },
  });
}

const reserve = (...generic: ReturnType<typeof discreteResource>[]) =>
  spec({ resources: { reservations: { generic } } });

describe("generic resources and platforms in a service spec", () => {
  it("accepts counts per kind and platforms", () => {
    const ok = spec({
      resources: { reservations: { generic: [discreteResource("gpu", 1), discreteResource("nvidia.com-gpu", 2)] } },
      placement: {
        platforms: [
          { os: "linux", architecture: "arm64" },
          { os: "", architecture: "" },
        ],
      },
    });
    expect(validateServiceSpec(ok)).toBe(ok);
  });

  it.each([
    [
      reserve(namedResource("gpu", "GPU-a")),
      "spec.task_template.resources.reservations.generic[0]: a service reserves a count",
    ],
    [
      reserve(discreteResource("gpu", 0)),
      "spec.task_template.resources.reservations.generic[0].discrete.value: must be a whole number of 1 or more, not 0",
    ],
    [
      reserve(discreteResource("gpu", 1), discreteResource("g pu", 1)),
      'generic[1].discrete.kind: "g pu" is not a resource kind',
    ],
    [reserve(discreteResource("", 1)), 'generic[0].discrete.kind: "" is not a resource kind'],
    [reserve(discreteResource("gpu", 1), discreteResource("gpu", 2)), 'generic[1]: kind "gpu" is reserved twice'],
    [
      spec({ resources: { limits: { generic: [discreteResource("gpu", 1)] } } }),
      "spec.task_template.resources.limits.generic: generic resources are only reservations, not limits",
    ],
    [
      spec({ placement: { platforms: [{ os: "linux", architecture: "arm/v7" }] } }),
      'spec.task_template.placement.platforms[0].architecture: "arm/v7" is not a platform word',
    ],
  ])("refuses %#, naming the field", (bad, message) => {
    expect(() => validateServiceSpec(bad)).toThrow(message);
  });
});
