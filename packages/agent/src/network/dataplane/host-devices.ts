// The kernel side of the data plane, through iproute2 and sysctl: the VXLAN devices, the
// bridge's settings, and each network's routes, neighbours, FDB entries and bridge addresses.
import { CommandFailedError, type CommandRunner } from "../command-runner.js";
import type { DesiredNetwork } from "./desired.js";
import {
  currentFdb,
  currentHostAddresses,
  currentNeighbours,
  currentRoutes,
  type CurrentNetwork,
  type NetworkCommands,
} from "./diff.js";
import { vtepMac, vxlanName } from "../names.js";

export const VXLAN_PORT = 4789;
/** What VXLAN adds to each packet (outer IPv4, UDP, VXLAN and Ethernet headers). */
export const VXLAN_OVERHEAD = 50;

/** The interface holding the data-path address, and its MTU. */
export interface Underlay {
  readonly dev: string;
  readonly mtu: number;
}

export class HostDevices {
  constructor(private readonly run: CommandRunner) {}

  async sysctl(key: string, value: string): Promise<void> {
    await this.run("sysctl", ["-q", "-w", `${key}=${value}`]);
  }

  /** The interface that has `address` (undefined when none has). */
  async underlay(address: string): Promise<Underlay | undefined> {
    const links = jsonArray((await this.run("ip", ["-j", "-4", "addr", "show"])).stdout);
    for (const link of links) {
      const infos = Array.isArray(link["addr_info"]) ? (link["addr_info"] as Record<string, unknown>[]) : [];
      if (infos.some((i) => i["local"] === address)) {
        return { dev: String(link["ifname"]), mtu: typeof link["mtu"] === "number" ? link["mtu"] : 1500 };
      }
    }
    return undefined;
  }

  /** The source address the kernel would use towards `destination` (`ip route get`'s prefsrc). */
  async routeSource(destination: string): Promise<string | undefined> {
    const routes = jsonArray((await this.run("ip", ["-j", "route", "get", destination])).stdout);
    const src = routes[0]?.["prefsrc"];
    return typeof src === "string" && src !== "" ? src : undefined;
  }

  /**
   * Makes the network's VXLAN device as wanted: made when missing, made again when its VNI,
   * local address or port differ (its entries go with it and are written again), then up.
   */
  async ensureVxlan(want: DesiredNetwork, local: string, underlay: Underlay | undefined): Promise<void> {
    const name = want.vxlan;
    const link = await this.link(name);
    const data = (link?.["linkinfo"] as { info_data?: Record<string, unknown> } | undefined)?.info_data;
    const same =
      data !== undefined &&
      data["id"] === want.vni &&
      data["local"] === local &&
      data["port"] === VXLAN_PORT &&
      data["learning"] === false;
    if (link !== undefined && !same) await this.run("ip", ["link", "del", name]);
    if (link === undefined || !same) {
      await this.run("ip", [
        "link",
        "add",
        name,
        "type",
        "vxlan",
        "id",
        String(want.vni),
        "local",
        local,
        ...(underlay !== undefined ? ["dev", underlay.dev] : []),
        "dstport",
        String(VXLAN_PORT),
        "nolearning",
      ]);
    }
    await this.run("ip", ["link", "set", name, "address", vtepMac(local), "up"]);
    // Strict reverse-path filter: a packet from another network's address is dropped as it
    // arrives (it would be routed back through that network's device, not this one).
    await this.sysctl(`net.ipv4.conf.${name}.rp_filter`, "1");
  }

  /** The bridge up, answering ARP for remote addresses of its subnet (proxy_arp). */
  async prepareBridge(bridge: string): Promise<void> {
    await this.run("ip", ["link", "set", bridge, "up"]);
    await this.sysctl(`net.ipv4.conf.${bridge}.proxy_arp`, "1");
    // Answer at once (the kernel otherwise delays proxied answers up to 0.8 s at random).
    await this.sysctl(`net.ipv4.neigh.${bridge}.proxy_delay`, "0");
  }

  /** The network's entries as the kernel holds them. */
  async current(want: DesiredNetwork): Promise<CurrentNetwork> {
    const [routes, neighbours, fdb, addresses] = await Promise.all([
      this.run("ip", ["-j", "-4", "route", "show", "dev", want.vxlan]),
      this.run("ip", ["-j", "-4", "neigh", "show", "dev", want.vxlan]),
      this.run("bridge", ["-j", "fdb", "show", "dev", want.vxlan]),
      this.run("ip", ["-j", "-4", "addr", "show", "dev", want.bridge]),
    ]);
    return {
      routes: currentRoutes(routes.stdout),
      neighbours: currentNeighbours(neighbours.stdout),
      fdb: currentFdb(fdb.stdout),
      bridgeAddresses: currentHostAddresses(addresses.stdout),
    };
  }

  /**
   * Applies the commands, each tool's in one batch; `-force` goes on past a failed line (one
   * already gone, say) and still fails the batch, so the next pass starts from what is there.
   */
  async apply(commands: NetworkCommands): Promise<void> {
    if (commands.bridge.length > 0)
      await this.run("bridge", ["-force", "-batch", "-"], `${commands.bridge.join("\n")}\n`);
    if (commands.ip.length > 0) await this.run("ip", ["-force", "-batch", "-"], `${commands.ip.join("\n")}\n`);
  }

  /** The VNIs of the data plane's VXLAN devices on the host (named shv<vni>). */
  async vxlanVnis(): Promise<number[]> {
    const links = jsonArray((await this.run("ip", ["-j", "-d", "link", "show", "type", "vxlan"])).stdout);
    const out: number[] = [];
    for (const link of links) {
      const data = (link["linkinfo"] as { info_data?: Record<string, unknown> } | undefined)?.info_data;
      const vni = data?.["id"];
      if (typeof vni === "number" && link["ifname"] === vxlanName(vni)) out.push(vni);
    }
    return out;
  }

  async removeLink(name: string): Promise<void> {
    if (await this.exists(name)) await this.run("ip", ["link", "del", name]);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.link(name)) !== undefined;
  }

  private async link(name: string): Promise<Record<string, unknown> | undefined> {
    try {
      return jsonArray((await this.run("ip", ["-j", "-d", "link", "show", "dev", name])).stdout)[0];
    } catch (err: unknown) {
      if (err instanceof CommandFailedError && /does not exist/i.test(err.stderr)) return undefined;
      throw err;
    }
  }
}

function jsonArray(json: string): Record<string, unknown>[] {
  const trimmed = json.trim();
  if (trimmed === "") return [];
  const parsed: unknown = JSON.parse(trimmed);
  return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [];
}
