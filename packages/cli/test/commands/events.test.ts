import { describe, expect, it } from "vitest";
import { EventAction, EventType, InvalidArgumentError } from "@shoal/shared";
import { formatEvent, parseEventFilters, parseSince } from "../../src/commands/events.js";

describe("shoal events flags", () => {
  const now = Date.parse("2026-11-29T12:00:00Z");

  it("reads --since as a duration back, a Unix time or a date", () => {
    expect(parseSince("10m", now).toISOString()).toBe("2026-11-29T11:50:00.000Z");
    expect(parseSince("1.5h", now).toISOString()).toBe("2026-11-29T10:30:00.000Z");
    expect(parseSince("1800000000", now).getTime()).toBe(1_800_000_000_000);
    expect(parseSince("2026-11-29T11:00:00Z", now).toISOString()).toBe("2026-11-29T11:00:00.000Z");
    expect(() => parseSince("yesterday", now)).toThrow(InvalidArgumentError);
  });

  it("reads --filter type=... and refuses anything else", () => {
    expect(parseEventFilters([])).toEqual([]);
    expect(parseEventFilters(["type=task", "type=node", "type=task"])).toEqual([EventType.TASK, EventType.NODE]);
    expect(parseEventFilters(["type=exec"])).toEqual([EventType.EXEC]);
    expect(() => parseEventFilters(["type=volume"])).toThrow(
      /type=service, task, node, secret, config, network or exec/,
    );
    expect(() => parseEventFilters(["name=web"])).toThrow(InvalidArgumentError);
  });

  it("prints one line per event with its changes and attributes", () => {
    const line = formatEvent({
      type: EventType.TASK,
      action: EventAction.UPDATE,
      id: "t1",
      name: "web.1",
      time: new Date("2026-11-29T12:00:00Z"),
      index: 42,
      changes: [{ field: "state", old: "pending", new: "assigned" }],
      attributes: { service_id: "s1", message: "scheduled on host-1" },
    });
    expect(line).toBe(
      '2026-11-29T12:00:00.000Z task update web.1 (t1) state=pending->assigned, message="scheduled on host-1", service_id=s1',
    );
  });

  it("prints an exec with who ran which command in which task", () => {
    const line = formatEvent({
      type: EventType.EXEC,
      action: EventAction.CREATE,
      id: "t1",
      name: "web.1",
      time: new Date("2026-11-29T12:00:00Z"),
      index: 43,
      changes: [],
      attributes: { operation: "exec", caller: "admin", cmd: "sh -c id", node_id: "n1" },
    });
    expect(line).toBe(
      '2026-11-29T12:00:00.000Z exec create web.1 (t1) caller=admin, cmd="sh -c id", node_id=n1, operation=exec',
    );
  });
});
