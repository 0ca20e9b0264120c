// /services create and update: bodies decoded as Docker decodes them, then sent to the Control API.
import { describe, expect, it } from "vitest";
import { RebalanceMode, ScheduleOverlap, Service, ServiceSpec, UpdateOrder } from "@shoal/shared";
import { REBALANCE_LABEL } from "../../src/dockerapi/rebalance-label.js";
import { fromDockerServiceSpec, toDockerServiceSpec } from "../../src/dockerapi/service-spec.js";
import { serviceHandlers } from "../../src/dockerapi/services.js";
import { UNMAPPED_LABEL } from "../../src/dockerapi/unmapped-fields.js";
import { dockerRequest, fakeDocker } from "./fake-docker-context.js";

// As docker-py (Debian's python3-docker) sends a service with ServiceMode('replicated', replicas=2)
// and RollbackConfig(order='start-first'): some field names in lower case.
const fromDockerPy = {
  Name: "web",
  Labels: { Team: "x" },
  TaskTemplate: {
    ContainerSpec: { Image: "x:1", dnsconfig: { Nameservers: ["8.8.8.8"] } },
    ForceUpdate: 0,
  },
  Mode: { replicated: { Replicas: 2 } },
  RollbackConfig: { Parallelism: 1, order: "start-first" },
};

describe("service create and update", () => {
  it("takes field names in any case, as Docker's daemon does (docker-py)", async () => {
    const docker = fakeDocker();
    const handlers = serviceHandlers(docker.ctx);
    expect(await handlers["create"]!(dockerRequest({ body: fromDockerPy }))).toEqual({
      status: 201,
      json: { ID: "svc0000000000000000000001" },
    });
    const [{ spec }] = docker.requests<{ spec: ServiceSpec }>("createService") as [{ spec: ServiceSpec }];
    expect(spec.mode).toEqual({ $case: "replicated", value: { replicas: 2 } });
    expect(spec.rollbackConfig?.order).toBe(UpdateOrder.START_FIRST);
    expect(spec.annotations?.labels["Team"]).toBe("x");
    // A known field in lower case is that field, not an unknown one kept aside.
    expect(spec.taskTemplate?.container?.dnsConfig?.nameservers).toEqual(["8.8.8.8"]);
    expect(spec.annotations!.labels[UNMAPPED_LABEL]).toBeUndefined();
  });

  it("decodes an update the same way, and still refuses a field that matches nothing", async () => {
    const docker = fakeDocker();
    const handlers = serviceHandlers(docker.ctx);
    const update = handlers["update"]!;
    await update(dockerRequest({ params: { id: "web" }, query: "version=7", body: fromDockerPy }));
    const [{ spec }] = docker.requests<{ spec: ServiceSpec }>("updateService") as [{ spec: ServiceSpec }];
    expect(spec.mode).toEqual({ $case: "replicated", value: { replicas: 2 } });
    const bad = { ...fromDockerPy, Mode: { replicatd: { Replicas: 2 } } };
    await expect(update(dockerRequest({ params: { id: "web" }, query: "version=7", body: bad }))).rejects.toThrow(
      "Mode.replicatd: unknown field",
    );
  });
});

describe("service update of a scheduled job", () => {
  it("keeps the schedule, which Docker's spec cannot carry", async () => {
    const docker = fakeDocker();
    const schedule = { cron: "*/5 * * * *", timezone: "Europe/Paris", overlap: ScheduleOverlap.REPLACE };
    docker.service.spec!.schedule = schedule;
    const handlers = serviceHandlers(docker.ctx);
    // As the docker CLI sends it back after `docker service update --image x:2`: no schedule.
    const body = { Name: "web", TaskTemplate: { ContainerSpec: { Image: "x:2" } }, Mode: { Replicated: {} } };
    await handlers["update"]!(dockerRequest({ params: { id: "web" }, query: "version=7", body }));
    const [{ spec }] = docker.requests<{ spec: ServiceSpec }>("updateService") as [{ spec: ServiceSpec }];
    expect(spec.schedule).toEqual(schedule);
    expect(spec.taskTemplate?.container?.image).toBe("x:2");
    // A rollback sends no spec: the previous one, schedule and all, is the Control API's.
    await handlers["update"]!(dockerRequest({ params: { id: "web" }, query: "version=8&rollback=previous", body }));
    expect(docker.requests<{ spec?: ServiceSpec }>("updateService")[1]!.spec).toBeUndefined();
  });
});

