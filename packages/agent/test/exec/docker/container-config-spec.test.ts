import { describe, expect, it } from "vitest";
import { containerConfig } from "../../../src/exec/docker/container-config.js";
import { extraHosts } from "../../../src/exec/docker/container-config-spec.js";
import { makeTask } from "../task-fixture.js";

describe("the rest of the container spec on the create body", () => {
  it("maps every field onto Docker's names", () => {
    const task = makeTask({
      spec: {
        container: {
          image: "shoal-base:1",
          hostname: "web-1",
          groups: ["audio", "1234"],
          tty: true,
          openStdin: true,
          readOnly: true,
          init: true,
          capabilityAdd: ["NET_ADMIN"],
          capabilityDrop: ["CAP_CHOWN"],
          sysctls: { "net.core.somaxconn": "1024" },
          ulimits: [{ name: "nofile", soft: 1024, hard: 2048 }],
          hosts: ["10.0.0.1 db db.local"],
          dnsConfig: { nameservers: ["10.0.0.53"], search: ["example.org"], options: ["ndots:2"] },
          isolation: "default",
        },
        logDriver: { name: "json-file", options: { "max-size": "1m" } },
        resources: { limits: { pids: 64, memoryBytes: 1 << 26 } },
      },
    });
    const config = containerConfig(task);
    expect(config).toMatchObject({ Hostname: "web-1", Tty: true, OpenStdin: true });
    expect(config.HostConfig).toEqual({
      RestartPolicy: { Name: "no" },
      Memory: 1 << 26,
      GroupAdd: ["audio", "1234"],
      ReadonlyRootfs: true,
      Init: true,
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["CAP_CHOWN"],
      Sysctls: { "net.core.somaxconn": "1024" },
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      ExtraHosts: ["db:10.0.0.1", "db.local:10.0.0.1"],
      Dns: ["10.0.0.53"],
      DnsSearch: ["example.org"],
      DnsOptions: ["ndots:2"],
      Isolation: "default",
      LogConfig: { Type: "json-file", Config: { "max-size": "1m" } },
      PidsLimit: 64,
    });
  });

  it("sets nothing for unset fields, so the daemon's defaults hold, and keeps init false", () => {
    const config = containerConfig(makeTask());
    expect(config.Hostname).toBeUndefined();
    expect(config.Tty).toBeUndefined();
    expect(config.HostConfig).toEqual({ RestartPolicy: { Name: "no" } });
    const noInit = makeTask({ spec: { container: { image: "shoal-base:1", init: false } } });
    expect(containerConfig(noInit).HostConfig?.Init).toBe(false);
  });

  it("turns hosts lines into Docker's HOST:IP, IPv6 included", () => {
    expect(extraHosts(["  ::1   six  ", "1.2.3.4 a b"])).toEqual(["six:::1", "a:1.2.3.4", "b:1.2.3.4"]);
  });
});
