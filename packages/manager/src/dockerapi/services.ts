// /services: list (filters id, name, label, mode; status=true adds task counts), inspect
// (insertDefaults), create, update (version, rollback=previous; Shoal's own fields such as the
// schedule are kept from the service), delete. Specs are translated by
// service-spec.ts (their networks as given: the Control API names them by id), and checked by the Control API
// like any other client's.
import type { ServiceReplicaStatus, ServiceSpec } from "@shoal/shared";
import { isJobService } from "../orchestrator/index.js";
import type { DockerApiContext } from "./context.js";
import { SERVICE_SPEC_SHAPE, type DockerServiceSpec } from "./docker-types.js";
import { matchesLabels, parseFilters } from "./filters.js";
import { decodeShape, withoutQueryFields } from "./json-shape.js";
import { isTrue, versionParam } from "./nodes.js";
import { toDockerService, type ServiceCounts } from "./objects.js";
import type { Handler } from "./router.js";
import { REBALANCE_LABEL } from "./rebalance-label.js";
import { fromDockerServiceSpec, withShoalOnlyFields } from "./service-spec.js";
import { visibleLabels } from "./unmapped-fields.js";

const SERVICE_FILTERS = ["id", "name", "label", "mode"];

/** Modes as Docker's `mode` filter names them. */
const MODE_NAMES: Record<string, string> = {
  replicated: "replicated",
  global: "global",
  replicatedJob: "replicated-job",
  globalJob: "global-job",
};

/** No task counted (a service created since the list was read). */
const NO_TASKS: ServiceCounts = { running: 0, desired: 0 };

/**
 * The manager's counts as `docker service ls` shows them (REPLICAS 2/3): Docker counts a running
 * task whatever its health; a job's current run with its completions ("3/3 (4/10 completed)").
 */
export function dockerCounts(c: ServiceReplicaStatus, job: boolean): ServiceCounts {
  const running = c.running + c.unhealthy;
  return job ? { running, desired: c.desired, completed: c.completed } : { running, desired: c.desired };
}

/** The query parameters of a service update, which dockerode also sends in the body. */
const UPDATE_QUERY = ["version", "registryAuthFrom", "rollback"];

export function serviceHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return {
    list: async (req) => {
      const f = parseFilters(req.query.get("filters"), SERVICE_FILTERS);
      const status = isTrue(req.query.get("status"));
      // The manager counts each service's tasks (status=true): no list of every task.
      const { services, statuses } = await ctx.control.call("listServices", {
        filters: {
          names: [],
          namePrefixes: [...(f.get("name") ?? [])],
          idPrefixes: [...(f.get("id") ?? [])],
          labels: {},
        },
        includeStatus: status,
      });
      const counts = new Map(statuses.map((c) => [c.serviceId, c]));
      const modes = f.get("mode");
      const found = services.filter(
        (s) =>
          matchesLabels(visibleLabels(s.spec?.annotations?.labels), f.get("label")) &&
          (!modes || modes.includes(MODE_NAMES[s.spec?.mode?.$case ?? "replicated"] ?? "")),
      );
      return {
        status: 200,
        json: found.map((s) => {
          const c = counts.get(s.id);
          return toDockerService(s, status ? { counts: c ? dockerCounts(c, isJobService(s)) : NO_TASKS } : {});
        }),
      };
    },
    inspect: async (req) => {
      const { service } = await ctx.control.call("getService", { serviceId: req.params["id"]! });
      return {
        status: 200,
        json: toDockerService(service!, { insertDefaults: isTrue(req.query.get("insertDefaults")) }),
      };
    },
    create: async (req) => {
      const body = decodeShape(await req.json(), SERVICE_SPEC_SHAPE) as DockerServiceSpec;
      const spec = fromDockerServiceSpec(body);
      const { service } = await ctx.control.call("createService", { spec });
      return { status: 201, json: { ID: service!.id } };
    },
    update: async (req) => {
      const serviceVersion = versionParam(req, "service");
      const body = decodeShape(
        withoutQueryFields(await req.json(), UPDATE_QUERY),
        SERVICE_SPEC_SHAPE,
      ) as DockerServiceSpec;
      const rollback = req.query.get("rollback") === "previous";
      const serviceId = req.params["id"]!;
      let spec: ServiceSpec | undefined;
      if (!rollback) {
        const { service } = await ctx.control.call("getService", { serviceId });
        spec = withShoalOnlyFields(fromDockerServiceSpec(body), service?.spec);
        // Docker has no rebalance field: a spec without the label keeps the service's mode.
        if (body.Labels?.[REBALANCE_LABEL] === undefined) spec.rebalance = service?.spec?.rebalance ?? spec.rebalance;
      }
      await ctx.control.call("updateService", { serviceId, serviceVersion, spec, rollback });
      return { status: 200, json: { Warnings: null } };
    },
    remove: async (req) => {
      await ctx.control.call("removeService", { serviceId: req.params["id"]! });
      return { status: 200 };
    },
  };
}
