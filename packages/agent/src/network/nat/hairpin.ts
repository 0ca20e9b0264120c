// Hairpin mode on the ports of a network's bridge, so that a task reaches itself through its
// service's virtual IP. The DNATed packet goes back to the port it came in by: with
// br_netfilter (Docker loads it) the bridge forwards it there, which a bridge does only for a
// port in hairpin mode (kubelet's hairpin-veth; Docker's own with --userland-proxy=false).
// The NAT rules' masquerade then makes the reply come back through the host.
import { EndpointMode, type NetworkState } from "@shoal/shared";
import { bridgeName } from "../names.js";
import { runStatus, type CommandRunner } from "../command-runner.js";
import { IptablesError } from "./iptables.js";

/** The bridges whose ports need hairpin mode: those of networks with a virtual IP. */
export function hairpinBridges(states: readonly NetworkState[]): string[] {
  return states
    .filter((s) => s.network !== undefined && s.services.some((v) => v.mode === EndpointMode.VIP && v.virtualIp !== ""))
    .map((s) => bridgeName(s.network?.vni ?? 0));
}

/** The ports of `bridge` in `ip -o -d link show master BRIDGE` output that have hairpin off. */
export function portsWithoutHairpin(ipOutput: string): string[] {
  return ipOutput
    .split("\n")
    .filter((line) => /\bbridge_slave\b.*\bhairpin off\b/.test(line))
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name !== "");
}

/** Turns hairpin mode on for every port of `bridge`; a bridge not (yet) there is no error. */
export async function ensureHairpin(run: CommandRunner, bridge: string): Promise<void> {
  const show = await runStatus(run, ["ip", "-o", "-d", "link", "show", "master", bridge]);
  if (show.code !== 0) return;
  for (const port of portsWithoutHairpin(show.stdout)) {
    const argv = ["ip", "link", "set", "dev", port, "type", "bridge_slave", "hairpin", "on"];
    const result = await runStatus(run, argv);
    if (result.code !== 0) throw new IptablesError(argv, result);
  }
}
