import { describe, expect, it } from "vitest";
import { CronSchedule, InvalidArgumentError, cronSchedule } from "@shoal/shared";

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof InvalidArgumentError) return err.field;
    throw err;
  }
  return undefined;
}

describe("CronSchedule", () => {
  it("finds the latest tick at or before a time, and the next one after it", () => {
    const s = cronSchedule({ cron: "*/5 * * * *", timezone: "" });
    expect(s.timezone).toBe("UTC");
    expect(iso(s.latestAtOrBefore(at("2026-01-01T00:09:59.999Z")))).toBe("2026-01-01T00:05:00.000Z");
    expect(iso(s.latestAtOrBefore(at("2026-01-01T00:10:00.000Z")))).toBe("2026-01-01T00:10:00.000Z");
    expect(iso(s.nextAfter(at("2026-01-01T00:10:00.000Z")))).toBe("2026-01-01T00:15:00.000Z");
    expect(iso(s.nextAfter(at("2026-01-01T00:09:59.000Z")))).toBe("2026-01-01T00:10:00.000Z");
  });

  it("reads the fields in the schedule's time zone", () => {
    const s = new CronSchedule("0 9 * * MON-FRI", "America/New_York");
    // Friday 2 January 2026, 09:00 in New York is 14:00 UTC (EST); the next is Monday the 5th.
    expect(iso(s.nextAfter(at("2026-01-02T00:00:00Z")))).toBe("2026-01-02T14:00:00.000Z");
    expect(iso(s.nextAfter(at("2026-01-02T14:00:00Z")))).toBe("2026-01-05T14:00:00.000Z");
    // In July, EDT: 13:00 UTC.
    expect(iso(s.nextAfter(at("2026-07-01T00:00:00Z")))).toBe("2026-07-01T13:00:00.000Z");
  });

  it("follows Vixie cron at DST changes: a fixed time in the gap runs after it, a repeated one once", () => {
    const s = new CronSchedule("30 2 * * *", "Europe/Paris");
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and runs at 03:00 CEST.
    expect([s.nextAfter(at("2026-03-28T12:00:00Z")), s.nextAfter(at("2026-03-29T00:00:00Z"))].map(iso)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-29T01:00:00.000Z",
    ]);
    // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 comes twice and runs once.
    const first = s.nextAfter(at("2026-10-24T12:00:00Z"))!;
    expect(iso(first)).toBe("2026-10-25T00:30:00.000Z");
    expect(iso(s.nextAfter(first))).toBe("2026-10-26T01:30:00.000Z");
  });

  it("runs an interval job in both passes of a repeated hour", () => {
    const s = new CronSchedule("*/30 2 * * *", "Europe/Paris");
    const ticks: string[] = [];
    let t = at("2026-10-24T12:00:00Z");
    for (let i = 0; i < 4; i++) ticks.push(iso((t = s.nextAfter(t)!))!);
    expect(ticks).toEqual([
      "2026-10-25T00:00:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T01:30:00.000Z",
    ]);
    expect(iso(s.latestAtOrBefore(at("2026-10-25T01:10:00Z")))).toBe("2026-10-25T01:00:00.000Z");
  });

  it("accepts names and nicknames", () => {
    expect(iso(new CronSchedule("@hourly").nextAfter(at("2026-01-01T00:00:00Z")))).toBe("2026-01-01T01:00:00.000Z");
    expect(iso(new CronSchedule("0 0 1 JAN *").nextAfter(at("2026-05-01T00:00:00Z")))).toBe("2027-01-01T00:00:00.000Z");
  });

  it("refuses bad expressions and unknown zones, naming the field", () => {
    for (const cron of ["", "* * * *", "0 0 * * * *", "61 * * * *", "every minute", "0 0 30 2 *"]) {
      expect(
        fieldOf(() => cronSchedule({ cron, timezone: "" })),
        cron,
      ).toBe("spec.schedule.cron");
    }
    expect(fieldOf(() => cronSchedule({ cron: "* * * * *", timezone: "Mars/Olympus" }))).toBe("spec.schedule.timezone");
    expect(() => cronSchedule({ cron: "61 * * * *", timezone: "" })).toThrow(
      /spec\.schedule\.cron: "61 \* \* \* \*" is not a valid cron expression: .*minute/,
    );
  });
});
