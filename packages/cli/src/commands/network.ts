// shoal network create | ls | inspect | rm: the cluster's overlay networks. The manager checks
// the spec and allocates the subnet (unless given), gateway and VNI; `ls` shows them.
import type { Command } from "commander";
import { InvalidArgumentError, Network, shortId, type NetworkSpec } from "@shoal/shared";
import { MANAGER_HELP, withControl } from "../client.js";
import { formatTable } from "../output/table.js";
import { listFilters } from "./secret.js";
import { collect, keyValues } from "./service-spec.js";

export interface NetworkCreateFlags {
  driver?: string | undefined;
  subnet?: string | undefined;
  gateway?: string | undefined;
  ipRange?: string | undefined;
  attachable?: boolean | undefined;
  label: string[];
}

/** `network create` flags as a spec; the manager validates the addresses. */
export function networkCreateSpec(name: string, opts: NetworkCreateFlags): NetworkSpec {
  const driver = opts.driver ?? "overlay";
  if (driver !== "overlay") {
    throw new InvalidArgumentError(`driver ${JSON.stringify(driver)} is not supported: only overlay`, {
      field: "--driver",
    });
  }
  const subnet = opts.subnet ?? "";
  if (subnet === "" && (opts.gateway !== undefined || opts.ipRange !== undefined)) {
    throw new InvalidArgumentError("--gateway and --ip-range need --subnet", { field: "--subnet" });
  }
  return {
    annotations: { name, labels: keyValues(opts.label, "--label") },
    driverConfig: { name: "overlay", options: {} },
    attachable: opts.attachable === true,
    ingress: false,
    ipam:
      subnet === ""
        ? undefined
        : {
            driver: { name: "default", options: {} },
            configs: [{ subnet, gateway: opts.gateway ?? "", range: opts.ipRange ?? "" }],
          },
  };
}

/** One network as `ls --json` prints it: a stable contract. */
export interface NetworkJson {
  id: string;
  name: string;
  driver: string;
  scope: string;
  subnet: string;
  gateway: string;
  vni: number;
  attachable: boolean;
  ingress: boolean;
  labels: Record<string, string>;
  createdAt: string;
}

export function networkJson(n: Network): NetworkJson {
  const config = n.ipam?.configs[0];
  return {
    id: n.id,
    name: n.spec?.annotations?.name ?? "",
    driver: "overlay",
    scope: "swarm",
    subnet: config?.subnet ?? "",
    gateway: config?.gateway ?? "",
    vni: n.vni,
    attachable: n.spec?.attachable ?? false,
    ingress: n.spec?.ingress ?? false,
    labels: { ...(n.spec?.annotations?.labels ?? {}) },
    createdAt: n.meta?.createdAt?.toISOString() ?? "",
  };
}

export function networkTable(list: readonly Network[]): string {
  const rows = list.map((n) => {
    const j = networkJson(n);
    return [shortId(j.id), j.name, j.driver, j.scope, j.subnet, j.gateway];
  });
  return formatTable(["NETWORK ID", "NAME", "DRIVER", "SCOPE", "SUBNET", "GATEWAY"], rows);
}

export function registerNetworkCommands(program: Command): void {
  const cmd = program.command("network").description("manage overlay networks that services' tasks join");
  cmd
    .command("create")
    .description("create an overlay network (its subnet from the cluster's pool unless --subnet)")
    .argument("<name>", "the network's name")
    .option("-d, --driver <driver>", "network driver (only overlay)", "overlay")
    .option("--subnet <cidr>", "the network's IPv4 subnet, e.g. 10.0.9.0/24 (default: the next free one)")
    .option("--gateway <ip>", "the gateway's address in the subnet (default: its first address)")
    .option("--ip-range <cidr>", "the part of the subnet tasks' addresses come from")
    .option("--attachable", "let plain containers attach (recorded for Docker's API)")
    .option("-l, --label <k=v>", "label (repeatable)", collect, [])
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (name: string, opts: NetworkCreateFlags & { manager?: string }) => {
      const spec = networkCreateSpec(name, opts);
      const id = await withControl(opts.manager, async (c) => (await c.call("createNetwork", { spec })).network!.id);
      process.stdout.write(`${id}\n`);
    });
  cmd
    .command("ls")
    .description("list networks")
    .option("-f, --filter <k=v>", "name=PREFIX, id=PREFIX or label=KEY[=VALUE] (repeatable)", collect, [])
    .option("-q, --quiet", "print only ids")
    .option("--json", "print the networks as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (opts: { filter: string[]; quiet?: boolean; json?: boolean; manager?: string }) => {
      const filters = listFilters(opts.filter);
      const list = await withControl(opts.manager, async (c) => (await c.call("listNetworks", { filters })).networks);
      if (opts.json) process.stdout.write(`${JSON.stringify(list.map(networkJson), null, 2)}\n`);
      else if (opts.quiet) process.stdout.write(list.map((n) => `${n.id}\n`).join(""));
      else process.stdout.write(networkTable(list));
    });
  cmd
    .command("inspect")
    .description("show networks as JSON")
    .argument("<network...>", "network name, id or id prefix")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], opts: { manager?: string }) => {
      const list = await withControl(opts.manager, async (c) => {
        const out: Network[] = [];
        for (const ref of refs) out.push((await c.call("getNetwork", { networkId: ref })).network!);
        return out;
      });
      process.stdout.write(
        `${JSON.stringify(
          list.map((n) => Network.toJSON(n)),
          null,
          2,
        )}\n`,
      );
    });
  cmd
    .command("rm")
    .description("remove networks (refused while a service's tasks join one, and for ingress)")
    .argument("<network...>", "network name, id or id prefix")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], opts: { manager?: string }) => {
      await withControl(opts.manager, async (c) => {
        for (const ref of refs) {
          await c.call("removeNetwork", { networkId: ref });
          process.stdout.write(`${ref}\n`);
        }
      });
    });
}
