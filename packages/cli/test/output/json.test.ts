import { describe, expect, it } from "vitest";
import { Service, UpdateState } from "@shoal/shared";
import { serviceJson, updateStateName } from "../../src/output/json.js";

describe("service JSON", () => {
  it("names update states as Swarm does", () => {
    expect(updateStateName(UpdateState.UPDATING)).toBe("updating");
    expect(updateStateName(UpdateState.ROLLBACK_COMPLETED)).toBe("rollback_completed");
    expect(updateStateName(UpdateState.UNKNOWN)).toBe("");
    expect(updateStateName(undefined)).toBe("");
  });

  it("gives the update status, or null before the first update", () => {
    const service = Service.fromPartial({
      id: "s",
      updateStatus: { state: UpdateState.PAUSED, startedAt: new Date(0), message: "paused" },
    });
    expect(serviceJson(service, []).updateStatus).toEqual({
      state: "paused",
      message: "paused",
      startedAt: "1970-01-01T00:00:00.000Z",
      completedAt: "",
    });
    expect(serviceJson(Service.fromPartial({ id: "s" }), []).updateStatus).toBeNull();
  });
});
