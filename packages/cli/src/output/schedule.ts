// Scheduled jobs on the command line: the schedule with its next tick for `service inspect`, a
// short form for `service ls`, and the same as JSON. The next tick is computed here from the
// schedule (as the leader's job cron does), the rest is read from the job status.
import { cronSchedule, JobRunOutcome, type Service } from "@shoal/shared";
import { overlapName } from "../commands/schedule-flags.js";

export interface ScheduleView {
  cron: string;
  timezone: string;
  overlap: string;
  /** RFC 3339; "" when the schedule has no next tick (or does not parse). */
  nextTick: string;
  /** RFC 3339; "" before the first tick. */
  lastTick: string;
  skippedTicks: number;
  lastSkippedTick: string;
}

/** The schedule of a scheduled job as of `now`; undefined for a service without one. */
export function scheduleView(service: Service, now: number): ScheduleView | undefined {
  const s = service.spec?.schedule;
  if (s === undefined) return undefined;
  let next: number | undefined;
  try {
    next = cronSchedule(s).nextAfter(now);
  } catch {
    next = undefined;
  }
  const status = service.jobStatus;
  const iso = (d: Date | undefined): string => d?.toISOString() ?? "";
  return {
    cron: s.cron,
    timezone: s.timezone === "" ? "UTC" : s.timezone,
    overlap: overlapName(s.overlap),
    nextTick: next === undefined ? "" : new Date(next).toISOString(),
    // The creation stands for the last tick until the first one: not a tick, not shown.
    lastTick: (status?.runs.length ?? 0) > 0 || (status?.skippedTicks ?? 0) > 0 ? iso(status?.lastTick) : "",
    skippedTicks: status?.skippedTicks ?? 0,
    lastSkippedTick: iso(status?.lastSkippedTick),
  };
}

/** "in 3 minutes", "in 2 hours", "in 4 days". */
export function inTime(at: string, now: number): string {
  const s = Math.max(0, Math.round((Date.parse(at) - now) / 1000));
  if (s < 60) return `in ${s} seconds`;
  if (s < 3600) return `in ${Math.round(s / 60)} minutes`;
  if (s < 48 * 3600) return `in ${Math.round(s / 3600)} hours`;
  return `in ${Math.round(s / 86400)} days`;
}

/** `service inspect --pretty`: the schedule, its next and last ticks, the skips. */
export function scheduleLines(service: Service, now: number): string[] {
  const v = scheduleView(service, now);
  if (v === undefined) return [];
  const lines = [
    "Schedule:",
    ` Cron:\t\t${v.cron}`,
    ` Time zone:\t${v.timezone}`,
    ` Overlap:\t${v.overlap}`,
    ` Next tick:\t${v.nextTick === "" ? "none" : `${v.nextTick} (${inTime(v.nextTick, now)})`}`,
  ];
  if (v.lastTick !== "") lines.push(` Last tick:\t${v.lastTick}`);
  if (v.skippedTicks > 0) lines.push(` Skipped ticks:\t${v.skippedTicks} (last ${v.lastSkippedTick})`);
  return lines;
}

/** `service ls`: "*\/5 * * * * UTC, next in 3 minutes, last succeeded"; "" without a schedule. */
export function scheduleSummary(service: Service, now: number): string {
  const v = scheduleView(service, now);
  if (v === undefined) return "";
  const parts = [`${v.cron} ${v.timezone}`, v.nextTick === "" ? "no next tick" : `next ${inTime(v.nextTick, now)}`];
  const last = service.jobStatus?.runs.at(-1);
  if (last !== undefined) parts.push(`last ${(JobRunOutcome[last.outcome] ?? "").toLowerCase()}`);
  return parts.join(", ");
}
