// A write in flight when its leader loses leadership may still be committed by the next leader
// (its entry may already be on a majority): the manager must not answer "not the leader", which
// clients read as "not applied, try elsewhere", but an error that says the outcome is unknown.
// Found by the failover suite (test/e2e/failover, a lossy network): a remove answered
// NOT_LEADER was applied.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, ServiceSpec, ShoalError, silentLogger } from "@shoal/shared";
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

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-lost-leadership-"));
  const first = await startManager("a");
  await startManager("b", first.address);
  await startManager("c", first.address);
});

afterAll(async () => {
  control.close();
  await Promise.all(managers.map((m) => m.stop()));
  await rm(root, { recursive: true, force: true });
});

describe("a write in flight when the leader loses its quorum", () => {
  it("fails with an error that says it may still be applied, not NOT_LEADER", async () => {
    let leader: Manager | undefined;
    await expect.poll(() => (leader = managers.find((m) => m.raft?.isLeader)) !== undefined).toBe(true);
    // The followers' raft nodes stop at once (the leader notices only after an election timeout).
    await Promise.all(managers.filter((m) => m !== leader).map((m) => m.raft!.stop()));
    const spec = ServiceSpec.fromPartial({
      annotations: { name: "in-flight" },
      taskTemplate: { container: { image: "shoal-base:1" } },
    });
    // The entry is appended, cannot commit, and the leader steps down (check quorum).
    const err = await control.call(leader!.address, "createService", { spec }, 10_000).then(
      () => undefined,
      (e: unknown) => e as ShoalError,
    );
    expect(err).toBeInstanceOf(ShoalError);
    expect(err!.code).not.toBe(ErrorCode.NotLeader);
    expect(err!.code).not.toBe(ErrorCode.FailedPrecondition);
    expect(err!.message).toMatch(/may still be applied/);
    // Once it is a follower, a new write is refused outright: nothing was proposed.
    await expect(control.call(leader!.address, "createService", { spec }, 10_000)).rejects.toMatchObject({
      code: ErrorCode.NotLeader,
    });
  });
});
