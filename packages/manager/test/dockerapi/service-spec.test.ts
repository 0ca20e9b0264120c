import { describe, expect, it } from "vitest";
import { PublishMode, RestartCondition, UpdateFailureAction, UpdateOrder } from "@shoal/shared";
import { decodeShape } from "../../src/dockerapi/json-shape.js";
import { SERVICE_SPEC_SHAPE, type DockerServiceSpec } from "../../src/dockerapi/docker-types.js";
import { UNMAPPED_LABEL, fromDockerServiceSpec, toDockerServiceSpec } from "../../src/dockerapi/service-spec.js";

// As the docker CLI 28.2.2 sends it for `docker service create --name web --replicas 2 ...` (trace svccreate).
const created: DockerServiceSpec = {
  Name: "web",
  Labels: { team: "x" },
  TaskTemplate: {
    ContainerSpec: {
      Image: "local/busybox:1",
      Labels: { cl: "1" },
      Args: ["sleep", "3600"],
      Env: ["FOO=bar", "A=b"],
      Init: false,
      Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 1_000_000_000 },
      DNSConfig: {},
    },
    Resources: {
      Limits: { NanoCPUs: 500_000_000, MemoryBytes: 67_108_864 },
      Reservations: { NanoCPUs: 100_000_000, MemoryBytes: 16_777_216 },
    },
    RestartPolicy: { Condition: "on-failure", Delay: 5_000_000_000, MaxAttempts: 0 },
    Placement: {
      Constraints: ["node.role==manager"],
      Preferences: [{ Spread: { SpreadDescriptor: "node.labels.zone" } }],
    },
    Networks: [{ Target: "stk_backend", Aliases: ["web"] }],
    ForceUpdate: 0,
  },
  Mode: { Replicated: { Replicas: 2 } },
  UpdateConfig: {
    Parallelism: 1,
    Delay: 2_000_000_000,
    FailureAction: "rollback",
    Monitor: 5_000_000_000,
    MaxFailureRatio: 0,
    Order: "start-first",
  },
  EndpointSpec: {
    Mode: "vip",
    Ports: [{ Protocol: "tcp", TargetPort: 80, PublishedPort: 8088, PublishMode: "host" }],
  },
};

describe("Docker ServiceSpec -> Shoal", () => {
  it("maps every field the CLI's create flags set", () => {
    expect(decodeShape(created, SERVICE_SPEC_SHAPE)).toEqual(created);
    const spec = fromDockerServiceSpec(created);
    expect(spec.annotations?.name).toBe("web");
    expect(spec.annotations?.labels["team"]).toBe("x");
    const c = spec.taskTemplate!.container!;
    expect(c.image).toBe("local/busybox:1");
    expect(c.args).toEqual(["sleep", "3600"]);
    expect(c.env).toEqual(["FOO=bar", "A=b"]);
    expect(c.labels).toEqual({ cl: "1" });
    expect(c.healthcheck?.test).toEqual(["CMD-SHELL", "true"]);
    expect(c.healthcheck?.interval).toEqual({ seconds: 1, nanos: 0 });
    expect(spec.taskTemplate?.resources?.limits).toEqual({
      nanoCpus: 500_000_000,
      memoryBytes: 67_108_864,
      pids: 0,
      generic: [],
    });
    expect(spec.taskTemplate?.restartPolicy?.condition).toBe(RestartCondition.ON_FAILURE);
    expect(spec.taskTemplate?.placement?.constraints).toEqual(["node.role==manager"]);
    expect(spec.taskTemplate?.placement?.preferences[0]?.preference?.value.spreadDescriptor).toBe("node.labels.zone");
    expect(spec.mode).toEqual({ $case: "replicated", value: { replicas: 2 } });
    expect(spec.updateConfig?.failureAction).toBe(UpdateFailureAction.ROLLBACK);
    expect(spec.updateConfig?.order).toBe(UpdateOrder.START_FIRST);
    expect(spec.updateConfig?.delay).toEqual({ seconds: 2, nanos: 0 });
    expect(spec.endpoint?.ports[0]).toMatchObject({
      targetPort: 80,
      publishedPort: 8088,
      publishMode: PublishMode.HOST,
    });
  });

  it("defaults a replicated service without a count to one replica, and reads global mode", () => {
    expect(fromDockerServiceSpec({ Name: "a", Mode: { Replicated: {} } }).mode).toEqual({
      $case: "replicated",
      value: { replicas: 1 },
    });
    expect(fromDockerServiceSpec({ Name: "a", Mode: { Global: {} } }).mode?.$case).toBe("global");
  });

  it("refuses values Shoal cannot honour, naming the field", () => {
    expect(() => fromDockerServiceSpec({ TaskTemplate: { RestartPolicy: { Condition: "sometimes" } } })).toThrow(
      'TaskTemplate.RestartPolicy.Condition: "sometimes" is not one of any, on-failure, none',
    );
    expect(() => fromDockerServiceSpec({ Mode: { Replicated: { Replicas: -1 } } })).toThrow(
      "Mode.Replicated.Replicas: must be a whole number of at least 0, not -1",
    );
    expect(() =>
      fromDockerServiceSpec({ TaskTemplate: { ContainerSpec: { Mounts: [{ Type: "npipe", Target: "/x" }] } } }),
    ).toThrow('TaskTemplate.ContainerSpec.Mounts[0].Type: mount type "npipe" is not supported by Shoal');
    expect(() => fromDockerServiceSpec({ Mode: { Global: {}, GlobalJob: {} } })).toThrow(
      "Mode: only one mode may be set, not Global and GlobalJob",
    );
  });

  it("takes jobs as the docker CLI sends them, and gives them back with Docker's defaults", () => {
    // docker service create --mode replicated-job --replicas 10 --max-concurrent 3
    const job = fromDockerServiceSpec({
      Name: "j",
      Mode: { ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 10 } },
    });
    expect(job.mode).toEqual({ $case: "replicatedJob", value: { maxConcurrent: 3, totalCompletions: 10 } });
    expect(toDockerServiceSpec(job).Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 10 } });
    // --mode replicated-job alone: both unset, one task, as Docker.
    const one = fromDockerServiceSpec({ Name: "j", Mode: { ReplicatedJob: { MaxConcurrent: null } } });
    expect(one.mode).toEqual({ $case: "replicatedJob", value: { maxConcurrent: 0, totalCompletions: 0 } });
    expect(toDockerServiceSpec(one).Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    const global = fromDockerServiceSpec({ Name: "g", Mode: { GlobalJob: {} } });
    expect(global.mode).toEqual({ $case: "globalJob", value: {} });
    // No update config inserted for a job: the CLI would send it back, and a job refuses one.
    const filled = toDockerServiceSpec(global, { insertDefaults: true });
    expect(filled.Mode).toEqual({ GlobalJob: {} });
    expect(filled.UpdateConfig).toBeUndefined();
    expect(filled.RollbackConfig).toBeUndefined();
  });
});

