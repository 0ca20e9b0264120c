// Scheduled jobs on real hosts through a leader SIGKILL: three managers and two agent hosts (each
// with its own dockerd). A job scheduled "* * * * *" is created with the shoal CLI; after its
// first run, the leader is SIGKILLed a moment before the next tick, with a follower (so that no
// leader can be elected), and the follower restarted after the tick after it: two ticks pass with
// no leader. The new leader must start one run, for the latest of them, after it. Checked from the
// job status (one run per tick, no tick twice, the missed ones once), the tasks (one task per run,
// each of its own iteration) and the hosts' dockerds (one container per run). About 3 minutes:
// the first tick comes within a minute of the creation, the two missed ones in the next two.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobRunOutcome, TaskState, type Service, type Task } from "@shoal/shared";
import { FailoverCluster } from "./failover/cluster.js";
import { SHOAL_BIN } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const NAME = "tick";
const MINUTE = 60_000;
let cluster: FailoverCluster;

async function shoal(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [SHOAL_BIN, ...args], {
    timeout: 60_000,
    env: { ...process.env, SHOAL_MANAGER: (await cluster.leader(cluster.running())).addr },
  });
  return stdout;
}

async function job(): Promise<Service> {
  const leader = await cluster.leader();
  const { service } = await cluster.control.call(leader.addr, "getService", { serviceId: NAME }, 3000);
  return service!;
}

async function tasksOf(service: Service): Promise<Task[]> {
  const leader = await cluster.leader();
  const filters = { idPrefixes: [], serviceIds: [service.id], nodeIds: [], desiredStates: [] };
  return (await cluster.control.call(leader.addr, "listTasks", { filters }, 3000)).tasks;
}

/** The job's containers on every agent host, ended ones included. */
async function containers(): Promise<number> {
  let n = 0;
  for (const h of cluster.agentHosts) {
    const out = await h.docker(["ps", "-aq", "--filter", `label=com.shoal.service.name=${NAME}`]);
    n += out.stdout.split("\n").filter(Boolean).length;
  }
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const ticks = (s: Service): number[] => (s.jobStatus?.runs ?? []).map((r) => r.scheduledFor?.getTime() ?? 0);

beforeAll(async () => {
  cluster = await FailoverCluster.start({ managers: 3, agents: 2 });
}, 180_000);

afterAll(async () => {
  await cluster?.dispose();
});

describe("scheduled jobs", () => {
  it("runs a '* * * * *' job once per tick through a leader SIGKILL, the tick missed once after it", async () => {
    await shoal(
      ...["service", "create", "--name", NAME, "--mode", "replicated-job", "--schedule", "* * * * *"],
      ...["--schedule-overlap", "skip", "--detach", cluster.baseImage, "sh", "-c", "sleep 2"],
    );
    const created = await job();
    expect(created.jobStatus?.jobIteration?.index ?? 0).toBe(0);
    expect(await containers()).toBe(0);

    // The first tick: one run, for the first whole minute after the creation.
    await waitUntil(
      "the first run to succeed",
      async () => (await job()).jobStatus?.runs[0]?.outcome === JobRunOutcome.SUCCEEDED,
      100_000,
    );
    const first = ticks(await job())[0]!;
    expect(first % MINUTE).toBe(0);
    expect(first).toBeGreaterThan(created.meta!.createdAt!.getTime());

    // Kill the leader a moment before the next tick, and a follower with it: no quorum, so no
    // leader at the tick. Once it has passed, the follower comes back; the new leader starts one
    // run for it. (A longer outage makes the election slow: with the follower down for 65 s, a
    // leader came 8 to 42 s after its restart, so the outage is kept short. Ticks missed over a
    // longer one running once is unit-tested: packages/manager/test/orchestrator/cron/.)
    const missed = first + MINUTE;
    await sleep(missed - Date.now() - 700);
    const old = await cluster.leader();
    const follower = cluster.running().find((m) => m !== old)!;
    await cluster.killManager(old);
    await cluster.killManager(follower);
    const killedAt = Date.now();
    await sleep(missed + 3_000 - Date.now());
    cluster.restartManager(follower);
    const restartedAt = Date.now();
    const leader = await cluster.leader(cluster.running(), 60_000);
    const electedAt = Date.now();
    expect(leader).not.toBe(old);

    await waitUntil("the run for the tick missed", async () => ticks(await job()).length >= 2, 60_000);
    const after = await job();
    const second = after.jobStatus!.runs[1]!;
    // One run, for the latest tick when the new leader wrote it: the missed one (unless the
    // election outlasted a further tick, when it is that one, and the missed one has none).
    const latest = Math.floor(second.startedAt!.getTime() / MINUTE) * MINUTE;
    expect(latest).toBeGreaterThanOrEqual(missed);
    expect(ticks(after).slice(0, 2)).toEqual([first, latest]);
    // Started by the new leader, once it was elected.
    expect(second.startedAt!.getTime()).toBeGreaterThanOrEqual(restartedAt);
    expect(after.jobStatus!.skippedTicks).toBe(0);
    console.info(
      `leader and a follower killed ${missed - killedAt} ms before a tick, follower restarted ` +
        `${restartedAt - missed} ms after it, leader seen ${electedAt - restartedAt} ms later, ` +
        `run started ${second.startedAt!.getTime() - restartedAt} ms after the restart`,
    );
    expect(second.iteration?.index).toBe(2);
    await waitUntil(
      "the second run to succeed",
      async () => (await job()).jobStatus?.runs[1]?.outcome === JobRunOutcome.SUCCEEDED,
      60_000,
    );

    // One run per tick: iterations 1, 2, ... for consecutive minutes, no tick twice; one task and
    // one container per run, each task of its own iteration and complete.
    const done = await job();
    const all = ticks(done);
    expect(new Set(all).size).toBe(all.length);
    all.forEach((t, i) => expect(t).toBe(i === 0 ? first : latest + (i - 1) * MINUTE));
    expect(done.jobStatus!.runs.map((r) => r.iteration?.index)).toEqual(all.map((_, i) => i + 1));
    expect(done.jobStatus!.jobIteration?.index).toBe(all.length);
    const finished = done.jobStatus!.runs.filter((r) => r.outcome === JobRunOutcome.SUCCEEDED).length;
    const tasks = await tasksOf(done);
    const completed = tasks.filter((t) => t.status?.state === TaskState.COMPLETE);
    expect(new Set(completed.map((t) => t.jobIteration?.index)).size).toBe(completed.length);
    expect(completed.length).toBeGreaterThanOrEqual(finished);
    expect(tasks.length).toBe(all.length);
    expect(await containers()).toBe(all.length);

    // What a user sees.
    const text = await shoal("service", "inspect", "--pretty", NAME);
    expect(text).toContain(" Cron:\t\t* * * * *\n");
    expect(text).toMatch(/ Next tick:\t\S+ \(in \d+ (seconds|minutes)\)/);
    expect(text).toContain(`for the tick ${new Date(latest).toISOString()}`);
    expect(await shoal("service", "ls")).toMatch(
      /tick +replicated job .*\* \* \* \* \* UTC, next in \d+ (seconds|minutes), last/,
    );
  }, 330_000);
});
