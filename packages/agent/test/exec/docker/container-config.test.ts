import { PortProtocol, PublishMode, TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { ExecError } from "@shoal/agent";
import { containerConfig, stopGraceMs } from "../../../src/exec/docker/container-config.js";
import { makeTask } from "../task-fixture.js";

describe("containerConfig", () => {
  it("names the container <service>.<slot>.<task id> and labels it with the task's ids", () => {
    const task = makeTask({ id: "t1", serviceId: "s1", slot: 3, nodeId: "n1", serviceAnnotations: { name: "web" } });
    const config = containerConfig(task);
    expect(config.name).toBe("web.3.t1");
    expect(config.Labels).toEqual({
      "com.shoal.task.id": "t1",
      "com.shoal.service.id": "s1",
      "com.shoal.service.name": "web",
      "com.shoal.node.id": "n1",
      "com.shoal.slot": "3",
    });
  });

  it("puts the node id in place of the slot for a global task", () => {
    const task = makeTask({ id: "t2", slot: 0, nodeId: "node9", serviceAnnotations: { name: "agent" } });
    expect(containerConfig(task).name).toBe("agent.node9.t2");
  });

  it("maps command to Entrypoint, args to Cmd, and keeps env, dir, user and the spec's labels", () => {
    const task = makeTask({
      spec: {
        container: {
          image: "shoal-base:1",
          command: ["/bin/sh", "-c"],
          args: ["echo $GREETING"],
          env: ["GREETING=hello", "EMPTY="],
          dir: "/tmp",
          user: "1000:1000",
          labels: { team: "blue", "com.shoal.task.id": "forged" },
        },
      },
    });
    const config = containerConfig(task);
    expect(config.Image).toBe("shoal-base:1");
    expect(config.Entrypoint).toEqual(["/bin/sh", "-c"]);
    expect(config.Cmd).toEqual(["echo $GREETING"]);
    expect(config.Env).toEqual(["GREETING=hello", "EMPTY="]);
    expect(config.WorkingDir).toBe("/tmp");
    expect(config.User).toBe("1000:1000");
    expect(config.Labels?.["team"]).toBe("blue");
    expect(config.Labels?.["com.shoal.task.id"]).toBe(task.id); // the agent's labels win
  });

  it("keeps the image's entrypoint and cmd when the spec has none", () => {
    const task = makeTask({ spec: { container: { image: "shoal-base:1" } } });
    const config = containerConfig(task);
    expect(config.Entrypoint).toBeUndefined();
    expect(config.Cmd).toBeUndefined();
    expect(config.Healthcheck).toBeUndefined();
  });

  it("sets limits, restart policy 'no', the stop signal and grace period", () => {
    const task = makeTask({
      spec: {
        container: { image: "x", stopSignal: "SIGINT", stopGracePeriod: { seconds: 2, nanos: 500_000_000 } },
        resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 8 * 2 ** 20 }, reservations: { memoryBytes: 1 } },
      },
    });
    const config = containerConfig(task);
    expect(config.HostConfig).toEqual({ RestartPolicy: { Name: "no" }, NanoCpus: 500_000_000, Memory: 8 * 2 ** 20 });
    expect(config.StopSignal).toBe("SIGINT");
    expect(config.StopTimeout).toBe(3); // whole seconds, rounded up
    expect(stopGraceMs(task)).toBe(2500);
  });

  it("defaults the grace period to 10 s and sets no limits when there are none", () => {
    const task = makeTask();
    const config = containerConfig(task);
    expect(config.StopTimeout).toBe(10);
    expect(config.HostConfig).toEqual({ RestartPolicy: { Name: "no" } });
    expect(config.StopSignal).toBeUndefined();
  });

  it("converts the health check's durations to nanoseconds", () => {
    const task = makeTask({
      spec: {
        container: {
          image: "x",
          healthcheck: {
            test: ["CMD-SHELL", "true"],
            interval: { seconds: 0, nanos: 200_000_000 },
            timeout: { seconds: 1, nanos: 0 },
            startPeriod: { seconds: 5, nanos: 0 },
            retries: 2,
          },
        },
      },
    });
    expect(containerConfig(task).Healthcheck).toEqual({
      Test: ["CMD-SHELL", "true"],
      Interval: 200_000_000,
      Timeout: 1_000_000_000,
      StartPeriod: 5_000_000_000,
      Retries: 2,
    });
  });

  it("leaves unset health check fields to Docker's defaults", () => {
    const task = makeTask({ spec: { container: { image: "x", healthcheck: { test: ["NONE"] } } } });
    expect(containerConfig(task).Healthcheck).toEqual({ Test: ["NONE"] });
  });

  it("publishes host-mode ports only, a zero published port as a random one", () => {
    const task = makeTask();
    const config = containerConfig(task, [
      { name: "http", protocol: PortProtocol.TCP, targetPort: 80, publishedPort: 8080, publishMode: PublishMode.HOST },
      { name: "dns", protocol: PortProtocol.UDP, targetPort: 53, publishedPort: 0, publishMode: PublishMode.HOST },
      { name: "lb", protocol: PortProtocol.TCP, targetPort: 443, publishedPort: 443, publishMode: PublishMode.INGRESS },
    ]);
    expect(config.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {} });
    expect(config.HostConfig?.PortBindings).toEqual({
      "80/tcp": [{ HostPort: "8080" }],
      "53/udp": [{ HostPort: "" }],
    });
  });

  it("refuses a task without a container spec or image, as a fatal error", () => {
    const noSpec = makeTask({ spec: { container: undefined }, desiredState: TaskState.RUNNING });
    expect(() => containerConfig(noSpec)).toThrow(/no container spec/);
    const noImage = makeTask({ spec: { container: { image: "" } } });
    try {
      containerConfig(noImage);
      expect.unreachable();
    } catch (err: unknown) {
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).temporary).toBe(false);
      expect((err as ExecError).reason).toBe("invalid-spec");
    }
  });
});
