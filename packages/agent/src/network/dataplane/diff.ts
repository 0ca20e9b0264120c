// The commands that take a network's devices from what the kernel holds (iproute2's JSON) to
// what is wanted (pure). Each wanted entry is written with `replace`, so a command list applied
// twice changes nothing; entries not wanted are deleted.
import type { DesiredNetwork } from "./desired.js";

/** `ip -j route show dev X`: the /32 routes' destinations (printed without their prefix). */
export function currentRoutes(json: string): string[] {
  return parseArray(json)
    .map((r) => field(r, "dst"))
    .filter((dst) => dst !== "" && !dst.includes("/") && dst !== "default");
}

/** `ip -j neigh show dev X`: address -> MAC (empty when the entry has none). */
export function currentNeighbours(json: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of parseArray(json)) {
    const dst = field(n, "dst");
    if (dst !== "") out.set(dst, field(n, "lladdr").toLowerCase());
  }
  return out;
}

/** `bridge -j fdb show dev X`: the entries with a destination (the VXLAN ones), as MAC -> dst. */
export function currentFdb(json: string): { mac: string; dst: string }[] {
  return parseArray(json)
    .map((e) => ({ mac: field(e, "mac").toLowerCase(), dst: field(e, "dst") }))
    .filter((e) => e.mac !== "" && e.dst !== "");
}

/** `ip -j addr show dev BRIDGE`: its IPv4 /32 addresses. */
export function currentHostAddresses(json: string): string[] {
  const out: string[] = [];
  for (const link of parseArray(json)) {
    const infos = (link as { addr_info?: unknown }).addr_info;
    if (!Array.isArray(infos)) continue;
    for (const info of infos as unknown[]) {
      if (field(info, "family") === "inet" && (info as { prefixlen?: unknown }).prefixlen === 32) {
        out.push(field(info, "local"));
      }
    }
  }
  return out;
}

export interface CurrentNetwork {
  readonly routes: readonly string[];
  readonly neighbours: ReadonlyMap<string, string>;
  readonly fdb: readonly { mac: string; dst: string }[];
  readonly bridgeAddresses: readonly string[];
}

export interface NetworkCommands {
  /** Lines for `ip -batch -`. */
  readonly ip: string[];
  /** Lines for `bridge -batch -`. */
  readonly bridge: string[];
}

/**
 * The commands that make the network's entries as wanted. Removals come first (an FDB entry
 * whose destination changed is replaced in place), then every wanted entry is replaced: cheap,
 * and it repairs an entry changed behind the agent's back.
 */
export function networkCommands(want: DesiredNetwork, current: CurrentNetwork): NetworkCommands {
  const ip: string[] = [];
  const bridge: string[] = [];
  const vx = want.vxlan;
  const wantedRemotes = new Set(want.remotes.map((r) => r.address));
  for (const dst of current.routes) if (!wantedRemotes.has(dst)) ip.push(`route del ${dst}/32 dev ${vx}`);
  for (const dst of current.neighbours.keys()) if (!wantedRemotes.has(dst)) ip.push(`neigh del ${dst} dev ${vx}`);
  const wantedAddresses = new Set(want.bridgeAddresses);
  for (const a of current.bridgeAddresses) {
    if (!wantedAddresses.has(a)) ip.push(`addr del ${a}/32 dev ${want.bridge}`);
  }
  const wantedFdb = new Map(want.fdb.map((e) => [e.mac, e.dst]));
  for (const e of current.fdb) {
    if (wantedFdb.get(e.mac) !== e.dst) bridge.push(`fdb del ${e.mac} dev ${vx} dst ${e.dst} self`);
  }

  for (const e of want.fdb) bridge.push(`fdb replace ${e.mac} dev ${vx} dst ${e.dst} self permanent`);
  for (const r of want.remotes) {
    ip.push(`neigh replace ${r.address} lladdr ${r.mac} dev ${vx} nud permanent`);
    ip.push(`route replace ${r.address}/32 dev ${vx}`);
  }
  for (const a of want.bridgeAddresses) ip.push(`addr replace ${a}/32 dev ${want.bridge} noprefixroute`);
  return { ip, bridge };
}

function parseArray(json: string): unknown[] {
  const trimmed = json.trim();
  if (trimmed === "") return [];
  const parsed: unknown = JSON.parse(trimmed);
  return Array.isArray(parsed) ? parsed : [];
}

function field(o: unknown, key: string): string {
  const v = typeof o === "object" && o !== null ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" ? v : "";
}
