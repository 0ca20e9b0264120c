import { describe, expect, it } from "vitest";
import { Service, UpdateFailureAction, UpdateOrder, UpdateState, durationFromMs } from "@shoal/shared";
import { prettyService } from "../../src/output/service-pretty.js";

describe("service inspect --pretty", () => {
  it("shows the update status and both configs", () => {
    const service = Service.fromPartial({
      id: "abc",
      spec: {
        annotations: { name: "web" },
        mode: { $case: "replicated", value: { replicas: 6 } },
        taskTemplate: { container: { image: "app:2", args: ["sleep", "60"] } },
        updateConfig: {
          parallelism: 2,
          delay: durationFromMs(1500),
          failureAction: UpdateFailureAction.ROLLBACK,
          monitor: durationFromMs(1000),
          maxFailureRatio: 0.5,
          order: UpdateOrder.START_FIRST,
        },
      },
      updateStatus: {
        state: UpdateState.PAUSED,
        startedAt: new Date(10_000),
        message: "update paused due to failure or early termination of task t1",
      },
    });
    const text = prettyService(service, 40_000);
    expect(text).toContain("Name:\t\tweb\n");
    expect(text).toContain(" Replicas:\t6\n");
    expect(text).toContain(
      "UpdateStatus:\n State:\t\tpaused\n Started:\t30 seconds ago\n Message:\tupdate paused due to failure or early termination of task t1\n",
    );
    expect(text).toContain(
      "UpdateConfig:\n Parallelism:\t2\n Delay:\t\t1.5s\n On failure:\trollback\n Monitoring Period: 1s\n Max failure ratio: 0.5\n Update order:      start-first\n",
    );
    // An unset config is shown with Swarm's defaults.
    expect(text).toContain(
      "RollbackConfig:\n Parallelism:\t1\n On failure:\tpause\n Monitoring Period: 5s\n Max failure ratio: 0\n Update order:      stop-first\n",
    );
    expect(text).toContain(" Image:\t\tapp:2\n Args:\t\tsleep 60\n");
  });

  it("has no UpdateStatus section before the first update", () => {
    expect(prettyService(Service.fromPartial({ id: "abc" }))).not.toContain("UpdateStatus");
  });
});
