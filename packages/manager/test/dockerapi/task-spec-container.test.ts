// The rest of Docker's ContainerSpec, LogDriver and Limits.Pids both ways; unhonourable fields refused.
import { describe, expect, it } from "vitest";
import { decodeShape } from "../../src/dockerapi/json-shape.js";
import { SERVICE_SPEC_SHAPE, type DockerServiceSpec } from "../../src/dockerapi/docker-types.js";
import { UNMAPPED_LABEL, fromDockerServiceSpec, toDockerServiceSpec } from "../../src/dockerapi/service-spec.js";

// As `docker service create --hostname '{{.Node.Hostname}}-{{.Task.Slot}}' --group audio -t
// --read-only --init --cap-add NET_ADMIN --cap-drop CHOWN --sysctl net.core.somaxconn=1024
// --ulimit nofile=1024:2048 --host db:10.0.0.1 --dns 10.0.0.53 --dns-search example.org
// --dns-option ndots:2 --isolation default --log-driver json-file --log-opt max-size=1m
// --limit-pids 64` sends it (ContainerSpec part).
const created: DockerServiceSpec = {
  Name: "web",
  TaskTemplate: {
    ContainerSpec: {
      Image: "x:1",
      Hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
      Groups: ["audio"],
      TTY: true,
      OpenStdin: true,
      ReadOnly: true,
      Init: true,
      CapabilityAdd: ["CAP_NET_ADMIN"],
      CapabilityDrop: ["CAP_CHOWN"],
      Sysctls: { "net.core.somaxconn": "1024" },
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      Hosts: ["10.0.0.1 db"],
      DNSConfig: { Nameservers: ["10.0.0.53"], Search: ["example.org"], Options: ["ndots:2"] },
      Isolation: "default",
    },
    Resources: { Limits: { Pids: 64 } },
    LogDriver: { Name: "json-file", Options: { "max-size": "1m" } },
    ForceUpdate: 0,
  },
  Mode: { Replicated: { Replicas: 1 } },
};

describe("the rest of the container spec through the Docker API", () => {
  it("maps every field to Shoal's, keeps none aside, and gives them back as sent", () => {
    expect(decodeShape(created, SERVICE_SPEC_SHAPE)).toEqual(created);
    const spec = fromDockerServiceSpec(created);
    expect(spec.annotations?.labels[UNMAPPED_LABEL]).toBeUndefined();
    const t = spec.taskTemplate!;
    expect(t.container).toMatchObject({
      hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
      groups: ["audio"],
      tty: true,
      openStdin: true,
      readOnly: true,
      init: true,
      capabilityAdd: ["CAP_NET_ADMIN"],
      capabilityDrop: ["CAP_CHOWN"],
      sysctls: { "net.core.somaxconn": "1024" },
      ulimits: [{ name: "nofile", soft: 1024, hard: 2048 }],
      hosts: ["10.0.0.1 db"],
      dnsConfig: { nameservers: ["10.0.0.53"], search: ["example.org"], options: ["ndots:2"] },
      isolation: "default",
    });
    expect(t.logDriver).toEqual({ name: "json-file", options: { "max-size": "1m" } });
    expect(t.resources?.limits?.pids).toBe(64);
    const back = toDockerServiceSpec(spec);
    expect(back.TaskTemplate?.ContainerSpec).toEqual(created.TaskTemplate?.ContainerSpec);
    expect(back.TaskTemplate?.["LogDriver"]).toEqual(created.TaskTemplate?.["LogDriver"]);
    expect(back.TaskTemplate?.Resources?.Limits).toEqual({ Pids: 64 });
  });

  it("keeps init unset apart from false, and omits empty fields", () => {
    const unset = fromDockerServiceSpec({ Name: "w", TaskTemplate: { ContainerSpec: { Image: "x:1" } } });
    expect(unset.taskTemplate?.container?.init).toBeUndefined();
    expect(toDockerServiceSpec(unset).TaskTemplate?.ContainerSpec).toEqual({ Image: "x:1" });
    const off = fromDockerServiceSpec({ Name: "w", TaskTemplate: { ContainerSpec: { Image: "x:1", Init: false } } });
    expect(toDockerServiceSpec(off).TaskTemplate?.ContainerSpec).toEqual({ Image: "x:1", Init: false });
  });

  it.each([
    [
      { ContainerSpec: { Privileges: { CredentialSpec: { File: "spec.json" } } } },
      "ContainerSpec.Privileges.CredentialSpec",
    ],
    [
      { ContainerSpec: { Privileges: { SELinuxContext: { Type: "svirt_t" } } } },
      "ContainerSpec.Privileges.SELinuxContext",
    ],
    [{ ContainerSpec: { Privileges: { Seccomp: { Mode: "unconfined" } } } }, "ContainerSpec.Privileges.Seccomp.Mode"],
    [{ ContainerSpec: { Privileges: { AppArmor: { Mode: "disabled" } } } }, "ContainerSpec.Privileges.AppArmor.Mode"],
    [{ ContainerSpec: { Privileges: { NoNewPrivileges: true } } }, "ContainerSpec.Privileges.NoNewPrivileges"],
    [{ Runtime: "plugin" }, "TaskTemplate.Runtime"],
    [{ PluginSpec: { Name: "vieux/sshfs" } }, "TaskTemplate.PluginSpec"],
    [{ NetworkAttachmentSpec: { ContainerID: "abc" } }, "TaskTemplate.NetworkAttachmentSpec"],
    [{ Resources: { Reservations: { Pids: 3 } } }, "TaskTemplate.Resources.Reservations.Pids"],
    [{ ContainerSpec: { Ulimits: [{ Name: "nofile", Soft: -2, Hard: 1 }] } }, "ContainerSpec.Ulimits[0].Soft"],
  ])("refuses %j naming the field", (template, field) => {
    const spec = { Name: "w", TaskTemplate: { ContainerSpec: { Image: "x:1" }, ...template } } as DockerServiceSpec;
    spec.TaskTemplate!.ContainerSpec = {
      Image: "x:1",
      ...(template as DockerServiceSpec["TaskTemplate"])?.ContainerSpec,
    };
    expect(() => fromDockerServiceSpec(spec)).toThrow(field);
  });

  it("accepts what the docker CLI sends empty: Privileges with nulls, Runtime container", () => {
    const spec = fromDockerServiceSpec({
      Name: "w",
      TaskTemplate: {
        ContainerSpec: {
          Image: "x:1",
          Privileges: {
            CredentialSpec: null,
            SELinuxContext: null,
            NoNewPrivileges: false,
            Seccomp: { Mode: "default" },
          },
        },
        Runtime: "container",
      },
    });
    expect(spec.taskTemplate?.container?.image).toBe("x:1");
  });
});
