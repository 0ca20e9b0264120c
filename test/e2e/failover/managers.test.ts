// Failover of managers under faults, on one shared cluster (3 managers, a spare manager host, 3
// agent hosts), each scenario while a client keeps writing; the checker then verifies that no
// acknowledged write was lost, no refused write was applied, and that tasks and containers match
// the specs. Scenarios follow issue 5: 1 leader SIGKILLs, 2 follower SIGKILL and replacement,
// 3 leader partitioned from the other managers, 6 loss of quorum.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorMessage } from "@shoal/shared";
import { FailoverCluster, type ManagerSlot } from "./cluster.js";
import { FailoverClient } from "./failover-client.js";
import { containersOn } from "./observe.js";
import { runScenario, writesProgress, type ScenarioResult } from "./scenario.js";
import { serviceSpec } from "./writer.js";
import { waitUntil } from "../support/wait.js";

let cluster: FailoverCluster;
/** A service no writer touches: its containers must outlive every manager fault. */
const STEADY = "steady";
let steadyId = "";

beforeAll(async () => {
  cluster = await FailoverCluster.start({ managers: 3, spareManagerHosts: 1, agents: 3 });
  const leader = await cluster.leader();
  const { service } = await cluster.control.call(leader.addr, "createService", {
    spec: serviceSpec(STEADY, cluster.baseImage, 3),
  });
  steadyId = service!.id;
  await waitUntil("steady to run", async () => (await steadyContainers()).length === 3, 60_000);
});

/** Ids of the running containers of the steady service, as the agent hosts' dockerds list them. */
async function steadyContainers(): Promise<string[]> {
  const all = (await Promise.all(cluster.agentHosts.map((h) => containersOn(h)))).flat();
  return all
    .filter((c) => c.serviceId === steadyId)
    .map((c) => c.id)
    .sort();
}

afterAll(async () => {
  await cluster?.dispose();
});

function report(name: string, r: ScenarioResult): void {
  console.log(`failover ${name}: ${r.history.summary()}, ${(r.ms / 1000).toFixed(1)} s`);
}

/** Every running manager lists the same services. */
async function expectSameState(): Promise<void> {
  await cluster.waitManagersInSync();
  const perManager = await cluster.serviceNamesPerManager();
  const lists = [...perManager.values()].map((l) => l.join(","));
  expect(new Set(lists).size, JSON.stringify(Object.fromEntries(perManager))).toBe(1);
}

function followers(leader: ManagerSlot): ManagerSlot[] {
  return cluster.running().filter((m) => m !== leader);
}

