// One data plane per host, with real agents: two `shoal agent`s on one test host (one dockerd,
// one network namespace) register as two nodes, and only the first says it drives the host's
// network data plane; once it dies, a new agent on the host takes the lock over.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type HostProcess } from "./harness/index.js";
import { spawnAgent, waitAgentsReady } from "./support/agents.js";
import { TestControl } from "./support/control-client.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { freePort, type ShoalProcess } from "./support/shoal-process.js";

let harness: Harness;
let root = "";
let manager: ShoalProcess | undefined;
let addr = "";
let token = "";
const control = new TestControl();

/** Starts an agent named `name` on the test host (its own data dir) and waits until it is ready. */
async function agent(name: string): Promise<HostProcess> {
  const host = harness.hosts[0]!;
  const proc = spawnAgent(host, {
    managers: [addr],
    token,
    args: ["--data-dir", join(host.dir, name), "--secrets-dir", join(host.dir, `${name}-secrets`), "--hostname", name],
  });
  await waitAgentsReady([name], { control, via: addr });
  return proc;
}

/** NodeDescription.network_data_plane of the node named `name`, as the manager knows it. */
async function drivesDataPlane(name: string): Promise<boolean | undefined> {
  const { nodes } = await control.call(addr, "listNodes", { filters: undefined });
  return nodes.find((n) => n.description?.hostname === name)?.description?.networkDataPlane;
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["dataplanel"] });
  root = await mkdtemp(join(tmpdir(), "shoal-dp-lock-"));
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--unsafe-no-fsync"],
  });
  manager = m!.proc;
  addr = m!.addr;
  token = (await joinTokens(control, addr)).worker;
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  // The last agent's lock file (named after the host's namespace) would outlive the host.
  const netns = harness && (await stat(harness.hosts[0]!.netnsPath).catch(() => undefined));
  await harness?.dispose();
  if (netns !== undefined) await rm(`/run/shoal/dataplane-net${netns.ino}.lock`, { force: true });
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("one network data plane per host", () => {
  it("is driven by the first agent of the host, and taken over after it dies", async () => {
    const first = await agent("dpfirst");
    await agent("dpsecond");
    expect(await drivesDataPlane("dpfirst")).toBe(true);
    expect(await drivesDataPlane("dpsecond")).toBe(false);
    first.kill("SIGKILL");
    await first.exited;
    await agent("dpthird");
    expect(await drivesDataPlane("dpthird")).toBe(true);
  });
});
