import { EndpointMode, PublishMode, ServiceSpec, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { validateServiceNetworks } from "../../src/controlapi/validate-service-networks.js";

const spec = (s: DeepPartial<ServiceSpec>): ServiceSpec =>
  ServiceSpec.fromPartial({ annotations: { name: "web" }, ...s });

describe("validateServiceNetworks", () => {
  it("accepts networks with aliases, vip and dnsrr (with host ports)", () => {
    expect(() =>
      validateServiceNetworks(
        spec({
          taskTemplate: { networks: [{ target: "front", aliases: ["api", "web.v1"] }, { target: "back" }] },
          endpoint: {
            mode: EndpointMode.DNSRR,
            ports: [{ targetPort: 80, publishedPort: 80, publishMode: PublishMode.HOST }],
          },
        }),
      ),
    ).not.toThrow();
  });

  it("refuses, naming the field: an ingress port in dnsrr mode, a network twice, an empty target, a bad alias, a bad mode", () => {
    const cases: [ServiceSpec, RegExp][] = [
      [
        spec({ endpoint: { mode: EndpointMode.DNSRR, ports: [{ targetPort: 80, publishMode: PublishMode.INGRESS }] } }),
        /spec.endpoint.ports\[0\].publish_mode: port published with ingress mode can.t be used with dnsrr mode/,
      ],
      [
        spec({ taskTemplate: { networks: [{ target: "a" }, { target: "a" }] } }),
        /networks\[1\].target: network a is named twice/,
      ],
      [spec({ taskTemplate: { networks: [{ target: "" }] } }), /networks\[0\].target: names no network/],
      [spec({ taskTemplate: { networks: [{ target: "a", aliases: ["bad alias"] }] } }), /networks\[0\].aliases\[0\]/],
      [spec({ endpoint: { mode: 7 as EndpointMode } }), /spec.endpoint.mode: unknown endpoint mode 7/],
    ];
    for (const [s, message] of cases) expect(() => validateServiceNetworks(s)).toThrow(message);
  });
});
