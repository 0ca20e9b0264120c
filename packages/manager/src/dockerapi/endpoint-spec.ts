// A service's published ports: Docker's EndpointSpec.Ports <-> Shoal's PortConfig, checked on
// the way in. (EndpointSpec.Mode is not modelled: it is kept with the unmapped fields.)
import { InvalidArgumentError, PortProtocol, PublishMode, type PortConfig } from "@shoal/shared";
import type { DockerPortConfig } from "./docker-types.js";
import { defined, invert, pick, whole } from "./spec-values.js";

const PROTOCOLS = { tcp: PortProtocol.TCP, udp: PortProtocol.UDP } as const;
const PUBLISH_MODES = { ingress: PublishMode.INGRESS, host: PublishMode.HOST } as const;

const PROTOCOL_NAMES = invert(PROTOCOLS);
const PUBLISH_MODE_NAMES = invert(PUBLISH_MODES);

/** The `i`th of EndpointSpec.Ports as Shoal's PortConfig. Throws InvalidArgumentError. */
export function fromDockerPort(p: DockerPortConfig, i: number): PortConfig {
  const field = `EndpointSpec.Ports[${i}]`;
  const target = whole(p.TargetPort, `${field}.TargetPort`);
  const published = whole(p.PublishedPort, `${field}.PublishedPort`);
  if (target < 1 || target > 65535) {
    throw new InvalidArgumentError(`must be a port from 1 to 65535, not ${target}`, { field: `${field}.TargetPort` });
  }
  if (published > 65535) {
    throw new InvalidArgumentError(`must be a port up to 65535, not ${published}`, {
      field: `${field}.PublishedPort`,
    });
  }
  return {
    name: p.Name ?? "",
    protocol: pick(PROTOCOLS, p.Protocol || "tcp", `${field}.Protocol`),
    targetPort: target,
    publishedPort: published,
    publishMode: pick(PUBLISH_MODES, p.PublishMode || "ingress", `${field}.PublishMode`),
  };
}

export function toDockerPort(p: PortConfig): DockerPortConfig {
  return defined({
    Name: p.name || undefined,
    Protocol: PROTOCOL_NAMES.get(p.protocol) ?? "tcp",
    TargetPort: p.targetPort,
    PublishedPort: p.publishedPort,
    PublishMode: PUBLISH_MODE_NAMES.get(p.publishMode) ?? "ingress",
  });
}
