import { NodeAvailability } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { AvailabilityFilter } from "../../../src/scheduler/filters/availability.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { makeNode, makeTask } from "../fixtures.js";

describe("AvailabilityFilter", () => {
  const f = new AvailabilityFilter();

  it("takes ACTIVE nodes only: pause and drain get no new tasks", () => {
    expect(f.setTask(makeTask("s", 1))).toBe(true);
    expect(f.check(new NodeInfo("a", makeNode("a")))).toBe(true);
    expect(f.check(new NodeInfo("a", makeNode("a", { availability: NodeAvailability.PAUSE })))).toBe(false);
    expect(f.check(new NodeInfo("a", makeNode("a", { availability: NodeAvailability.DRAIN })))).toBe(false);
  });

  it("explains", () => {
    expect(f.explain(2)).toBe("node paused or drained on 2 nodes");
  });
});
