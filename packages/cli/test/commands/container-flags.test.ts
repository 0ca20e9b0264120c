import { Command } from "commander";
import { describe, expect, it } from "vitest";
import {
  addContainerOptions,
  parseHost,
  parseUlimit,
  type ContainerFlags,
} from "../../src/commands/container-flags.js";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags } from "../../src/commands/service-update-spec.js";
import { createFlags, updateFlags } from "./service-flags.js";

/** The flags commander gives for `argv` on a command with the container options. */
function parsed(argv: string[], update = false): ContainerFlags {
  const cmd = addContainerOptions(new Command().exitOverride(), update);
  cmd.parse(argv, { from: "user" });
  return cmd.opts<ContainerFlags>();
}

const CREATE = [
  "--hostname", "{{.Node.Hostname}}-{{.Task.Slot}}",
  "--group", "audio", "--group", "1234",
  "-t", "--read-only", "--init",
  "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
  "--sysctl", "net.core.somaxconn=1024",
  "--ulimit", "nofile=1024:2048", "--ulimit", "core=unlimited",
  "--host", "db:10.0.0.1", "--host", "six:::1",
  "--dns", "10.0.0.53", "--dns-search", "example.org", "--dns-option", "ndots:2",
  "--isolation", "default",
  "--log-driver", "json-file", "--log-opt", "max-size=1m",
  "--limit-pids", "64",
]; // prettier-ignore

const created = () => buildServiceSpec("shoal-base:1", [], createFlags(parsed(CREATE)));

describe("container flags", () => {
  it("set every field on create, named as docker service create's", () => {
    const t = created().taskTemplate!;
    expect(t.container).toMatchObject({
      hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
      groups: ["audio", "1234"],
      tty: true,
      readOnly: true,
      init: true,
      capabilityAdd: ["CAP_NET_ADMIN"],
      capabilityDrop: ["CAP_CHOWN"],
      sysctls: { "net.core.somaxconn": "1024" },
      ulimits: [
        { name: "nofile", soft: 1024, hard: 2048 },
        { name: "core", soft: -1, hard: -1 },
      ],
      hosts: ["10.0.0.1 db", "::1 six"],
      dnsConfig: { nameservers: ["10.0.0.53"], search: ["example.org"], options: ["ndots:2"] },
      isolation: "default",
    });
    expect(t.logDriver).toEqual({ name: "json-file", options: { "max-size": "1m" } });
    expect(t.resources?.limits?.pids).toBe(64);
  });

  it("leave the spec as it is when none is given", () => {
    const plain = buildServiceSpec("shoal-base:1", [], createFlags(parsed([])));
    expect(plain.taskTemplate?.container?.init).toBeUndefined();
    expect(plain.taskTemplate?.container?.dnsConfig).toBeUndefined();
    expect(plain.taskTemplate?.logDriver).toBeUndefined();
    const spec = created();
    expect(applySpecEdit(spec, parseUpdateFlags(updateFlags(parsed([], true))))).toEqual(spec);
  });

  it("edit the lists on update with -add and -rm, as docker service update", () => {
    const argv = [
      "--group-rm", "audio", "--group-add", "video",
      "--no-tty", "--no-init",
      "--cap-add", "chown", "--cap-drop", "CAP_NET_ADMIN",
      "--sysctl-rm", "net.core.somaxconn", "--sysctl-add", "net.ipv4.ip_forward=1",
      "--ulimit-add", "nofile=10:20", "--ulimit-rm", "core",
      "--host-rm", "db", "--host-add", "cache:10.0.0.2",
      "--dns-rm", "10.0.0.53", "--dns-add", "1.1.1.1",
      "--dns-search-rm", "example.org", "--dns-option-add", "edns0",
      "--log-opt", "max-file=3",
      "--limit-pids", "0",
    ]; // prettier-ignore
    const next = applySpecEdit(created(), parseUpdateFlags(updateFlags(parsed(argv, true))));
    const t = next.taskTemplate!;
    expect(t.container).toMatchObject({
      hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
      groups: ["1234", "video"],
      tty: false,
      readOnly: true,
      init: false,
      capabilityAdd: ["CAP_CHOWN"],
      capabilityDrop: ["CAP_NET_ADMIN"],
      sysctls: { "net.ipv4.ip_forward": "1" },
      ulimits: [{ name: "nofile", soft: 10, hard: 20 }],
      hosts: ["::1 six", "10.0.0.2 cache"],
      dnsConfig: { nameservers: ["1.1.1.1"], search: [], options: ["ndots:2", "edns0"] },
    });
    expect(t.logDriver).toEqual({ name: "json-file", options: { "max-size": "1m", "max-file": "3" } });
    expect(t.resources?.limits?.pids).toBe(0);
  });

  it("refuse a malformed value naming the flag", () => {
    expect(() => parseUlimit("nofile", "--ulimit")).toThrow('--ulimit: "nofile" is not NAME=SOFT[:HARD]');
    expect(() => parseHost("10.0.0.1", "--host")).toThrow('--host: "10.0.0.1" is not HOST:IP');
    expect(() => buildServiceSpec("x:1", [], createFlags(parsed(["--limit-pids", "-3"])))).toThrow("--limit-pids");
    expect(() => buildServiceSpec("x:1", [], createFlags(parsed(["--sysctl", "=1"])))).toThrow("--sysctl");
    const noDriver = buildServiceSpec("x:1", [], createFlags({}));
    expect(() => applySpecEdit(noDriver, parseUpdateFlags(updateFlags(parsed(["--log-opt", "a=b"], true))))).toThrow(
      "--log-opt: needs a log driver",
    );
  });
});
