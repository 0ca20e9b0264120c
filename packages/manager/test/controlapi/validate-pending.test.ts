// Fields the proto carries before any agent honours them are refused with the field named.
import { ServiceSpec, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { validateServiceSpec } from "../../src/controlapi/validate-service.js";

function spec(taskTemplate: DeepPartial<ServiceSpec["taskTemplate"]>): ServiceSpec {
  const base = { container: { image: "busybox:1" } };
  return ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { ...base, ...taskTemplate, container: { ...base.container, ...taskTemplate?.container } },
  });
}

describe("fields not honoured yet", () => {
  it("accepts a spec that sets none of them", () => {
    expect(() => validateServiceSpec(spec({}))).not.toThrow();
  });

  it.each([
    [{ container: { hostname: "h" } }, "spec.task_template.container.hostname"],
    [{ container: { init: false } }, "spec.task_template.container.init"],
    [{ logDriver: { name: "none" } }, "spec.task_template.log_driver"],
    [{ resources: { limits: { pids: 10 } } }, "spec.task_template.resources.limits.pids"],
  ])("refuses %j naming %s", (template, field) => {
    expect(() => validateServiceSpec(spec(template))).toThrow(field);
  });
});
