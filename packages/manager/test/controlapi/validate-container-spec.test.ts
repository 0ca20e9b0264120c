// The rest of the container spec, the log driver and the pids limit: bad values refused, field named.
import { ServiceSpec, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { validateServiceSpec } from "../../src/controlapi/validate-service.js";

const C = "spec.task_template.container";

function spec(taskTemplate: DeepPartial<ServiceSpec["taskTemplate"]>): ServiceSpec {
  const base = { container: { image: "busybox:1" } };
  return ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { ...base, ...taskTemplate, container: { ...base.container, ...taskTemplate?.container } },
  });
}

describe("validateContainerSpecFields", () => {
  it("accepts every field set well", () => {
    const ok = spec({
      container: {
        hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
        env: ["WHO={{.Service.Name}}"],
        groups: ["audio", "1000"],
        tty: true,
        openStdin: true,
        readOnly: true,
        init: false,
        capabilityAdd: ["NET_ADMIN", "cap_sys_time", "ALL"],
        capabilityDrop: ["CAP_CHOWN"],
        sysctls: { "net.core.somaxconn": "1024", "net/ipv4/ip_forward": "1" },
        ulimits: [
          { name: "nofile", soft: 1024, hard: 2048 },
          { name: "core", soft: -1, hard: -1 },
        ],
        hosts: ["10.0.0.1 db db.local", "::1 six"],
        dnsConfig: { nameservers: ["10.0.0.53", "2001:db8::1"], search: ["example.org"], options: ["ndots:2"] },
        isolation: "default",
      },
      logDriver: { name: "json-file", options: { "max-size": "1m" } },
      resources: { limits: { pids: 100 } },
    });
    expect(() => validateServiceSpec(ok)).not.toThrow();
  });

  it.each([
    [{ container: { hostname: "{{.Task.Nope}}" } }, `${C}.hostname: bad template: {{.Task.Nope}}`],
    [{ container: { hostname: "web-{{.Task.Slot" } }, `${C}.hostname: bad template: unclosed action`],
    [{ container: { hostname: "bad_host" } }, `${C}.hostname: "bad_host" is not a host name`],
    [{ container: { hostname: "a".repeat(65) } }, `${C}.hostname: is longer than 64 characters`],
    [{ container: { env: ["A=1", "B={{.Bad}}"] } }, `${C}.env[1]: bad template`],
    [{ container: { groups: ["a b"] } }, `${C}.groups[0]`],
    [{ container: { capabilityAdd: ["NET_ADMIN", "NET_FLY"] } }, `${C}.capability_add[1]: "NET_FLY" is not`],
    [{ container: { capabilityDrop: ["CAP_NOPE"] } }, `${C}.capability_drop[0]`],
    [{ container: { sysctls: { "bad key": "1" } } }, `${C}.sysctls: "bad key"`],
    [{ container: { sysctls: { "vm.swappiness": "1" } } }, `${C}.sysctls: "vm.swappiness" is not namespaced`],
    [{ container: { ulimits: [{ name: "files", soft: 1, hard: 1 }] } }, `${C}.ulimits[0].name`],
    [{ container: { ulimits: [{ name: "nofile", soft: 10, hard: 5 }] } }, `${C}.ulimits[0].soft: the soft limit`],
    [
      {
        container: {
          ulimits: [
            { name: "nofile", soft: 1, hard: 1 },
            { name: "nofile", soft: 2, hard: 2 },
          ],
        },
      },
      `${C}.ulimits[1].name: "nofile" is given twice`,
    ],
    [{ container: { hosts: ["db 10.0.0.1"] } }, `${C}.hosts[0]: "db 10.0.0.1" does not start with an IP address`],
    [{ container: { hosts: ["10.0.0.1"] } }, `${C}.hosts[0]: "10.0.0.1" has no host name`],
    [{ container: { dnsConfig: { nameservers: ["dns.example"] } } }, `${C}.dns_config.nameservers[0]`],
    [{ container: { isolation: "hyperv" } }, `${C}.isolation: "hyperv" is not available`],
    [{ logDriver: { name: "" } }, "spec.task_template.log_driver.name"],
    [{ resources: { limits: { pids: -1 } } }, "spec.task_template.resources.limits.pids"],
    [{ resources: { reservations: { pids: 5 } } }, "spec.task_template.resources.reservations.pids"],
  ])("refuses %j naming the field", (template, message) => {
    expect(() => validateServiceSpec(spec(template))).toThrow(message);
  });
});