describe("Shoal ServiceSpec -> Docker", () => {
  it("gives back what was created, fields Shoal does not model included", () => {
    const spec = fromDockerServiceSpec(created);
    // Networks and the endpoint mode are modelled now: nothing is kept aside.
    expect(spec.annotations?.labels[UNMAPPED_LABEL]).toBeUndefined();
    expect(spec.taskTemplate?.networks).toEqual([{ target: "stk_backend", aliases: ["web"] }]);
    const back = toDockerServiceSpec(spec);
    expect(back.Labels).toEqual({ team: "x" });
    expect(back.TaskTemplate?.Networks).toEqual([{ Target: "stk_backend", Aliases: ["web"] }]);
    expect(back.TaskTemplate?.ContainerSpec?.Init).toBe(false);
    expect(back.EndpointSpec?.Mode).toBe("vip");
    expect(back.TaskTemplate?.ContainerSpec).toEqual(created.TaskTemplate?.ContainerSpec);
    expect(back.TaskTemplate?.Resources).toEqual(created.TaskTemplate?.Resources);
    expect(back.TaskTemplate?.Placement).toEqual(created.TaskTemplate?.Placement);
    expect(back.TaskTemplate?.RestartPolicy).toEqual(created.TaskTemplate?.RestartPolicy);
    expect(back.UpdateConfig).toEqual(created.UpdateConfig);
    expect(back.Mode).toEqual(created.Mode);
    // A round trip changes nothing.
    expect(fromDockerServiceSpec(back)).toEqual(spec);
  });

  it("fills Swarm's defaults with insertDefaults, and only then", () => {
    const spec = fromDockerServiceSpec({ Name: "a", TaskTemplate: { ContainerSpec: { Image: "x:1" } } });
    const plain = toDockerServiceSpec(spec);
    expect(plain.RollbackConfig).toBeUndefined();
    expect(plain.TaskTemplate?.ContainerSpec?.StopGracePeriod).toBeUndefined();
    const filled = toDockerServiceSpec(spec, { insertDefaults: true });
    expect(filled.TaskTemplate?.ContainerSpec?.StopGracePeriod).toBe(10_000_000_000);
    expect(filled.RollbackConfig).toEqual({
      Parallelism: 1,
      FailureAction: "pause",
      Monitor: 5_000_000_000,
      MaxFailureRatio: 0,
      Order: "stop-first",
    });
    expect(filled.TaskTemplate?.RestartPolicy).toEqual({ Condition: "any", Delay: 5_000_000_000, MaxAttempts: 0 });
  });
});
