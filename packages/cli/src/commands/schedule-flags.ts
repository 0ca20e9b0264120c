// The schedule flags of `shoal service create` and `update`: --schedule "CRON" (five fields),
// --schedule-timezone ZONE (IANA; UTC by default), --schedule-overlap skip|allow|replace, and
// on update --schedule-rm. Only a job (--mode replicated-job or global-job) takes a schedule. The
// expression and the zone are checked here as the manager checks them, each error naming its flag.
import type { Command } from "commander";
import {
  InvalidArgumentError,
  ScheduleOverlap,
  cronSchedule,
  isShoalError,
  type JobSchedule,
  type ServiceSpec,
} from "@shoal/shared";

export interface ScheduleFlags {
  schedule?: string | undefined;
  scheduleTimezone?: string | undefined;
  scheduleOverlap?: string | undefined;
  /** Update only. */
  scheduleRm?: boolean | undefined;
}

const OVERLAPS: Record<string, ScheduleOverlap> = {
  skip: ScheduleOverlap.SKIP,
  allow: ScheduleOverlap.ALLOW,
  replace: ScheduleOverlap.REPLACE,
};

/** "skip", "allow" or "replace". */
export function overlapName(overlap: ScheduleOverlap): string {
  return Object.keys(OVERLAPS).find((k) => OVERLAPS[k] === overlap) ?? String(overlap);
}

export function addScheduleOptions(cmd: Command, update = false): Command {
  cmd
    .option("--schedule <cron>", 'run the job at each tick of a five-field cron expression, e.g. "*/5 * * * *"')
    .option("--schedule-timezone <zone>", "IANA time zone the schedule is read in (default UTC)")
    .option("--schedule-overlap <policy>", "when a tick comes before the last run ended: skip, allow or replace");
  if (update)
    cmd.option("--schedule-rm", "remove the schedule: an ordinary job again, which runs now and on each change");
  return cmd;
}

const isJob = (spec: Pick<ServiceSpec, "mode">): boolean =>
  spec.mode?.$case === "replicatedJob" || spec.mode?.$case === "globalJob";

/**
 * `spec` with the schedule the flags ask for: `current` (the service's, on update) edited by the
 * flags given, or none with --schedule-rm. Throws InvalidArgumentError naming the flag.
 */
export function applyScheduleFlags(
  spec: Pick<ServiceSpec, "mode">,
  current: JobSchedule | undefined,
  flags: ScheduleFlags,
): JobSchedule | undefined {
  const given =
    flags.schedule !== undefined || flags.scheduleTimezone !== undefined || flags.scheduleOverlap !== undefined;
  if (flags.scheduleRm === true) {
    if (given)
      throw new InvalidArgumentError("cannot be used with the other schedule flags", { field: "--schedule-rm" });
    return undefined;
  }
  if (!given) return current;
  if (current === undefined && flags.schedule === undefined) {
    const flag = flags.scheduleTimezone !== undefined ? "--schedule-timezone" : "--schedule-overlap";
    throw new InvalidArgumentError("needs a schedule (--schedule)", { field: flag });
  }
  if (!isJob(spec)) {
    throw new InvalidArgumentError("a schedule is only for jobs (--mode replicated-job or global-job)", {
      field: "--schedule",
    });
  }
  const schedule: JobSchedule = {
    cron: flags.schedule ?? current!.cron,
    timezone: flags.scheduleTimezone ?? current?.timezone ?? "",
    overlap:
      flags.scheduleOverlap === undefined
        ? (current?.overlap ?? ScheduleOverlap.SKIP)
        : overlapOf(flags.scheduleOverlap),
  };
  try {
    cronSchedule(schedule);
  } catch (err: unknown) {
    if (!isShoalError(err) || !(err instanceof InvalidArgumentError)) throw err;
    const flag = err.field === "spec.schedule.timezone" ? "--schedule-timezone" : "--schedule";
    throw new InvalidArgumentError(err.message.replace(/^spec\.schedule\.\w+: /, ""), { field: flag });
  }
  return schedule;
}

function overlapOf(value: string): ScheduleOverlap {
  const overlap = OVERLAPS[value];
  if (overlap === undefined) {
    throw new InvalidArgumentError(`"${value}" is not skip, allow or replace`, { field: "--schedule-overlap" });
  }
  return overlap;
}

/** Checks the flags that do not depend on the service (expression, zone, overlap), before it is read. */
export function checkScheduleFlags(flags: ScheduleFlags): void {
  const anyJob: Pick<ServiceSpec, "mode"> = { mode: { $case: "globalJob", value: {} } };
  applyScheduleFlags(anyJob, { cron: "* * * * *", timezone: "", overlap: ScheduleOverlap.SKIP }, flags);
}
