// Managers in one process over real gRPC on loopback, with real disks: snapshots and log
// compaction, a manager that joins late and catches up from a snapshot, removal of a member,
// and a leader that hands over leadership when it stops.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceSpec, silentLogger } from "@shoal/shared";
import { Manager } from "@shoal/manager";
import { TestControl, testClientCredentials, useClientCertDir } from "../e2e/support/control-client.js";

let root = "";
const managers: Manager[] = [];
const control = new TestControl();

async function managerToken(addr: string): Promise<string> {
  for (;;) {
    const { cluster } = await control.call(addr, "getCluster", { clusterId: "" }).catch(() => ({ cluster: undefined }));
    if (cluster?.rootJoinTokens?.manager) return cluster.rootJoinTokens.manager;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startManager(name: string, join?: string): Promise<Manager> {
  const m = new Manager({
    listen: "127.0.0.1:0",
    dataDir: `${root}/${name}`,
    logger: silentLogger(),
    ...(join ? { join, joinToken: await managerToken(join) } : {}),
    raft: { snapshotInterval: 20, tickMs: 20 },
  });
  await m.start();
  // The founder's admin client certificate is the test's.
  if (!join) useClientCertDir(`${root}/${name}/client`);
  managers.push(m);
  return m;
}

function spec(name: string): ServiceSpec {
  return ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: { container: { image: "shoal-base:1" } },
    mode: { $case: "replicated", value: { replicas: 2 } },
  });
}

async function leader(): Promise<Manager> {
  let found: Manager | undefined;
  await expect
    .poll(() => (found = managers.find((m) => m.raft?.isLeader)) !== undefined, { timeout: 10_000 })
    .toBe(true);
  return found!;
}

async function names(m: Manager): Promise<string[]> {
  const { services } = await control.call(m.address, "listServices", { filters: undefined, includeStatus: false });
  return services.map((s) => s.spec!.annotations!.name).sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-mgr-cluster-"));
  const first = await startManager("a");
  await startManager("b", first.address);
  await startManager("c", first.address);
});

afterAll(async () => {
  control.close();
  await Promise.all(managers.map((m) => m.stop()));
  await rm(root, { recursive: true, force: true });
});

describe("a manager cluster", () => {
  it("takes snapshots and compacts the log as writes go by", async () => {
    const l = await leader();
    for (let i = 0; i < 60; i++) await control.call(l.address, "createService", { spec: spec(`s${i}`) });
    await expect
      .poll(async () => (await readdir(join(root, "a", "raft", "snap"))).some((f) => f.endsWith(".snap")))
      .toBe(true);
    for (const m of managers) await expect.poll(() => names(m)).toHaveLength(60);
  });

  it("lets a new manager join late and catch up from the leader's snapshot", async () => {
    const l = await leader();
    const d = await startManager("d", l.address);
    await expect.poll(() => names(d), { timeout: 10_000 }).toEqual(await names(l));
    const info = await control.call(d.address, "getInfo", {});
    expect(info.raft?.members).toHaveLength(4);
  });

  it("removes a member: the others stop counting it", async () => {
    const l = await leader();
    const victim = managers.find((m) => m !== l && m.raft!.raftId !== l.raft!.raftId)!;
    const { RaftMembershipClient } = await import("@shoal/shared");
    const { credentials, options } = testClientCredentials();
    const client = new RaftMembershipClient(l.address, credentials, options);
    await new Promise<void>((resolve, reject) =>
      client.leave({ raftId: victim.raft!.raftId }, (err) => (err ? reject(err) : resolve())),
    );
    client.close();
    const info = await control.call(l.address, "getInfo", {});
    expect(info.raft?.members.map((m) => m.member?.raftId)).not.toContain(victim.raft!.raftId);
    expect(info.raft?.members).toHaveLength(3);
    await victim.stop();
    managers.splice(managers.indexOf(victim), 1);
    // With 3 members left, writes still commit.
    await control.call(l.address, "createService", { spec: spec("after-removal") });
  });

  it("hands leadership to another manager when the leader stops", async () => {
    const old = await leader();
    const stoppedAt = Date.now();
    await old.stop();
    managers.splice(managers.indexOf(old), 1);
    const next = await leader();
    expect(next).not.toBe(old);
    // A transfer, not an election timeout: well under the election timeout of 10 ticks x 20 ms x 2.
    expect(Date.now() - stoppedAt).toBeLessThan(2000);
    await control.call(next.address, "createService", { spec: spec("after-handover") });
  });

  it("refuses a bad spec with the field and changes nothing", async () => {
    const l = await leader();
    const before = await names(l);
    await expect(
      control.call(l.address, "createService", {
        spec: ServiceSpec.fromPartial({
          annotations: { name: "bad" },
          mode: { $case: "replicated", value: { replicas: 1 } },
        }),
      }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "spec.task_template.container.image: an image is required",
    });
    await expect(control.call(l.address, "createService", { spec: spec("s1") })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
    });
    expect(await names(l)).toEqual(before);
  });
});
