// A manager that joins while the leader is not the manager that founded the cluster, before any
// snapshot after the first: the leader's snapshot (index 1) names the founder alone, and the later
// members come in log entries that only the leader can send. The joiner must hear the leader
// that admitted it. Found by the failover suite (scenario 2, a dead follower replaced by a new
// manager): the joiner refused the leader's messages as a non-member's, never caught up, and
// the group, now counting it, lost its quorum at the next fault.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceSpec, silentLogger } from "@shoal/shared";
import { Manager } from "@shoal/manager";
import { TestControl, useClientCertDir } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";

let root = "";
const managers: Manager[] = [];
const control = new TestControl();

async function startManager(name: string, join?: string): Promise<Manager> {
  const m = new Manager({
    listen: "127.0.0.1:0",
    dataDir: `${root}/${name}`,
    logger: silentLogger(),
    ...(join ? { join, joinToken: (await joinTokens(control, join)).manager } : {}),
    raft: { tickMs: 20 },
  });
  await m.start();
  // The founder's admin client certificate is the test's.
  if (!join) useClientCertDir(`${root}/${name}/client`);
  managers.push(m);
  return m;
}

async function names(m: Manager): Promise<string[]> {
  const { services } = await control.call(
    m.address,
    "listServices",
    { filters: undefined, includeStatus: false },
    2000,
  );
  return services.map((s) => s.spec!.annotations!.name).sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-join-non-founder-"));
  const founder = await startManager("a");
  await startManager("b", founder.address);
  await startManager("c", founder.address);
});

afterAll(async () => {
  control.close();
  await Promise.all(managers.map((m) => m.stop()));
  await rm(root, { recursive: true, force: true });
});

describe("a manager joining through a leader that did not found the cluster", () => {
  it("hears that leader, catches up and counts in the quorum", async () => {
    const [founder] = managers;
    await expect.poll(() => founder!.raft?.isLeader).toBe(true);
    expect(await founder!.raft!.transferLeadership()).toBe(true);
    let leader: Manager | undefined;
    await expect
      .poll(() => (leader = managers.find((m) => m !== founder && m.raft?.isLeader)) !== undefined)
      .toBe(true);
    const d = await startManager("d", leader!.address);
    const spec = ServiceSpec.fromPartial({
      annotations: { name: "after-join" },
      taskTemplate: { container: { image: "shoal-base:1" } },
    });
    await control.call(leader!.address, "createService", { spec }, 5000);
    await expect.poll(() => names(d).catch(() => []), { timeout: 10_000 }).toContain("after-join");
    // With the founder gone, the quorum of four needs the newcomer.
    await founder!.stop();
    managers.splice(managers.indexOf(founder!), 1);
    spec.annotations!.name = "without-founder";
    await control.call(leader!.address, "createService", { spec }, 5000);
    expect(await names(d)).toContain("without-founder");
  });
});
