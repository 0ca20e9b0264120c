// Fields of the wire contract whose behaviour is still being built: refused, named, so that no
// spec is stored with a field Shoal would ignore. Each line goes when the code honouring it lands.
import { EndpointMode, InvalidArgumentError, type ServiceSpec } from "@shoal/shared";

export function refusePending(spec: ServiceSpec): void {
  if ((spec.taskTemplate?.networks.length ?? 0) > 0) {
    throw new InvalidArgumentError("networks are not supported by Shoal yet", {
      field: "spec.task_template.networks",
    });
  }
  if (spec.endpoint !== undefined && spec.endpoint.mode !== EndpointMode.VIP) {
    throw new InvalidArgumentError("endpoint modes are not supported by Shoal yet", { field: "spec.endpoint.mode" });
  }
}
