import { PortProtocol, PublishMode } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { fromDockerPort, toDockerPort } from "../../src/dockerapi/endpoint-spec.js";

describe("endpoint ports", () => {
  it("reads a port with Docker's defaults (tcp, ingress), and writes it back", () => {
    const port = fromDockerPort({ TargetPort: 53, PublishedPort: 5353 }, 0);
    expect(port).toEqual({
      name: "",
      protocol: PortProtocol.TCP,
      targetPort: 53,
      publishedPort: 5353,
      publishMode: PublishMode.INGRESS,
    });
    expect(toDockerPort(port)).toEqual({
      Protocol: "tcp",
      TargetPort: 53,
      PublishedPort: 5353,
      PublishMode: "ingress",
    });
    const udp = fromDockerPort({ Name: "dns", Protocol: "udp", TargetPort: 53, PublishMode: "host" }, 0);
    expect(toDockerPort(udp)).toEqual({
      Name: "dns",
      Protocol: "udp",
      TargetPort: 53,
      PublishedPort: 0,
      PublishMode: "host",
    });
  });

  it("refuses ports out of range and unknown words, naming the port", () => {
    expect(() => fromDockerPort({ TargetPort: 0 }, 2)).toThrow(
      "EndpointSpec.Ports[2].TargetPort: must be a port from 1 to 65535, not 0",
    );
    expect(() => fromDockerPort({ TargetPort: 80, PublishedPort: 70_000 }, 0)).toThrow(
      "EndpointSpec.Ports[0].PublishedPort: must be a port up to 65535, not 70000",
    );
    expect(() => fromDockerPort({ TargetPort: 80, Protocol: "sctp" }, 1)).toThrow(
      'EndpointSpec.Ports[1].Protocol: "sctp" is not one of tcp, udp',
    );
  });
});
