// `shoal agent --data-path-addr IP`: the address other nodes send this node's overlay (VXLAN)
// traffic to, when it is not the one its manager session comes from (NodeDescription.data_path_addr).
import { isIPv4 } from "node:net";
import { InvalidArgumentError } from "@shoal/shared";

/** commander's argument parser for --data-path-addr: an IPv4 address. */
export function parseDataPathAddr(value: string): string {
  if (!isIPv4(value)) {
    throw new InvalidArgumentError(`"${value}" is not an IPv4 address`, { field: "--data-path-addr" });
  }
  return value;
}
