import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, ScheduleOverlap, silentLogger, type StoreAction, type Timer } from "@shoal/shared";
import { JobCron } from "../../../src/orchestrator/cron/job-cron.js";
import { LocalProposer, MemoryStore, type Proposer } from "../../../src/state/store/index.js";
import { settle, until } from "../helpers.js";
import { MINUTE, START, finishRun, jobOf, runsOf, scheduledJob } from "./fixtures.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A ManualClock that records the delay of every timer set on it. */
class RecordingClock extends ManualClock {
  readonly delays: number[] = [];
  override setTimeout(fn: () => void, ms: number): Timer {
    this.delays.push(ms);
    return super.setTimeout(fn, ms);
  }
}

function start(store: MemoryStore, clock: ManualClock): JobCron {
  const cron = new JobCron({ store, clock, logger: silentLogger() });
  void cron.run();
  stops.push(() => cron.stop());
  return cron;
}

/** Advances the clock by `ms` and lets the passes it causes finish. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await settle();
}

describe("JobCron", () => {
  it("sleeps until the next tick, then starts one run for it", async () => {
    const clock = new RecordingClock(START);
    const store = new MemoryStore({ clock });
    await store.update((tx) => tx.services.create(scheduledJob("job", { lastTick: START })));
    const cron = start(store, clock);
    await until(() => cron.nextTicks().size === 1, "the next tick");
    expect(cron.nextTicks().get("svc-job")).toBe(START + 30_000);
    // One timer, for the tick 30 s away: no polling in between.
    expect(clock.delays).toEqual([30_000]);
    await advance(clock, 29_999);
    expect(runsOf(jobOf(store, "svc-job"))).toEqual([]);
    await advance(clock, 1);
    expect(runsOf(jobOf(store, "svc-job"))).toEqual([[1, "2026-01-05T10:01:00.000Z", "RUNNING"]]);
    // Then it sleeps a minute to the next tick.
    expect(clock.delays.at(-1)).toBe(MINUTE);
  });

  it("starts one run per tick, each for its tick", async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStore({ clock });
    await store.update((tx) => tx.services.create(scheduledJob("job", { lastTick: START })));
    start(store, clock);
    await settle();
    for (let i = 0; i < 3; i++) {
      await advance(clock, MINUTE);
      await finishRun(store, "svc-job");
      await settle();
    }
    expect(runsOf(jobOf(store, "svc-job"))).toEqual([
      [1, "2026-01-05T10:01:00.000Z", "SUCCEEDED"],
      [2, "2026-01-05T10:02:00.000Z", "SUCCEEDED"],
      [3, "2026-01-05T10:03:00.000Z", "SUCCEEDED"],
    ]);
  });

  it("overlap skip, allow and replace with a run that has not finished", async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStore({ clock });
    await store.update((tx) => {
      tx.services.create(scheduledJob("skip", { lastTick: START, overlap: ScheduleOverlap.SKIP }));
      tx.services.create(scheduledJob("allow", { lastTick: START, overlap: ScheduleOverlap.ALLOW }));
      tx.services.create(scheduledJob("replace", { lastTick: START, overlap: ScheduleOverlap.REPLACE }));
    });
    start(store, clock);
    await settle();
    await advance(clock, MINUTE);
    await advance(clock, MINUTE);
    const [first, second] = ["2026-01-05T10:01:00.000Z", "2026-01-05T10:02:00.000Z"];
    expect(runsOf(jobOf(store, "svc-skip"))).toEqual([[1, first, "RUNNING"]]);
    expect(jobOf(store, "svc-skip").jobStatus!.skippedTicks).toBe(1);
    expect(runsOf(jobOf(store, "svc-allow"))).toEqual([
      [1, first, "RUNNING"],
      [2, second, "RUNNING"],
    ]);
    expect(runsOf(jobOf(store, "svc-replace"))).toEqual([
      [1, first, "REPLACED"],
      [2, second, "RUNNING"],
    ]);
  });

  it("runs ticks missed during a leader change once, after it, and never a tick twice", async () => {
    const clock = new ManualClock(START);
    const store = new MemoryStore({ clock });
    await store.update((tx) => tx.services.create(scheduledJob("job", { lastTick: START })));
    const first = start(store, clock);
    await settle();
    await advance(clock, 30_000); // 10:01:00: the first leader starts run 1
    await finishRun(store, "svc-job");
    // The first leader goes; a new one comes at once: it does not start 10:01 again.
    await first.stop();
    start(store, clock);
    await settle();
    expect(runsOf(jobOf(store, "svc-job")).map(([i]) => i)).toEqual([1]);
    // A leader change that lasts five ticks: the next leader stops too, and the one after it
    // comes at 10:06:30.
    await stops.at(-1)!();
    clock.advance(5 * MINUTE + 30_000);
    await settle();
    expect(runsOf(jobOf(store, "svc-job")).map(([i]) => i)).toEqual([1]);
    start(store, clock);
    await until(() => runsOf(jobOf(store, "svc-job")).length === 2, "the run after the leader change");
    await settle();
    expect(runsOf(jobOf(store, "svc-job"))).toEqual([
      [1, "2026-01-05T10:01:00.000Z", "SUCCEEDED"],
      [2, "2026-01-05T10:06:00.000Z", "RUNNING"],
    ]);
  });

  it("two leaders racing for one tick start one run: the stale write is refused", async () => {
    const clock = new ManualClock(START);
    const log = new LocalProposer();
    const gates = [new Gate(log), new Gate(log)];
    const stores = gates.map((proposer) => new MemoryStore({ clock, proposer }));
    for (const s of stores) log.attach(s);
    await stores[0]!.update((tx) => tx.services.create(scheduledJob("job", { lastTick: START })));
    for (const s of stores) start(s, clock);
    await settle();
    for (const g of gates) g.hold();
    await advance(clock, 30_000);
    // Both leaders wrote the tick on the same state; neither entry is committed yet.
    expect(gates.map((g) => g.held)).toEqual([1, 1]);
    const before = log.lastIndex;
    for (const g of gates) g.release();
    await settle();
    await advance(clock, 10_000); // past the refused one's retry
    for (const s of stores) {
      expect(runsOf(jobOf(s, "svc-job"))).toEqual([[1, "2026-01-05T10:01:00.000Z", "RUNNING"]]);
      expect(jobOf(s, "svc-job").jobStatus!.jobIteration!.index).toBe(1);
    }
    // Both entries went through the log; the first wrote the job, the second was refused at apply
    // (the job it was built on had changed), and the refused leader, reading again, wrote nothing.
    expect(log.lastIndex).toBe(before + 2);
    for (const s of stores) expect(jobOf(s, "svc-job").meta!.version!.index).toBe(before + 1);
    expect(gates.map((g) => g.held)).toEqual([0, 0]);
  });
});

/** A store's way into a shared log (two leaders' stores): proposals can be held back. */
class Gate implements Proposer {
  private waiting: (() => void)[] = [];
  private holding = false;

  constructor(private readonly log: LocalProposer) {}

  get held(): number {
    return this.waiting.length;
  }

  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const go of this.waiting.splice(0)) go();
  }

  async propose(actions: StoreAction[], signal?: AbortSignal): Promise<{ index: number }> {
    if (this.holding) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.log.propose(actions, signal);
  }
}
