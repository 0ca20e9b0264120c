// Validation of a network's spec (what a user may ask for): a name as Docker's, the overlay driver
// without options, the default IPAM driver with at most one IPv4 config whose subnet (prefix 8..29),
// gateway and range agree. The ingress network is the cluster's own: users cannot make one. Errors
// name the field. Overlaps with other networks are the allocation's to check (network-allocation.ts).
import { InvalidArgumentError, type IPAMConfig, type NetworkSpec } from "@shoal/shared";
import { containsAddr, containsSubnet, lastOf, parseCidr, parseIpv4, parseSubnet } from "./network-subnets.js";
import { validateLabelKeys } from "./validate-labels.js";

/** Docker's network name rule (daemon/network.go: a name starts with a letter or digit). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const MIN_SUBNET_PREFIX = 8;
export const MAX_SUBNET_PREFIX = 29;

export interface NetworkSpecRules {
  /** The cluster's own ingress network may be made (by the cluster, never a user). */
  readonly allowIngress?: boolean;
}

/** Checks a spec to create; returns it with the driver named ("overlay"). */
export function validateNetworkSpec(spec: NetworkSpec | undefined, rules: NetworkSpecRules = {}): NetworkSpec {
  if (!spec) throw new InvalidArgumentError("is required", { field: "spec" });
  const name = spec.annotations?.name ?? "";
  if (name === "") throw new InvalidArgumentError("a network needs a name", { field: "spec.annotations.name" });
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(name.slice(0, 80))} is not a valid network name (letters, digits, '_', '.' and '-', ` +
        "starting with a letter or digit)",
      { field: "spec.annotations.name" },
    );
  }
  if (name === "ingress" && !rules.allowIngress) {
    throw new InvalidArgumentError("the name ingress is the cluster's ingress network's", {
      field: "spec.annotations.name",
    });
  }
  validateLabelKeys(spec.annotations?.labels, "spec.annotations.labels");
  const driver = spec.driverConfig?.name ?? "";
  if (driver !== "" && driver !== "overlay") {
    throw new InvalidArgumentError(`driver ${JSON.stringify(driver)} is not supported: only "overlay"`, {
      field: "spec.driver_config.name",
    });
  }
  if (Object.keys(spec.driverConfig?.options ?? {}).length > 0) {
    throw new InvalidArgumentError("driver options are not supported", { field: "spec.driver_config.options" });
  }
  if (spec.ingress && !rules.allowIngress) {
    throw new InvalidArgumentError("the cluster makes the ingress network: it cannot be created", {
      field: "spec.ingress",
    });
  }
  validateIpam(spec);
  return { ...spec, driverConfig: { name: "overlay", options: {} } };
}

function validateIpam(spec: NetworkSpec): void {
  const ipam = spec.ipam;
  if (!ipam) return;
  const driver = ipam.driver?.name ?? "";
  if (driver !== "" && driver !== "default") {
    throw new InvalidArgumentError(`IPAM driver ${JSON.stringify(driver)} is not supported: only "default"`, {
      field: "spec.ipam.driver.name",
    });
  }
  if (Object.keys(ipam.driver?.options ?? {}).length > 0) {
    throw new InvalidArgumentError("IPAM driver options are not supported", { field: "spec.ipam.driver.options" });
  }
  if (ipam.configs.length > 1) {
    throw new InvalidArgumentError(`${ipam.configs.length} IPAM configs: at most one (IPv4) is supported`, {
      field: "spec.ipam.configs",
    });
  }
  const config = ipam.configs[0];
  if (config) validateIpamConfig(config, "spec.ipam.configs[0]");
}

export function validateIpamConfig(config: IPAMConfig, field: string): void {
  if (config.subnet === "") {
    if (config.gateway !== "" || config.range !== "") {
      throw new InvalidArgumentError("a gateway or range needs a subnet", { field: `${field}.subnet` });
    }
    return;
  }
  const cidr = parseCidr(config.subnet);
  if (!cidr) {
    throw new InvalidArgumentError(`${JSON.stringify(config.subnet)} is not an IPv4 CIDR (e.g. 10.0.9.0/24)`, {
      field: `${field}.subnet`,
    });
  }
  if (cidr.prefix < MIN_SUBNET_PREFIX || cidr.prefix > MAX_SUBNET_PREFIX) {
    throw new InvalidArgumentError(
      `${config.subnet}: the prefix length must be ${MIN_SUBNET_PREFIX} to ${MAX_SUBNET_PREFIX}`,
      { field: `${field}.subnet` },
    );
  }
  const subnet = parseSubnet(config.subnet);
  if (!subnet) {
    throw new InvalidArgumentError(`${config.subnet} has host bits set: give the subnet's first address`, {
      field: `${field}.subnet`,
    });
  }
  if (config.gateway !== "") {
    const gateway = parseIpv4(config.gateway);
    if (gateway === undefined) {
      throw new InvalidArgumentError(`${JSON.stringify(config.gateway)} is not an IPv4 address`, {
        field: `${field}.gateway`,
      });
    }
    if (!containsAddr(subnet, gateway) || gateway === subnet.base || gateway === lastOf(subnet)) {
      throw new InvalidArgumentError(
        `${config.gateway} is not a host address of subnet ${config.subnet} (nor its network or broadcast address)`,
        { field: `${field}.gateway` },
      );
    }
  }
  if (config.range !== "") {
    const range = parseSubnet(config.range);
    if (!range) {
      throw new InvalidArgumentError(`${JSON.stringify(config.range)} is not an IPv4 CIDR without host bits`, {
        field: `${field}.range`,
      });
    }
    if (!containsSubnet(subnet, range)) {
      throw new InvalidArgumentError(`${config.range} is not inside subnet ${config.subnet}`, {
        field: `${field}.range`,
      });
    }
  }
}

/**
 * The founding manager's --default-addr-pool (CIDRs, prefix 8..29) and --default-addr-pool-mask-length
 * (the subnets' prefix, at least each pool's and at most 29; 0: 24).
 */
export function validateAddressPool(pools: readonly string[], subnetSize: number): void {
  for (const pool of pools) {
    const subnet = parseSubnet(pool);
    if (!subnet || subnet.prefix < MIN_SUBNET_PREFIX || subnet.prefix > MAX_SUBNET_PREFIX) {
      throw new InvalidArgumentError(
        `${JSON.stringify(pool)} is not an IPv4 CIDR without host bits, prefix ${MIN_SUBNET_PREFIX} to ${MAX_SUBNET_PREFIX}`,
        { field: "--default-addr-pool" },
      );
    }
    if (subnetSize !== 0 && subnetSize < subnet.prefix) {
      throw new InvalidArgumentError(`/${subnetSize} subnets do not fit in pool ${pool}`, {
        field: "--default-addr-pool-mask-length",
      });
    }
  }
  if (
    !Number.isInteger(subnetSize) ||
    subnetSize < 0 ||
    subnetSize > MAX_SUBNET_PREFIX ||
    (subnetSize > 0 && subnetSize < MIN_SUBNET_PREFIX)
  ) {
    throw new InvalidArgumentError(
      `${subnetSize}: expected a prefix length of ${MIN_SUBNET_PREFIX} to ${MAX_SUBNET_PREFIX}`,
      {
        field: "--default-addr-pool-mask-length",
      },
    );
  }
}
