// The job cron (leader only): starts the runs of scheduled jobs at their cron ticks (see
// reconcile.ts for what a tick does). It watches services; a pass re-reads the services it has
// to look at in one transaction and writes each due tick there, so the write is conditional on
// the service being as read: a leader whose state is stale (another leader wrote the tick) has
// its entry refused at apply, and its next pass finds the tick done. Between ticks it sleeps:
// one timer on the injected clock, for the earliest next tick of all scheduled jobs (capped, so
// that a wall-clock jump is noticed within the cap).
import {
  componentLogger,
  cronSchedule,
  errorMessage,
  type Clock,
  type CronSchedule,
  type Logger,
  type Service,
  type Timer,
} from "@shoal/shared";
import { ReconcileLoop } from "../../reconcile/index.js";
import type { MemoryStore, ObjectEvent, ReadTx } from "../../state/store/index.js";
import { isScheduledJob, planTick } from "./reconcile.js";

/** The longest sleep between passes, even with no tick due sooner. */
export const MAX_SLEEP_MS = 60 * 60 * 1000;
/** Parsed schedules kept; past it the cache starts again (schedules changed many times). */
const MAX_CACHED_SCHEDULES = 1_000;

export interface JobCronOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop and the wake-up timer; the `now` of every tick decision. */
  readonly clock: Clock;
}

export class JobCron {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly loop: ReconcileLoop;
  private all = false;
  private dirty = new Set<string>();
  /** Next tick of each scheduled job, as of its last pass. */
  private readonly next = new Map<string, number>();
  private readonly schedules = new Map<string, CronSchedule>();
  private timer: { at: number; timer: Timer } | undefined;

  constructor(options: JobCronOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/cron");
    this.loop = new ReconcileLoop(
      {
        tables: ["services"],
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.all || this.dirty.size > 0,
        pass: (signal) => this.pass(signal),
        stopped: () => this.disarm(),
      },
      { store: this.store, clock: this.clock, logger: this.logger },
    );
  }

  /** Runs until `signal` aborts or `stop()`; starts from one snapshot of the store. */
  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  /** Stops, cancels the wake-up timer, and waits for the loop to end. Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** The next tick of each scheduled job (for tests and logs). */
  nextTicks(): Map<string, number> {
    return new Map(this.next);
  }

  private reset(_tx: ReadTx): void {
    this.all = true;
    this.dirty.clear();
  }

  private observe(e: ObjectEvent): void {
    if (e.table !== "services") return;
    if (e.kind === "delete") {
      this.dirty.delete(e.object.id);
      this.next.delete(e.object.id);
      return;
    }
    const had = e.kind === "update" && e.oldObject.spec?.schedule !== undefined;
    if (e.object.spec?.schedule !== undefined || had) this.dirty.add(e.object.id);
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const all = this.all;
    const ids = this.dirty;
    this.all = false;
    this.dirty = new Set();
    const now = this.clock.now();
    const looked = new Map<string, CronSchedule | undefined>();
    const ticks: { name: string; tick: number; outcome: string }[] = [];
    try {
      await this.store.update(
        (tx) => {
          looked.clear();
          ticks.length = 0;
          const services = all ? tx.services.find() : [...ids].flatMap((id) => tx.services.get(id) ?? []);
          for (const service of services) {
            const schedule = isScheduledJob(service) ? this.scheduleOf(service.spec!.schedule!) : undefined;
            looked.set(service.id, schedule);
            if (schedule === undefined) continue;
            const planned = this.plan(service, schedule, now);
            if (planned === undefined) continue;
            tx.services.update(planned.service);
            ticks.push({
              name: service.spec?.annotations?.name ?? service.id,
              tick: planned.tick,
              outcome: planned.outcome,
            });
          }
        },
        { signal },
      );
    } catch (err: unknown) {
      this.all ||= all;
      for (const id of ids) this.dirty.add(id);
      throw err;
    }
    for (const t of ticks) {
      this.logger.info({ service: t.name, tick: new Date(t.tick).toISOString(), outcome: t.outcome }, "cron tick");
    }
    if (all) this.next.clear();
    for (const [id, schedule] of looked) {
      const next = schedule?.nextAfter(now);
      if (next === undefined) this.next.delete(id);
      else this.next.set(id, next);
    }
    this.arm();
  }

  /** planTick, with a failure kept to its own job (logged; the other jobs' ticks go on). */
  private plan(service: Service, schedule: CronSchedule, now: number): ReturnType<typeof planTick> {
    try {
      return planTick(service, schedule, now);
    } catch (err: unknown) {
      this.logger.error({ service: service.id, err: errorMessage(err) }, "cron tick failed");
      return undefined;
    }
  }

  /** The parsed schedule (cached); undefined, and logged, if the stored one does not parse. */
  private scheduleOf(s: { cron: string; timezone: string }): CronSchedule | undefined {
    const key = `${s.cron}\u0000${s.timezone}`;
    let schedule = this.schedules.get(key);
    if (schedule === undefined) {
      try {
        schedule = cronSchedule(s);
      } catch (err: unknown) {
        this.logger.warn({ cron: s.cron, timezone: s.timezone, err: errorMessage(err) }, "schedule does not parse");
        return undefined;
      }
      if (this.schedules.size >= MAX_CACHED_SCHEDULES) this.schedules.clear();
      this.schedules.set(key, schedule);
    }
    return schedule;
  }

  /** One timer for the earliest next tick, or for MAX_SLEEP_MS when that is later; none without jobs. */
  private arm(): void {
    if (this.next.size === 0) {
      this.disarm();
      return;
    }
    const now = this.clock.now();
    let at = now + MAX_SLEEP_MS;
    for (const tick of this.next.values()) at = Math.min(at, tick);
    if (this.timer?.at === at) return;
    this.disarm();
    const timer = this.clock.setTimeout(() => this.wake(), Math.max(0, at - now));
    this.timer = { at, timer };
  }

  /** A tick is due (or the cap passed, or the timer came early): a pass for the jobs concerned. */
  private wake(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const due = [...this.next].filter(([, tick]) => tick <= now).map(([id]) => id);
    // None due: look at every job again, which recomputes the next ticks (the wall clock may have jumped).
    for (const id of due.length > 0 ? due : this.next.keys()) this.dirty.add(id);
    this.loop.kick();
  }

  private disarm(): void {
    this.timer?.timer.cancel();
    this.timer = undefined;
  }
}
