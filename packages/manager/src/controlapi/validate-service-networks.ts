// A service's networks and endpoint mode, as SwarmKit checks them: a known mode; no ingress-mode
// published port in dnsrr mode (no virtual IP to publish it on); each network named once, with
// valid aliases. Whether a network exists (and is not ingress) is checked where names are resolved.
import { EndpointMode, InvalidArgumentError, PublishMode, type ServiceSpec } from "@shoal/shared";

/** A DNS label as an alias must be (SwarmKit accepts names docker's resolver can answer). */
const ALIAS = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,253}[a-zA-Z0-9])?$/;

export function validateServiceNetworks(spec: ServiceSpec): void {
  const mode = spec.endpoint?.mode ?? EndpointMode.VIP;
  if (mode !== EndpointMode.VIP && mode !== EndpointMode.DNSRR) {
    throw new InvalidArgumentError(`unknown endpoint mode ${mode}`, { field: "spec.endpoint.mode" });
  }
  if (mode === EndpointMode.DNSRR) {
    const i = spec.endpoint?.ports.findIndex((p) => p.publishMode === PublishMode.INGRESS) ?? -1;
    if (i >= 0) {
      throw new InvalidArgumentError(
        "port published with ingress mode can't be used with dnsrr mode (publish it in host mode)",
        { field: `spec.endpoint.ports[${i}].publish_mode` },
      );
    }
  }
  const seen = new Set<string>();
  (spec.taskTemplate?.networks ?? []).forEach((n, i) => {
    const field = `spec.task_template.networks[${i}]`;
    if (n.target === "") throw new InvalidArgumentError("names no network", { field: `${field}.target` });
    if (seen.has(n.target)) {
      throw new InvalidArgumentError(`network ${n.target} is named twice`, { field: `${field}.target` });
    }
    seen.add(n.target);
    n.aliases.forEach((alias, j) => {
      if (!ALIAS.test(alias)) {
        throw new InvalidArgumentError(`${JSON.stringify(alias.slice(0, 80))} is not a valid alias`, {
          field: `${field}.aliases[${j}]`,
        });
      }
    });
  });
}
