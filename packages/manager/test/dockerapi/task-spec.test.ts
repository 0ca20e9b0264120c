import { RestartCondition, ServiceSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import type { DockerContainerSpec, DockerTaskSpec } from "../../src/dockerapi/docker-types.js";
import { fromDockerTaskSpec, toDockerTaskSpec } from "../../src/dockerapi/task-spec.js";

const template: DockerTaskSpec = {
  ContainerSpec: {
    Image: "x:1",
    Command: ["/bin/app"],
    Dir: "/srv",
    User: "app",
    StopSignal: "SIGINT",
    StopGracePeriod: 3_000_000_000,
    Healthcheck: { Test: ["CMD", "true"], Timeout: 2_000_000_000, Retries: 3 },
  },
  RestartPolicy: { Condition: "none", MaxAttempts: 0, Window: 60_000_000_000 },
  Placement: { MaxReplicas: 2 },
  ForceUpdate: 4,
};

const taskTemplate = (t: DockerTaskSpec): ServiceSpec["taskTemplate"] =>
  ServiceSpec.fromPartial({ taskTemplate: fromDockerTaskSpec(t) }).taskTemplate;

describe("task spec", () => {
  it("reads a TaskTemplate and gives the same one back", () => {
    const t = taskTemplate(template);
    expect(t?.container?.stopGracePeriod).toEqual({ seconds: 3, nanos: 0 });
    expect(t?.restartPolicy?.condition).toBe(RestartCondition.NONE);
    expect(t?.placement?.maxReplicasPerNode).toBe(2);
    expect(t?.forceUpdate).toBe(4);
    expect(toDockerTaskSpec(t)).toEqual(template);
  });

  it("fills Swarm's defaults with insertDefaults, and merges the unmapped fields under", () => {
    const t = taskTemplate({ ContainerSpec: { Image: "x:1" } });
    expect(toDockerTaskSpec(t)).toEqual({ ContainerSpec: { Image: "x:1" }, ForceUpdate: 0 });
    const filled = toDockerTaskSpec(t, {
      insertDefaults: true,
      unmapped: { TaskTemplate: { ContainerSpec: { Image: "ignored", Init: true }, Networks: [] } },
    });
    expect(filled).toEqual({
      ContainerSpec: { Image: "x:1", StopGracePeriod: 10_000_000_000, Init: true },
      Resources: { Limits: {}, Reservations: {} },
      RestartPolicy: { Condition: "any", Delay: 5_000_000_000, MaxAttempts: 0 },
      ForceUpdate: 0,
      Networks: [],
    });
  });

  it("gives healthchecks back as Docker stores them: disabled, emptied or absent", () => {
    const shown = (h: DockerContainerSpec): unknown =>
      toDockerTaskSpec(taskTemplate({ ContainerSpec: h })).ContainerSpec?.Healthcheck;
    // `docker service update --no-healthcheck` sends Test ["NONE"]; Docker keeps it as sent.
    expect(shown({ Image: "x:1", Healthcheck: { Test: ["NONE"] } })).toEqual({ Test: ["NONE"] });
    // `--health-cmd ""` (Test nil) or an empty Test: Docker gives back {}, never {"Test": []}.
    expect(shown({ Image: "x:1", Healthcheck: {} })).toEqual({});
    expect(shown({ Image: "x:1", Healthcheck: { Test: [], Interval: 1_000_000_000 } })).toEqual({
      Interval: 1_000_000_000,
    });
    expect(shown({ Image: "x:1", Healthcheck: null })).toBeUndefined();
    expect(shown({ Image: "x:1" })).toBeUndefined();
  });

  it("keeps any spread descriptor and drops a preference without Spread, as Docker's daemon", () => {
    const t = taskTemplate({
      ContainerSpec: { Image: "x:1" },
      Placement: {
        Preferences: [{ Spread: { SpreadDescriptor: "com.example.label" } }, {}, { Spread: null }, null],
      },
    });
    expect(toDockerTaskSpec(t).Placement).toEqual({
      Preferences: [{ Spread: { SpreadDescriptor: "com.example.label" } }],
    });
  });

  it("refuses bad values, naming the field", () => {
    expect(() => fromDockerTaskSpec({ ContainerSpec: { Healthcheck: { Retries: -2 } } })).toThrow(
      "TaskTemplate.ContainerSpec.Healthcheck.Retries: must be a whole number of at least 0, not -2",
    );
    expect(() => fromDockerTaskSpec({ Resources: { Limits: { MemoryBytes: 0.5 } } })).toThrow(
      "TaskTemplate.Resources.Limits.MemoryBytes",
    );
  });
});
