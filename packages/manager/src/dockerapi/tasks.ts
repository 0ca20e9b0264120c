// /tasks: list with Docker's task filters (service and node by id or name, desired-state, label
// of the owning service, name, id, and the CLI's own _up-to-date), inspect.
import { ErrorCode, InvalidArgumentError, isShoalError, type Task } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { allTasks } from "./control-calls.js";
import { matchesLabels, matchesPrefix, parseFilters } from "./filters.js";
import { TASK_STATES_BY_NAME, toDockerTask } from "./objects.js";
import { networksOf } from "./network-objects.js";
import type { Handler } from "./router.js";
import { visibleLabels } from "./unmapped-fields.js";

const TASK_FILTERS = ["id", "name", "label", "service", "node", "desired-state", "_up-to-date"];

/** Resolves a reference typed by the user to an id; an unknown one stays as it is (and matches nothing). */
async function resolveIds(refs: readonly string[], lookup: (ref: string) => Promise<string>): Promise<string[]> {
  return Promise.all(
    refs.map((ref) =>
      lookup(ref).catch((err: unknown) => {
        if (isShoalError(err) && err.code === ErrorCode.NotFound) return ref;
        throw err;
      }),
    ),
  );
}

export function taskHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return {
    list: async (req) => {
      const f = parseFilters(req.query.get("filters"), TASK_FILTERS);
      const serviceIds = await resolveIds(
        f.get("service") ?? [],
        async (ref) => (await ctx.control.call("getService", { serviceId: ref })).service!.id,
      );
      const nodeIds = await resolveIds(
        f.get("node") ?? [],
        async (ref) => (await ctx.control.call("getNode", { nodeId: ref === "self" ? ctx.nodeId : ref })).node!.id,
      );
      const desiredStates = (f.get("desired-state") ?? []).map((name) => {
        const state = TASK_STATES_BY_NAME.get(name);
        if (state === undefined) {
          throw new InvalidArgumentError(`invalid desired-state '${name}'`, { field: "filters" });
        }
        return state;
      });
      const tasks = await allTasks(ctx.control, {
        idPrefixes: [...(f.get("id") ?? [])],
        serviceIds,
        nodeIds,
        desiredStates,
      });
      let found = tasks.filter(
        (t) =>
          matchesPrefix(t.annotations?.name ?? "", f.get("name")) &&
          matchesLabels(visibleLabels(t.serviceAnnotations?.labels), f.get("label")),
      );
      if (f.has("_up-to-date")) found = await upToDate(ctx, found);
      const networks = await networksOf(ctx, found);
      return { status: 200, json: found.map((t) => toDockerTask(t, networks)) };
    },
    inspect: async (req) => {
      const { task } = await ctx.control.call("getTask", { taskId: req.params["id"]! });
      return { status: 200, json: toDockerTask(task!, await networksOf(ctx, [task!])) };
    },
  };
}

/** Tasks made from their service's current spec (what `docker service create/update` waits for). */
async function upToDate(ctx: DockerApiContext, tasks: Task[]): Promise<Task[]> {
  const ids = [...new Set(tasks.map((t) => t.serviceId))];
  const { services } = await ctx.control.call("listServices", {
    filters: { names: [], namePrefixes: [], idPrefixes: ids, labels: {} },
    includeStatus: false,
  });
  const current = new Map(services.map((s) => [s.id, s.specVersion?.index ?? s.meta?.version?.index ?? 0]));
  return tasks.filter((t) => current.get(t.serviceId) === (t.specVersion?.index ?? 0));
}
