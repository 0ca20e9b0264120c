import { AssignmentAction, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import type { BridgeNetworkSpec, HostNetworks, NetworkReadiness } from "../../../src/exec/host-networks.js";
import { CommandFailedError, type CommandRunner } from "../../../src/network/command-runner.js";
import { DataPlane } from "../../../src/network/dataplane/data-plane.js";
import { NetworkStates } from "../../../src/network/network-states.js";
import { stateOfA } from "./fixtures.js";

/** Docker's networks in memory; `inUse` ones refuse to go. */
class MemoryHostNetworks implements HostNetworks {
  readonly made = new Map<string, BridgeNetworkSpec>();
  readonly inUse = new Set<string>();
  readiness: NetworkReadiness | undefined;
  ensure(spec: BridgeNetworkSpec): Promise<void> {
    this.made.set(spec.id, spec);
    return Promise.resolve();
  }
  list(): Promise<string[]> {
    return Promise.resolve([...this.made.keys()]);
  }
  remove(id: string): Promise<boolean> {
    if (this.inUse.has(id)) return Promise.resolve(false);
    this.made.delete(id);
    return Promise.resolve(true);
  }
  setReadiness(readiness: NetworkReadiness | undefined): void {
    this.readiness = readiness;
  }
}

/** A host without devices: records the commands; batches and sysctls succeed, shows print nothing. */
function recordingRunner(fail: () => boolean = () => false): { run: CommandRunner; lines: string[] } {
  const lines: string[] = [];
  const run: CommandRunner = (command, args, input) => {
    lines.push([command, ...args].join(" ") + (input ? `\n${input}` : ""));
    if (fail()) return Promise.reject(new CommandFailedError([command, ...args], 1, "refused"));
    if (args.includes("show") && args.includes("dev") && args.includes("link")) {
      return Promise.reject(new CommandFailedError([command, ...args], 1, "Device does not exist"));
    }
    return Promise.resolve({ stdout: args.includes("-j") ? "[]" : "" });
  };
  return { run, lines };
}

const planes: DataPlane[] = [];
afterEach(async () => {
  for (const p of planes.splice(0)) await p.stop();
});

function plane(states: NetworkStates, networks: HostNetworks, run: CommandRunner): DataPlane {
  const p = new DataPlane({
    states,
    networks,
    logger: silentLogger(),
    runner: run,
    dataPathAddr: () => Promise.resolve("192.0.2.11"),
    backoff: { initialMs: 10, maxMs: 20 },
    removalRetryMs: 10,
  });
  planes.push(p);
  return p;
}

describe("DataPlane", () => {
  it("sets a network up and tells the tasks waiting for it", async () => {
    const states = new NetworkStates();
    const networks = new MemoryHostNetworks();
    const { run, lines } = recordingRunner();
    const p = plane(states, networks, run);
    p.start();
    expect(networks.readiness).toBe(p);
    const waiting = p.waitReady(["n1"], AbortSignal.timeout(2_000));
    states.apply(AssignmentAction.UPDATE, stateOfA());
    expect(await waiting).toEqual([{ id: "n1", name: "shoal-n1", gateway: "10.0.1.1" }]);
    expect(networks.made.get("n1")).toMatchObject({ name: "shoal-n1", bridge: "shb4097", subnet: "10.0.1.0/24" });
    const all = lines.join("\n");
    expect(all).toContain("sysctl -q -w net.ipv4.ip_forward=1");
    expect(all).toContain("sysctl -q -w net.ipv4.conf.shb4097.proxy_arp=1");
    expect(all).toContain("ip link add shv4097 type vxlan id 4097 local 192.0.2.11 dstport 4789 nolearning");
    expect(all).toContain("route replace 10.0.1.3/32 dev shv4097");
  });

  it("retries a failed pass, and removes a network once Docker lets it go", async () => {
    const states = new NetworkStates();
    const networks = new MemoryHostNetworks();
    let failures = 2;
    const { run } = recordingRunner(() => failures-- > 0);
    const p = plane(states, networks, run);
    p.start();
    states.apply(AssignmentAction.UPDATE, stateOfA());
    await p.waitReady(["n1"], AbortSignal.timeout(2_000));
    networks.inUse.add("n1");
    states.apply(AssignmentAction.REMOVE, stateOfA());
    await p.settled();
    expect(networks.made.has("n1")).toBe(true);
    networks.inUse.delete("n1");
    await expect.poll(() => networks.made.has("n1"), { timeout: 2_000 }).toBe(false);
  });

  it("stops idempotently, and waiting tasks give up", async () => {
    const networks = new MemoryHostNetworks();
    const p = plane(new NetworkStates(), networks, recordingRunner().run);
    p.start();
    const waiting = p.waitReady(["n9"], AbortSignal.timeout(2_000)).catch((e: unknown) => e);
    await p.stop();
    await p.stop();
    expect(await waiting).toBeInstanceOf(Error);
    expect(networks.readiness).toBeUndefined();
  });
});
