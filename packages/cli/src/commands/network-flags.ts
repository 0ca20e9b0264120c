// --network on `service create` (repeatable), --network-add/--network-rm on `service update`, in
// docker's syntax: NAME, or name=NAME,alias=A[,alias=B]; and --endpoint-mode vip|dnsrr on both.
// Networks are named as the user gives them (name, id or id prefix): the manager resolves them.
import type { Command } from "commander";
import { EndpointMode, InvalidArgumentError, type NetworkAttachmentConfig } from "@shoal/shared";

export interface NetworkFlags {
  network?: string[];
  networkAdd?: string[];
  networkRm?: string[];
  endpointMode?: string;
}

/** What the flags change: networks to drop (by what names them), then networks to add or replace. */
export interface NetworkEdit {
  readonly add: readonly NetworkAttachmentConfig[];
  readonly rm: readonly string[];
  readonly endpointMode?: EndpointMode;
}

/** Repeatable flags (as secret-flags.ts: importing service-spec.ts would make a cycle). */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

const NETWORK_HELP = "NAME or name=NAME,alias=ALIAS[,alias=...]";
const MODES: Record<string, EndpointMode> = { vip: EndpointMode.VIP, dnsrr: EndpointMode.DNSRR };

export function addNetworkOptions(cmd: Command, verb: "create" | "update"): Command {
  const withMode = cmd.option(
    "--endpoint-mode <mode>",
    "vip (one virtual IP per network, the default) or dnsrr (the name resolves to every task)",
  );
  if (verb === "create") {
    return withMode.option("--network <network>", `join a network: ${NETWORK_HELP} (repeatable)`, collect, []);
  }
  return withMode
    .option("--network-add <network>", `join a network: ${NETWORK_HELP} (repeatable)`, collect, [])
    .option("--network-rm <network>", "leave a network, named as it was given or by id (repeatable)", collect, []);
}

/** One --network value. */
export function parseNetworkAttachment(value: string, flag: string): NetworkAttachmentConfig {
  if (!value.includes("=")) {
    if (value === "" || value.includes(","))
      throw new InvalidArgumentError(`"${value}" names no network`, { field: flag });
    return { target: value, aliases: [] };
  }
  const out: NetworkAttachmentConfig = { target: "", aliases: [] };
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (eq === -1 || v === "") throw new InvalidArgumentError(`"${part}" is not KEY=VALUE`, { field: flag });
    if (key === "name" || key === "target") out.target = v;
    else if (key === "alias") out.aliases.push(v);
    else if (key === "driver-opt") throw new InvalidArgumentError("driver options are not supported", { field: flag });
    else throw new InvalidArgumentError(`unknown key "${key}" (name, alias)`, { field: flag });
  }
  if (out.target === "") throw new InvalidArgumentError(`"${value}" names no network (name=NAME)`, { field: flag });
  return out;
}

export function parseNetworkFlags(flags: NetworkFlags): NetworkEdit | undefined {
  const add = [...(flags.network ?? []), ...(flags.networkAdd ?? [])].map((v) =>
    parseNetworkAttachment(v, flags.network?.includes(v) ? "--network" : "--network-add"),
  );
  const rm = [...(flags.networkRm ?? [])];
  let endpointMode: EndpointMode | undefined;
  if (flags.endpointMode !== undefined) {
    endpointMode = MODES[flags.endpointMode];
    if (endpointMode === undefined) {
      throw new InvalidArgumentError(`"${flags.endpointMode}" is not vip or dnsrr`, { field: "--endpoint-mode" });
    }
  }
  if (add.length === 0 && rm.length === 0 && endpointMode === undefined) return undefined;
  return { add, rm, ...(endpointMode !== undefined ? { endpointMode } : {}) };
}

/** The networks with the edit applied: removed ones dropped, added ones replacing those of the same target. */
export function applyNetworkEdit(
  current: readonly NetworkAttachmentConfig[],
  edit: NetworkEdit,
): NetworkAttachmentConfig[] {
  const kept = current.filter((n) => !edit.rm.includes(n.target) && !edit.add.some((a) => a.target === n.target));
  return [...kept, ...edit.add.map((a) => ({ target: a.target, aliases: [...a.aliases] }))];
}
