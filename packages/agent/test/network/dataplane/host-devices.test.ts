import { describe, expect, it } from "vitest";
import { CommandFailedError, type CommandRunner } from "../../../src/network/command-runner.js";
import { desiredNetwork } from "../../../src/network/dataplane/desired.js";
import { HostDevices } from "../../../src/network/dataplane/host-devices.js";
import { stateOfA } from "./fixtures.js";

/** A host whose `ip -d link show dev shv4097` prints `link` (none: the device does not exist). */
function host(link: object | undefined): { run: CommandRunner; commands: string[] } {
  const commands: string[] = [];
  const run: CommandRunner = (command, args) => {
    const line = [command, ...args].join(" ");
    commands.push(line);
    if (line === "ip -j -d link show dev shv4097") {
      if (link === undefined)
        return Promise.reject(new CommandFailedError(args, 1, 'Device "shv4097" does not exist.'));
      return Promise.resolve({ stdout: JSON.stringify([link]) });
    }
    return Promise.resolve({ stdout: "" });
  };
  return { run, commands };
}

const vxlan = (id: number, local: string): object => ({
  ifname: "shv4097",
  linkinfo: { info_kind: "vxlan", info_data: { id, local, port: 4789, learning: false } },
});
const want = desiredNetwork(stateOfA());
const changes = (commands: string[]): string[] => commands.filter((c) => !c.includes(" show "));

describe("HostDevices.ensureVxlan", () => {
  it("makes a missing device on the data-path address's interface, with the MAC peers compute", async () => {
    const { run, commands } = host(undefined);
    await new HostDevices(run).ensureVxlan(want, "192.0.2.11", { dev: "eth0", mtu: 1500 });
    expect(changes(commands)).toEqual([
      "ip link add shv4097 type vxlan id 4097 local 192.0.2.11 dev eth0 dstport 4789 nolearning",
      "ip link set shv4097 address 02:5e:c0:00:02:0b up",
      "sysctl -q -w net.ipv4.conf.shv4097.rp_filter=1",
    ]);
  });

  it("keeps a device as wanted (an agent restart), and makes one with another VNI or address again", async () => {
    const same = host(vxlan(4097, "192.0.2.11"));
    await new HostDevices(same.run).ensureVxlan(want, "192.0.2.11", undefined);
    expect(changes(same.commands).some((c) => c.includes("link add") || c.includes("link del"))).toBe(false);
    const moved = host(vxlan(4097, "192.0.2.99"));
    await new HostDevices(moved.run).ensureVxlan(want, "192.0.2.11", undefined);
    expect(changes(moved.commands).slice(0, 2)).toEqual([
      "ip link del shv4097",
      "ip link add shv4097 type vxlan id 4097 local 192.0.2.11 dstport 4789 nolearning",
    ]);
  });
});