describe("service networks", () => {
  // As `docker stack deploy` sends it: the network by name.
  const body = {
    Name: "trcstk_web",
    TaskTemplate: {
      ContainerSpec: { Image: "local/busybox:1" },
      Networks: [{ Target: "trcstk_backend", Aliases: ["web"] }],
    },
    Mode: { Replicated: { Replicas: 2 } },
  };

  it("passes them to the Control API as given on create and update (it names them by id)", async () => {
    const docker = fakeDocker();
    const handlers = serviceHandlers(docker.ctx);
    await handlers["create"]!(dockerRequest({ body }));
    await handlers["update"]!(dockerRequest({ params: { id: "web" }, query: "version=7", body }));
    const specs = [
      ...docker.requests<{ spec: ServiceSpec }>("createService"),
      ...docker.requests<{ spec: ServiceSpec }>("updateService"),
    ].map((r) => r.spec);
    expect(specs.map((s) => s.taskTemplate?.networks)).toEqual([
      [{ target: "trcstk_backend", aliases: ["web"] }],
      [{ target: "trcstk_backend", aliases: ["web"] }],
    ]);
    expect(docker.calls.map((c) => c.method)).not.toContain("listClusters");
  });
});

describe("service rebalance mode (Docker has no field for it: label com.shoal.rebalance)", () => {
  const auto = ServiceSpec.fromPartial({
    annotations: { name: "web", labels: { team: "x" } },
    taskTemplate: { container: { image: "x:1" } },
    mode: { $case: "replicated", value: { replicas: 6 } },
    rebalance: RebalanceMode.AUTO,
  });

  it("shows auto as a label and reads it back, never storing the label", () => {
    const docker = toDockerServiceSpec(auto);
    expect(docker.Labels).toEqual({ team: "x", [REBALANCE_LABEL]: "auto" });
    const back = fromDockerServiceSpec(docker);
    expect(back.rebalance).toBe(RebalanceMode.AUTO);
    expect(back.annotations?.labels).toEqual({ team: "x" });
    expect(toDockerServiceSpec({ ...auto, rebalance: RebalanceMode.MANUAL }).Labels).toEqual({ team: "x" });
  });

  it("an update without the label keeps the service's mode; with it, sets it; a bad value is refused", async () => {
    const docker = fakeDocker();
    const control = docker.ctx.control;
    const stored = Service.fromPartial({ id: "svc1", meta: { version: { index: 7 } }, spec: auto });
    const ctx = {
      ...docker.ctx,
      control: {
        call: ((method: string, request: unknown) =>
          method === "getService"
            ? Promise.resolve({ service: stored })
            : control.call(method as never, request as never)) as typeof control.call,
      },
    };
    const update = serviceHandlers(ctx)["update"]!;
    const body = { Name: "web", Labels: { team: "x" }, TaskTemplate: { ContainerSpec: { Image: "x:2" } } };
    await update(dockerRequest({ params: { id: "web" }, query: "version=7", body }));
    const manual = { ...body, Labels: { team: "x", [REBALANCE_LABEL]: "manual" } };
    await update(dockerRequest({ params: { id: "web" }, query: "version=7", body: manual }));
    const specs = docker.requests<{ spec: ServiceSpec }>("updateService").map((r) => r.spec);
    expect(specs.map((s) => s.rebalance)).toEqual([RebalanceMode.AUTO, RebalanceMode.MANUAL]);
    expect(specs.map((s) => s.annotations?.labels)).toEqual([{ team: "x" }, { team: "x" }]);
    const bad = { ...body, Labels: { [REBALANCE_LABEL]: "sometimes" } };
    await expect(update(dockerRequest({ params: { id: "web" }, query: "version=7", body: bad }))).rejects.toThrow(
      /Labels\.com\.shoal\.rebalance.*"sometimes" is not a rebalance mode|"sometimes" is not a rebalance mode/,
    );
    expect(docker.requests("updateService")).toHaveLength(2);
  });
});
