// The test network of a run. All hosts hang off one bridge that lives in the run's own "switch"
// namespace, not in the initial one: there, br_netfilter would send bridged frames through the
// initial namespace's iptables FORWARD chain, whose policy the host's Docker sets to DROP. The
// initial namespace joins the bridge through one veth (`shoalgw-<run>`, the subnet's .1) so that
// the harness, the test process and the registry can reach every host.
//
//   initial ns: shoalgw-<run> 10.213.X.1 ─┐
//   switch ns:                            gw ── shoalbr-<run> ── v-<host> ─┐
//   host ns:                                                             eth0 10.213.X.(11+i)
import { runCommand } from "./command.js";
import type { Tools } from "./prerequisites.js";
import { BRIDGE_PREFIX, GATEWAY_PREFIX, netnsName } from "./run-state.js";
import type { Subnet } from "./subnet.js";

const SWITCH = "sw";

export function switchNetns(runId: string): string {
  return netnsName(runId, SWITCH);
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** The switch-side end of a host's veth (names are per namespace: only the host must be unique). */
export function switchPort(host: string): string {
  return `v-${host}`;
}

/** Creates the switch namespace, its bridge, and the initial namespace's veth into it. */
export async function createSwitch(tools: Tools, runId: string, net: Subnet): Promise<void> {
  const sw = switchNetns(runId);
  const bridge = `${BRIDGE_PREFIX}${runId}`;
  const gateway = `${GATEWAY_PREFIX}${runId}`;
  await ip(tools, ["netns", "add", sw]);
  await ip(tools, ["-n", sw, "link", "set", "lo", "up"]);
  await ip(tools, ["-n", sw, "link", "add", bridge, "type", "bridge"]);
  await ip(tools, ["-n", sw, "link", "set", bridge, "up"]);
  await ip(tools, ["link", "add", gateway, "type", "veth", "peer", "name", "gw", "netns", sw]);
  await ip(tools, ["-n", sw, "link", "set", "gw", "master", bridge, "up"]);
  await ip(tools, ["addr", "add", `${net.gateway}/24`, "dev", gateway]);
  await ip(tools, ["link", "set", gateway, "up"]);
}

/** Creates a host's namespace and plugs it into the bridge with `address`/24 on its eth0. */
export async function createHostNetwork(tools: Tools, runId: string, host: string, address: string): Promise<void> {
  const sw = switchNetns(runId);
  const ns = netnsName(runId, host);
  const port = switchPort(host);
  await ip(tools, ["netns", "add", ns]);
  await ip(tools, ["-n", ns, "link", "set", "lo", "up"]);
  await ip(tools, ["-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await ip(tools, ["-n", sw, "link", "set", port, "master", `${BRIDGE_PREFIX}${runId}`, "up"]);
  await ip(tools, ["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
  await ip(tools, ["-n", ns, "link", "set", "eth0", "up"]);
}

/**
 * Pulls (down) or plugs back (up) the switch end of a host's cable. While down, everything the
 * host sends or is sent is lost silently, in both directions, for established connections too;
 * inside the host only the carrier goes away (its address and routes stay).
 */
export async function setHostLink(tools: Tools, runId: string, host: string, up: boolean): Promise<void> {
  await ip(tools, ["-n", switchNetns(runId), "link", "set", switchPort(host), up ? "up" : "down"]);
}

/**
 * Adds (or removes) a rule in the host's own namespace that silently drops every packet coming
 * from `peer`. Applied on both sides, it cuts the pair both ways and leaves other pairs alone.
 */
export async function setDropFrom(
  tools: Tools,
  runId: string,
  host: string,
  peer: string,
  drop: boolean,
): Promise<void> {
  const rule = ["INPUT", "-s", `${peer}/32`, "-j", "DROP"];
  const args = ["-w", drop ? "-I" : "-D", ...rule];
  await runCommand(tools.nsenter, [`--net=${netnsPath(netnsName(runId, host))}`, tools.iptables, ...args]);
}

/**
 * Drops each frame from or to a host's port with `probability`, silently, in the switch
 * namespace (bridged frames traverse its iptables FORWARD chain); 0 removes the rule. Stands in
 * for netem loss, which this kernel lacks. The rules are inserted at the head of the chain, ahead
 * of the link delay's queue rules (link-delay.ts): a frame is lost before it would be delayed.
 */
export async function setPortLoss(
  tools: Tools,
  runId: string,
  host: string,
  probability: number,
  previous: number,
): Promise<void> {
  const sw = `--net=${netnsPath(switchNetns(runId))}`;
  const rules = (p: number): string[][] =>
    ["--physdev-in", "--physdev-out"].map((dir) => [
      "FORWARD",
      "-m",
      "physdev",
      dir,
      switchPort(host),
      "-m",
      "statistic",
      "--mode",
      "random",
      "--probability",
      p.toFixed(4),
      "-j",
      "DROP",
    ]);
  if (previous > 0)
    for (const rule of rules(previous)) await runCommand(tools.nsenter, [sw, tools.iptables, "-w", "-D", ...rule]);
  if (probability > 0)
    for (const rule of rules(probability)) await runCommand(tools.nsenter, [sw, tools.iptables, "-w", "-I", ...rule]);
}

function ip(tools: Tools, args: readonly string[]): Promise<unknown> {
  return runCommand(tools.ip, args, { timeoutMs: 15_000 });
}
