// The data-path address of this host: where its VXLAN packets leave from and where peers send
// theirs. `--data-path-addr` when given, else the local address the kernel would use towards the
// first manager (as Swarm takes the address of the connection to the manager).
import { lookup } from "node:dns/promises";
import { isIPv4 } from "node:net";
import type { CommandRunner } from "../command-runner.js";
import { HostDevices } from "./host-devices.js";

/** The host part of "HOST:PORT" (or "[V6]:PORT"). */
export function hostOf(address: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracket?.[1] !== undefined) return bracket[1];
  const colon = address.lastIndexOf(":");
  return colon > 0 && address.indexOf(":") === colon ? address.slice(0, colon) : address;
}

export async function resolveDataPathAddr(
  given: string,
  managers: readonly string[],
  runner: CommandRunner,
): Promise<string> {
  if (given !== "") return given;
  const manager = managers[0];
  if (manager === undefined) throw new Error("no manager to find the data-path address from");
  const host = hostOf(manager);
  const ip = isIPv4(host) ? host : (await lookup(host, { family: 4 })).address;
  const src = await new HostDevices(runner).routeSource(ip);
  if (src === undefined) throw new Error(`no local address routes to the manager ${ip}: set --data-path-addr`);
  return src;
}
