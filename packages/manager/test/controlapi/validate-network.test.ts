import { NetworkSpec, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { validateNetworkSpec } from "../../src/controlapi/validate-network.js";

const spec = (s: DeepPartial<NetworkSpec>): NetworkSpec =>
  NetworkSpec.fromPartial({ annotations: { name: "backend" }, ...s });
const ipam = (subnet: string, gateway = "", range = ""): DeepPartial<NetworkSpec> => ({
  ipam: { configs: [{ subnet, gateway, range }] },
});

function refusal(s: NetworkSpec | undefined): { field: unknown; message: string } {
  try {
    validateNetworkSpec(s);
  } catch (err: unknown) {
    const e = err as { field?: unknown; message: string };
    return { field: e.field, message: e.message };
  }
  throw new Error("accepted");
}

describe("validateNetworkSpec", () => {
  it("accepts a plain overlay network and one with a subnet, gateway and range, naming the driver", () => {
    expect(validateNetworkSpec(spec({})).driverConfig?.name).toBe("overlay");
    expect(() =>
      validateNetworkSpec(
        spec({ driverConfig: { name: "overlay" }, ...ipam("10.9.0.0/16", "10.9.0.254", "10.9.1.0/24") }),
      ),
    ).not.toThrow();
    expect(() => validateNetworkSpec(spec({ ipam: { driver: { name: "default" }, configs: [] } }))).not.toThrow();
  });

  it("refuses bad input, naming the field", () => {
    const cases: [NetworkSpec | undefined, string, RegExp][] = [
      [undefined, "spec", /required/],
      [spec({ annotations: { name: "" } }), "spec.annotations.name", /needs a name/],
      [spec({ annotations: { name: "-x" } }), "spec.annotations.name", /not a valid network name/],
      [spec({ annotations: { name: "a b" } }), "spec.annotations.name", /not a valid/],
      [spec({ driverConfig: { name: "bridge" } }), "spec.driver_config.name", /only "overlay"/],
      [
        spec({ driverConfig: { name: "overlay", options: { encrypted: "" } } }),
        "spec.driver_config.options",
        /not supported/,
      ],
      [spec({ ingress: true }), "spec.ingress", /the cluster makes the ingress network/],
      [spec({ annotations: { name: "ingress" } }), "spec.annotations.name", /ingress network/],
      [spec({ ipam: { driver: { name: "dhcp" } } }), "spec.ipam.driver.name", /only "default"/],
      [
        spec({ ipam: { configs: [{ subnet: "10.1.0.0/24" }, { subnet: "10.2.0.0/24" }] } }),
        "spec.ipam.configs",
        /at most one/,
      ],
      [spec(ipam("fd00::/64")), "spec.ipam.configs[0].subnet", /not an IPv4 CIDR/],
      [spec(ipam("10.0.0.0/7")), "spec.ipam.configs[0].subnet", /8 to 29/],
      [spec(ipam("10.0.0.0/30")), "spec.ipam.configs[0].subnet", /8 to 29/],
      [spec(ipam("10.0.0.1/24")), "spec.ipam.configs[0].subnet", /host bits/],
      [spec(ipam("10.0.0.0/24", "10.0.1.1")), "spec.ipam.configs[0].gateway", /not a host address/],
      [spec(ipam("10.0.0.0/24", "10.0.0.0")), "spec.ipam.configs[0].gateway", /not a host address/],
      [spec(ipam("10.0.0.0/24", "10.0.0.255")), "spec.ipam.configs[0].gateway", /not a host address/],
      [spec(ipam("10.0.0.0/24", "x")), "spec.ipam.configs[0].gateway", /not an IPv4 address/],
      [spec(ipam("10.0.0.0/24", "", "10.0.1.0/25")), "spec.ipam.configs[0].range", /not inside/],
      [spec(ipam("", "10.0.0.1")), "spec.ipam.configs[0].subnet", /needs a subnet/],
      [spec({ annotations: { name: "n", labels: { "a b": "" } } }), "spec.annotations.labels", /label key/],
    ];
    for (const [s, field, message] of cases) {
      const got = refusal(s);
      expect(got.field, JSON.stringify(s)).toBe(field);
      expect(got.message).toMatch(message);
    }
  });

  it("lets the cluster make the ingress network", () => {
    expect(validateNetworkSpec(spec({ ingress: true }), { allowIngress: true }).ingress).toBe(true);
  });
});
