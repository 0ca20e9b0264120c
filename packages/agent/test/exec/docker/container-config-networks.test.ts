import { describe, expect, it } from "vitest";
import { ExecError, ExecErrorReason } from "../../../src/exec/errors.js";
import type { NetworkReadiness, ReadyNetwork } from "../../../src/exec/host-networks.js";
import { containerConfig } from "../../../src/exec/docker/container-config.js";
import { taskNetworks, withNetworks } from "../../../src/exec/docker/container-config-networks.js";
import { makeTask } from "../task-fixture.js";

const N1: ReadyNetwork = { id: "n1", name: "shoal-n1", gateway: "10.0.1.1" };
const N2: ReadyNetwork = { id: "n2", name: "shoal-n2", gateway: "10.0.2.1" };

const readyNow: NetworkReadiness = {
  waitReady: (ids) => Promise.resolve(ids.map((id) => (id === "n1" ? N1 : N2))),
};
const never: NetworkReadiness = {
  waitReady: (_ids, signal) =>
    new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
};

const twoNetworks = makeTask({
  networks: [
    { networkId: "n1", addresses: ["10.0.1.5/24"] },
    { networkId: "n2", addresses: ["10.0.2.7/24"] },
  ],
});

describe("a task's networks on its container", () => {
  it("creates the container on its first network with its address, and the gateway as DNS server", async () => {
    const networks = await taskNetworks(twoNetworks, readyNow);
    expect(networks?.map((n) => n.address)).toEqual(["10.0.1.5", "10.0.2.7"]);
    const body = withNetworks(containerConfig(twoNetworks), networks);
    expect(body.HostConfig?.NetworkMode).toBe("shoal-n1");
    expect(body.HostConfig?.Dns).toEqual(["10.0.1.1"]);
    expect(body.NetworkingConfig).toEqual({
      EndpointsConfig: { "shoal-n1": { IPAMConfig: { IPv4Address: "10.0.1.5" } } },
    });
  });

  it("keeps the nameservers the task's DNS config sets", async () => {
    const task = makeTask({
      networks: [{ networkId: "n1", addresses: ["10.0.1.5/24"] }],
      spec: { container: { image: "shoal-base:1", dnsConfig: { nameservers: ["9.9.9.9"] } } },
    });
    const body = withNetworks(containerConfig(task), await taskNetworks(task, readyNow));
    expect(body.HostConfig?.Dns).toEqual(["9.9.9.9"]);
  });

  it("leaves a task without networks exactly as before", async () => {
    const task = makeTask();
    const networks = await taskNetworks(task, undefined);
    expect(networks).toBeUndefined();
    expect(withNetworks(containerConfig(task), networks)).toEqual(containerConfig(task));
  });

  it("fails the task, saying why, when the host has no data plane or its networks are not set up in time", async () => {
    const noDataPlane = await taskNetworks(twoNetworks, undefined).catch((e: unknown) => e);
    expect(noDataPlane).toBeInstanceOf(ExecError);
    expect((noDataPlane as ExecError).reason).toBe(ExecErrorReason.Network);
    expect((noDataPlane as ExecError).temporary).toBe(false);
    expect((noDataPlane as Error).message).toMatch(/no network data plane/);
    const unallocated = makeTask({ networks: [{ networkId: "n1", addresses: [] }] });
    const noAddress = await taskNetworks(unallocated, readyNow).catch((e: unknown) => e);
    expect((noAddress as Error).message).toMatch(/networks\[0\]\.addresses: no address allocated/);
    const late = await taskNetworks(twoNetworks, never, undefined, 50).catch((e: unknown) => e);
    expect((late as Error).message).toMatch(/networks n1, n2 not set up on the host within 50 ms/);
  });
});