describe("failover of managers", () => {
  it("1: keeps every write through 10 leader SIGKILLs in a row", async () => {
    const elections: number[] = [];
    const r = await runScenario(cluster, { prefix: "s1", seed: 1 }, async () => {
      for (let round = 0; round < 10; round++) {
        const leader = await cluster.leader();
        const killedAt = Date.now();
        await cluster.killManager(leader);
        // Back from its data dir at once, so that the next kill leaves a quorum.
        cluster.restartManager(leader);
        // Any leader now was elected after the kill (the killed process cannot answer), and it may
        // be the restarted one: Raft lets it win when the others' election timers run late.
        const next = await cluster.leader();
        elections.push(Date.now() - killedAt);
        if (next !== leader) await cluster.waitFollower(leader);
      }
    });
    report("1 (leader SIGKILL x10)", r);
    console.log(`failover 1: new leader after ${elections.join(", ")} ms`);
    expect(r.violations).toEqual([]);
    await expectSameState();
  });

  it("2: keeps every write through a follower's SIGKILL, its restart, and its replacement by a new manager", async () => {
    const r = await runScenario(cluster, { prefix: "s2", seed: 2 }, async (writer) => {
      const leader = await cluster.leader();
      const follower = followers(leader)[0]!;
      await cluster.killManager(follower);
      await writesProgress(writer);
      cluster.restartManager(follower);
      await cluster.waitFollower(follower);
      await writesProgress(writer);
      // It dies for good: removed from the group, and a new manager on a fresh host joins.
      await cluster.killManager(follower);
      await cluster.removeManager(follower);
      const spare = cluster.managers.find((m) => m.proc === undefined && m !== follower)!;
      await cluster.addManager(spare.index);
      await cluster.waitFollower(spare);
    });
    report("2 (follower SIGKILL, restart, replacement)", r);
    expect(r.violations).toEqual([]);
    expect(cluster.running()).toHaveLength(3);
    await expectSameState();
  });

  it("3: a leader cut from the other managers steps down, accepts no write, and rejoins as a follower", async () => {
    const minorityWrites: { name: string; outcome: string }[] = [];
    let oldLeader: ManagerSlot | undefined;
    const r = await runScenario(cluster, { prefix: "s3", seed: 3 }, async (writer) => {
      const leader = await cluster.leader();
      oldLeader = leader;
      const others = followers(leader);
      const [a1, a2, a3] = cluster.agentHosts;
      await cluster.harness.split([leader.host, a1!], [...others.map((m) => m.host), a2!, a3!]);
      // The majority elects a leader; the old one steps down (it no longer hears a quorum).
      await cluster.leader(others, 10_000);
      await waitUntil("the old leader to step down", async () => (await cluster.info(leader))?.isLeader === false);
      // Writes sent to the old leader alone: none may be acknowledged.
      const minority = new FailoverClient({
        control: cluster.control,
        addresses: () => [leader.addr],
        attemptTimeoutMs: 1500,
        callTimeoutMs: 1500,
      });
      for (let i = 0; i < 3; i++) {
        const name = `s3-minority-${i}`;
        const res = await minority.call("createService", { spec: serviceSpec(name, cluster.baseImage, 1) });
        minorityWrites.push({ name, outcome: res.outcome });
      }
      await writesProgress(writer);
      await cluster.harness.healAll();
      await cluster.waitFollower(leader);
    });
    report("3 (leader partitioned)", r);
    console.log(`failover 3: writes to the old leader alone: ${minorityWrites.map((w) => w.outcome).join(", ")}`);
    expect(minorityWrites.filter((w) => w.outcome === "acked")).toEqual([]);
    expect(r.violations).toEqual([]);
    expect((await cluster.info(oldLeader!))?.isLeader).toBe(false);
    await expectSameState();
    // A write the minority refused was not applied (an ambiguous one may have been).
    const names = [...(await cluster.serviceNamesPerManager()).values()][0] ?? [];
    for (const w of minorityWrites) if (w.outcome === "refused") expect(names).not.toContain(w.name);
  });

  it("6: without a quorum writes fail fast with a clear error, containers run on, and the cluster resumes", async () => {
    const steady = await steadyContainers();
    let failure = "";
    let failedInMs = 0;
    const r = await runScenario(cluster, { prefix: "s6", seed: 6 }, async (writer) => {
      const leader = await cluster.leader();
      const [survivor, other] = followers(leader);
      await cluster.killManager(leader);
      await cluster.killManager(other!);
      // A write to the one manager left fails within the request timeout, saying why.
      const started = Date.now();
      const spec = serviceSpec("s6-no-quorum", cluster.baseImage, 1);
      failure = await cluster.control.call(survivor!.addr, "createService", { spec }, 5000).then(
        () => "acknowledged",
        (err: unknown) => errorMessage(err),
      );
      failedInMs = Date.now() - started;
      // The agents lose their managers, not their containers.
      expect(await steadyContainers()).toEqual(steady);
      // One manager back: a quorum again.
      cluster.restartManager(other!);
      await cluster.leader([survivor!, other!]);
      await writesProgress(writer);
      cluster.restartManager(leader);
      await cluster.waitFollower(leader);
    });
    report("6 (quorum lost, then one manager back)", r);
    console.log(`failover 6: a write without quorum failed in ${failedInMs} ms: ${failure}`);
    expect(failedInMs).toBeLessThan(4500);
    expect(failure).toMatch(/leader|quorum/i);
    expect(r.violations).toEqual([]);
    expect(await steadyContainers()).toEqual(steady);
    await expectSameState();
  });

  it("6b: the last manager of a lost quorum restarts with --force-new-cluster, keeps the state, and others join it", async () => {
    const steady = await steadyContainers();
    const r = await runScenario(cluster, { prefix: "s6b", seed: 66 }, async (writer) => {
      const leader = await cluster.leader();
      const survivor = followers(leader)[0]!;
      const dead = cluster.running().filter((m) => m !== survivor);
      for (const m of dead) await cluster.killManager(m);
      await cluster.killManager(survivor);
      cluster.startManagerWith(survivor, ["--force-new-cluster"]);
      expect(await cluster.leader([survivor])).toBe(survivor);
      await writesProgress(writer);
      // The dead managers come back as new members, with empty data dirs.
      for (const m of dead) {
        await cluster.addManager(m.index);
        await cluster.waitFollower(m);
      }
      await writesProgress(writer);
    });
    report("6b (--force-new-cluster)", r);
    expect(r.violations).toEqual([]);
    expect((await cluster.info(cluster.running()[0]!))?.raft?.members).toHaveLength(3);
    expect(await steadyContainers()).toEqual(steady);
    await expectSameState();
  });
});
