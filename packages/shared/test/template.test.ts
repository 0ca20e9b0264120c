import { describe, expect, it } from "vitest";
import { checkTemplate, expandTemplate, TemplateError, type TemplateContext } from "@shoal/shared";

const context: TemplateContext = {
  service: { id: "svc1", name: "web", labels: { tier: "front", "com.example.zone": "eu" } },
  node: { id: "node1", hostname: "host-a", platform: { os: "linux", architecture: "x86_64" } },
  task: { id: "task1", name: "web.2.task1", slot: "2" },
};

describe("expandTemplate", () => {
  it("replaces each of SwarmKit's placeholders", () => {
    const cases: [string, string][] = [
      ["{{.Service.ID}}", "svc1"],
      ["{{.Service.Name}}", "web"],
      ["{{.Service.Labels}}", "map[com.example.zone:eu tier:front]"],
      ['{{index .Service.Labels "tier"}}', "front"],
      ['{{index .Service.Labels "missing"}}', ""],
      ["{{.Node.ID}}", "node1"],
      ["{{.Node.Hostname}}", "host-a"],
      ["{{.Node.Platform.OS}}", "linux"],
      ["{{.Node.Platform.Architecture}}", "x86_64"],
      ["{{.Task.ID}}", "task1"],
      ["{{.Task.Name}}", "web.2.task1"],
      ["{{.Task.Slot}}", "2"],
    ];
    for (const [template, value] of cases) expect(expandTemplate(template, context)).toBe(value);
  });

  it("keeps the text around placeholders and honours Go's trim markers and spaces", () => {
    expect(expandTemplate("{{.Node.Hostname}}-{{ .Task.Slot }}.local", context)).toBe("host-a-2.local");
    expect(expandTemplate("a  {{- .Task.Slot -}}  b", context)).toBe("a2b");
    expect(expandTemplate("plain }} text", context)).toBe("plain }} text");
  });

  it("refuses an unknown placeholder, a function and unclosed braces", () => {
    expect(() => checkTemplate("{{.Task.Labels}}")).toThrow(TemplateError);
    expect(() => checkTemplate("{{.Task.Labels}}")).toThrow(".Task.Labels is not a template field");
    expect(() => checkTemplate("{{printf 1}}")).toThrow("only the fields of .Service, .Node and .Task");
    expect(() => checkTemplate("x-{{.Task.Slot")).toThrow('unclosed action: "{{.Task.Slot" has no "}}"');
    expect(() => checkTemplate("{{}}")).toThrow(TemplateError);
    expect(() => checkTemplate("{{index .Service.Labels tier}}")).toThrow("must be a quoted string");
    expect(() => checkTemplate("no template")).not.toThrow();
  });
});
