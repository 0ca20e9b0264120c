// `service inspect --pretty`: the networks a service's tasks join, its endpoint mode and the
// virtual IPs the manager allocated it (one per network, in VIP mode).
import { EndpointMode, type Service } from "@shoal/shared";

export function networkLines(service: Service): string[] {
  const lines: string[] = [];
  const networks = service.spec?.taskTemplate?.networks ?? [];
  if (networks.length > 0) {
    const shown = networks.map((n) =>
      n.aliases.length > 0 ? `${n.target} (aliases: ${n.aliases.join(", ")})` : n.target,
    );
    lines.push(`Networks:\t${shown.join(" ")}`);
  }
  lines.push(`Endpoint Mode:\t${service.spec?.endpoint?.mode === EndpointMode.DNSRR ? "dnsrr" : "vip"}`);
  const vips = service.endpoint?.virtualIps ?? [];
  if (vips.length > 0) lines.push("Virtual IPs:", ...vips.map((v) => ` ${v.networkId}:\t${v.addr}`));
  return lines;
}
