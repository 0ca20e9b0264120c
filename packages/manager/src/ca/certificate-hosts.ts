// The names a manager's certificate carries besides swarm-manager: the hosts of the addresses it
// is reached at (the Docker API's clients check them), and the loopback names.

/** The host parts of addresses, for the manager certificate's names (wildcards left out). */
export function certificateHosts(addrs: readonly (string | undefined)[]): string[] {
  const hosts = new Set<string>(["127.0.0.1", "localhost"]);
  for (const addr of addrs) {
    if (addr === undefined) continue;
    const host = addr.slice(0, addr.lastIndexOf(":")).replace(/^\[|\]$/g, "");
    if (host !== "" && host !== "0.0.0.0" && host !== "::") hosts.add(host);
  }
  return [...hosts];
}
