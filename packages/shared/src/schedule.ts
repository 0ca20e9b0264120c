// Cron schedules of scheduled jobs (JobSchedule): standard five fields (minute hour day-of-month
// month day-of-week, names and the nicknames @hourly .. @yearly accepted), read in an IANA time
// zone (UTC when none). Parsing and tick arithmetic are croner's: no dependencies, time zones
// through Intl, and Vixie cron's rules at DST changes (a fixed time in the skipped hour runs once
// after the gap, a fixed time in the repeated hour runs once; interval fields run in both passes
// of a repeated hour and skip the missing one). Times are milliseconds since the epoch; nothing
// here reads a clock.
import { Cron } from "croner";
import { InvalidArgumentError } from "./errors.js";
import type { JobSchedule } from "./gen/shoal/v1/types.js";

/** The zone a schedule with no time zone is read in. */
export const DEFAULT_SCHEDULE_TIMEZONE = "UTC";

/** A date that every five-field pattern that matches any date matches again within 28 years of. */
const NEVER_REFERENCE = Date.UTC(2000, 0, 1);

/** A parsed schedule: its ticks, in real time. */
export class CronSchedule {
  private readonly cron: Cron;

  /** Throws InvalidArgumentError naming spec.schedule.cron or spec.schedule.timezone. */
  constructor(
    readonly expression: string,
    readonly timezone: string = DEFAULT_SCHEDULE_TIMEZONE,
  ) {
    const zone = timezone === "" ? DEFAULT_SCHEDULE_TIMEZONE : timezone;
    checkTimezone(zone);
    this.timezone = zone;
    const fields = expression.trim().split(/\s+/);
    const nickname = fields.length === 1 && fields[0]!.startsWith("@");
    if (fields.length !== 5 && !nickname) {
      throw new InvalidArgumentError(
        `"${expression}" is not a five-field cron expression (minute hour day-of-month month day-of-week)`,
        { field: "spec.schedule.cron" },
      );
    }
    try {
      // "no-wildcard": a list or range of fixed times (30 2,14 * * *) is fixed-time at a DST
      // change, as in Vixie cron.
      this.cron = new Cron(expression.trim(), { timezone: zone, mode: "5-part", fixedTimeRule: "no-wildcard" });
    } catch (err: unknown) {
      throw new InvalidArgumentError(`"${expression}" is not a valid cron expression: ${cronMessage(err)}`, {
        field: "spec.schedule.cron",
      });
    }
    if (this.nextAfter(NEVER_REFERENCE) === undefined) {
      throw new InvalidArgumentError(`"${expression}" matches no date`, { field: "spec.schedule.cron" });
    }
  }

  /** The latest tick at or before `ms`, if any. */
  latestAtOrBefore(ms: number): number | undefined {
    // previousRuns counts a tick earlier in the reference's second: one past `ms` includes `ms`.
    const [tick] = this.cron.previousRuns(1, new Date(ms + 1));
    return tick === undefined ? undefined : tick.getTime();
  }

  /** The first tick after `ms`, if any. */
  nextAfter(ms: number): number | undefined {
    const tick = this.cron.nextRun(new Date(ms));
    return tick === null ? undefined : tick.getTime();
  }
}

/** A JobSchedule's ticks; throws InvalidArgumentError naming the field that is wrong. */
export function cronSchedule(schedule: Pick<JobSchedule, "cron" | "timezone">): CronSchedule {
  if (schedule.cron.trim() === "") {
    throw new InvalidArgumentError("a schedule needs a cron expression", { field: "spec.schedule.cron" });
  }
  return new CronSchedule(schedule.cron, schedule.timezone);
}

function checkTimezone(zone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    throw new InvalidArgumentError(`"${zone}" is not a known IANA time zone (such as Europe/Paris or UTC)`, {
      field: "spec.schedule.timezone",
    });
  }
}

/** croner's message without its class-name prefix. */
function cronMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^Cron\w*:\s*/, "");
}
