import { describe, expect, it } from "vitest";
import { ScheduleOverlap, ServiceSpec } from "@shoal/shared";
import { buildServiceSpec, type CreateFlags } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags, type UpdateFlags } from "../../src/commands/service-update-spec.js";
import { createFlags, updateFlags } from "./service-flags.js";

const create = (more: Partial<CreateFlags> = {}): CreateFlags =>
  createFlags({ name: "backup", mode: "replicated-job", ...more });

const update = updateFlags;

describe("schedule flags", () => {
  it("make a scheduled job on create: UTC and skip by default", () => {
    const spec = buildServiceSpec("busybox", [], create({ schedule: "*/5 * * * *" }));
    expect(spec.schedule).toEqual({ cron: "*/5 * * * *", timezone: "", overlap: ScheduleOverlap.SKIP });
    const paris = buildServiceSpec(
      "busybox",
      [],
      create({
        mode: "global-job",
        schedule: "0 3 * * *",
        scheduleTimezone: "Europe/Paris",
        scheduleOverlap: "replace",
      }),
    );
    expect(paris.schedule).toEqual({ cron: "0 3 * * *", timezone: "Europe/Paris", overlap: ScheduleOverlap.REPLACE });
    expect(buildServiceSpec("busybox", [], create()).schedule).toBeUndefined();
  });

  it("refuse what is wrong, naming the flag", () => {
    const build = (more: Partial<CreateFlags>) => () => buildServiceSpec("busybox", [], create(more));
    expect(build({ mode: "replicated", schedule: "* * * * *" })).toThrow(
      "--schedule: a schedule is only for jobs (--mode replicated-job or global-job)",
    );
    expect(build({ schedule: "* * * *" })).toThrow(/^--schedule: "\* \* \* \*" is not a five-field cron expression/);
    expect(build({ schedule: "0 24 * * *" })).toThrow(/^--schedule: "0 24 \* \* \*" is not a valid cron expression/);
    expect(build({ schedule: "* * * * *", scheduleTimezone: "Paris" })).toThrow(
      /^--schedule-timezone: "Paris" is not a known IANA time zone/,
    );
    expect(build({ schedule: "* * * * *", scheduleOverlap: "queue" })).toThrow(
      '--schedule-overlap: "queue" is not skip, allow or replace',
    );
    expect(build({ scheduleOverlap: "allow" })).toThrow("--schedule-overlap: needs a schedule (--schedule)");
  });

  it("edit the schedule on update, keep it when not mentioned, and remove it with --schedule-rm", () => {
    const current = ServiceSpec.fromPartial({
      annotations: { name: "backup" },
      mode: { $case: "replicatedJob", value: { totalCompletions: 1, maxConcurrent: 1 } },
      taskTemplate: { container: { image: "busybox" } },
      schedule: { cron: "0 3 * * *", timezone: "Europe/Paris", overlap: ScheduleOverlap.ALLOW },
    });
    const edit = (more: Partial<UpdateFlags>): ServiceSpec => applySpecEdit(current, parseUpdateFlags(update(more)));
    expect(edit({ image: "busybox:2" }).schedule).toEqual(current.schedule);
    expect(edit({ schedule: "30 4 * * *" }).schedule).toEqual({ ...current.schedule, cron: "30 4 * * *" });
    expect(edit({ scheduleOverlap: "skip" }).schedule).toEqual({ ...current.schedule, overlap: ScheduleOverlap.SKIP });
    expect(edit({ scheduleRm: true }).schedule).toBeUndefined();
    // Checked before the service is read.
    expect(() => parseUpdateFlags(update({ scheduleTimezone: "Nowhere/City" }))).toThrow(/^--schedule-timezone:/);
    expect(() => parseUpdateFlags(update({ scheduleRm: true, schedule: "* * * * *" }))).toThrow(
      "--schedule-rm: cannot be used with the other schedule flags",
    );
    const replicated = ServiceSpec.fromPartial({
      ...current,
      mode: { $case: "replicated", value: { replicas: 1 } },
      schedule: undefined,
    });
    expect(() => applySpecEdit(replicated, parseUpdateFlags(update({ schedule: "* * * * *" })))).toThrow(
      /^--schedule: a schedule is only for jobs/,
    );
  });
});
