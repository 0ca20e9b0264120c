import { EndpointMode, Network } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { networkCreateSpec, networkJson } from "../../src/commands/network.js";
import { parseNetworkAttachment } from "../../src/commands/network-flags.js";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags } from "../../src/commands/service-update-spec.js";
import { createFlags, updateFlags } from "./service-flags.js";

describe("--network and --endpoint-mode", () => {
  it("take a name, or docker's name=NAME,alias=A,alias=B; refuse the rest naming the flag", () => {
    expect(parseNetworkAttachment("backend", "--network")).toEqual({ target: "backend", aliases: [] });
    expect(parseNetworkAttachment("name=backend,alias=db,alias=pg", "--network")).toEqual({
      target: "backend",
      aliases: ["db", "pg"],
    });
    expect(() => parseNetworkAttachment("alias=db", "--network")).toThrow(/--network: .*names no network/);
    expect(() => parseNetworkAttachment("name=b,driver-opt=x=y", "--network")).toThrow(/driver options/);
    expect(() => parseNetworkAttachment("name=b,color=red", "--network-add")).toThrow(
      /--network-add: unknown key "color"/,
    );
    expect(() => parseNetworkAttachment("a,b", "--network")).toThrow(/names no network/);
  });

  it("service create puts the networks in the task template and the mode in the endpoint", () => {
    const spec = buildServiceSpec(
      "shoal-base:1",
      [],
      createFlags({ network: ["front", "name=back,alias=api"], endpointMode: "dnsrr" }),
    );
    expect(spec.taskTemplate?.networks).toEqual([
      { target: "front", aliases: [] },
      { target: "back", aliases: ["api"] },
    ]);
    expect(spec.endpoint?.mode).toBe(EndpointMode.DNSRR);
    expect(buildServiceSpec("x", [], createFlags()).endpoint?.mode).toBe(EndpointMode.VIP);
    expect(() => buildServiceSpec("x", [], createFlags({ endpointMode: "rr" }))).toThrow(
      /--endpoint-mode: "rr" is not vip or dnsrr/,
    );
  });

  it("service update: --network-rm by what names it, --network-add of the same target replaces it, the mode kept", () => {
    const current = buildServiceSpec(
      "x",
      [],
      createFlags({ network: ["id-a", "name=id-b,alias=old"], endpointMode: "dnsrr" }),
    );
    const next = applySpecEdit(
      current,
      parseUpdateFlags(updateFlags({ networkRm: ["id-a"], networkAdd: ["name=id-b,alias=new", "id-c"] })),
    );
    expect(next.taskTemplate?.networks).toEqual([
      { target: "id-b", aliases: ["new"] },
      { target: "id-c", aliases: [] },
    ]);
    expect(next.endpoint?.mode).toBe(EndpointMode.DNSRR);
    const vip = applySpecEdit(current, parseUpdateFlags(updateFlags({ endpointMode: "vip" })));
    expect(vip.endpoint?.mode).toBe(EndpointMode.VIP);
    expect(vip.taskTemplate?.networks).toEqual(current.taskTemplate?.networks);
  });
});

describe("shoal network", () => {
  it("create: the flags as a spec, only the overlay driver, --gateway needs --subnet", () => {
    expect(
      networkCreateSpec("back", {
        subnet: "10.9.0.0/24",
        gateway: "10.9.0.254",
        ipRange: "10.9.0.128/25",
        attachable: true,
        label: ["team=a"],
      }),
    ).toEqual({
      annotations: { name: "back", labels: { team: "a" } },
      driverConfig: { name: "overlay", options: {} },
      attachable: true,
      ingress: false,
      ipam: {
        driver: { name: "default", options: {} },
        configs: [{ subnet: "10.9.0.0/24", gateway: "10.9.0.254", range: "10.9.0.128/25" }],
      },
    });
    expect(networkCreateSpec("n", { label: [] }).ipam).toBeUndefined();
    expect(() => networkCreateSpec("n", { driver: "bridge", label: [] })).toThrow(/--driver: .*only overlay/);
    expect(() => networkCreateSpec("n", { gateway: "10.0.0.1", label: [] })).toThrow(
      /--subnet: --gateway and --ip-range need --subnet/,
    );
  });

  it("ls --json: a stable shape with the allocated subnet, gateway and VNI", () => {
    const n = Network.fromPartial({
      id: "n1",
      spec: { annotations: { name: "back", labels: { a: "b" } }, attachable: true },
      ipam: { configs: [{ subnet: "10.0.4.0/24", gateway: "10.0.4.1" }] },
      vni: 4100,
    });
    expect(networkJson(n)).toEqual({
      id: "n1",
      name: "back",
      driver: "overlay",
      scope: "swarm",
      subnet: "10.0.4.0/24",
      gateway: "10.0.4.1",
      vni: 4100,
      attachable: true,
      ingress: false,
      labels: { a: "b" },
      createdAt: "",
    });
  });
});

describe("service inspect --pretty", () => {
  it("shows the networks, the endpoint mode and the allocated virtual IPs", async () => {
    const { prettyService } = await import("../../src/output/service-pretty.js");
    const { Service } = await import("@shoal/shared");
    const spec = buildServiceSpec("x", [], createFlags({ network: ["name=back,alias=api"] }));
    const text = prettyService(
      Service.fromPartial({ id: "s1", spec, endpoint: { virtualIps: [{ networkId: "n1", addr: "10.0.1.2/24" }] } }),
    );
    expect(text).toContain("Networks:\tback (aliases: api)\nEndpoint Mode:\tvip\nVirtual IPs:\n n1:\t10.0.1.2/24\n");
  });
});
