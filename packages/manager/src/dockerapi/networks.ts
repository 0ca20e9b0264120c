// /networks: the cluster's overlay networks, through the Control API's network methods (list,
// inspect, create, delete: 409 while a service uses it). Also the 404 of /distribution that makes
// the CLI skip digest pinning.
import { NotFoundError, type Network } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { NETWORK_CREATE_SHAPE, type DockerNetworkCreate } from "./docker-types.js";
import { matchesLabels, matchesPrefix, parseFilters } from "./filters.js";
import { decodeShape } from "./json-shape.js";
import { fromDockerNetworkCreate, toDockerNetwork } from "./network-objects.js";
import type { Handler } from "./router.js";
import { inUseIsConflict } from "./secrets.js";

const NETWORK_FILTERS = ["id", "name", "label", "driver", "scope", "type", "dangling"];

/** Docker's `type` filter: the cluster's own ingress network is built in, the others custom. */
const typeOf = (n: Network): string => (n.spec?.ingress ? "builtin" : "custom");

/** Whether `n` passes the filters of `GET /networks` (name: a substring, as Docker's). */
export function matchesNetworkFilters(n: Network, f: ReadonlyMap<string, readonly string[]>): boolean {
  const name = n.spec?.annotations?.name ?? "";
  const names = f.get("name");
  const is = (key: string, value: string): boolean => !f.get(key) || f.get(key)!.includes(value);
  return (
    (!names || names.some((x) => name.includes(x))) &&
    matchesPrefix(n.id, f.get("id")) &&
    matchesLabels(n.spec?.annotations?.labels ?? {}, f.get("label")) &&
    is("driver", "overlay") &&
    is("scope", "swarm") &&
    is("type", typeOf(n))
  );
}

export function networkHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return {
    list: async (req) => {
      const f = parseFilters(req.query.get("filters"), NETWORK_FILTERS);
      const { networks } = await ctx.control.call("listNetworks", { filters: undefined });
      return { status: 200, json: networks.filter((n) => matchesNetworkFilters(n, f)).map(toDockerNetwork) };
    },
    inspect: async (req) => {
      const { network } = await ctx.control.call("getNetwork", { networkId: req.params["id"]! });
      return { status: 200, json: toDockerNetwork(network!) };
    },
    create: async (req) => {
      const body = decodeShape(await req.json(), NETWORK_CREATE_SHAPE) as DockerNetworkCreate;
      const { network } = await ctx.control.call("createNetwork", { spec: fromDockerNetworkCreate(body) });
      return { status: 201, json: { Id: network!.id, Warning: "" } };
    },
    remove: async (req) => {
      await ctx.control.call("removeNetwork", { networkId: req.params["id"]! }).catch(inUseIsConflict);
      return { status: 204 };
    },
  };
}

/** Image digests are not resolved: the CLI warns and goes on with the tag as given. */
export const distribution: Handler = (req) => {
  throw new NotFoundError("image digest of", req.params["name"]!);
};
