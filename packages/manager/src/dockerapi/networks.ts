// /networks: named groups, enough for `docker stack deploy` and `stack rm` (no overlay networking:
// tasks run on their hosts' networks), kept in the cluster's labels (network-store.ts). Also the
// 404 of /distribution that makes the CLI skip digest pinning.
import { ErrorCode, InvalidArgumentError, NotFoundError, ShoalError, newId } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { NETWORK_CREATE_SHAPE, type DockerNetworkCreate } from "./docker-types.js";
import { matchesLabels, matchesPrefix, parseFilters } from "./filters.js";
import { decodeShape } from "./json-shape.js";
import { PREFIX, changeLabels, findNetwork, networksOf, storedNetworks, type StoredNetwork } from "./network-store.js";
import { serviceUsingNetwork } from "./network-targets.js";
import type { Handler } from "./router.js";

// system.ts reads this from here.
export { isNetworkLabel } from "./network-store.js";

const NETWORK_FILTERS = ["id", "name", "label", "driver", "scope", "type", "dangling"];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

function toDockerNetwork(n: StoredNetwork): Record<string, unknown> {
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: "swarm",
    Driver: n.Driver,
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [] },
    Internal: false,
    Attachable: n.Attachable,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: n.Labels,
  };
}

export function networkHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return {
    list: async (req) => {
      const f = parseFilters(req.query.get("filters"), NETWORK_FILTERS);
      const names = f.get("name");
      const found = (await storedNetworks(ctx)).filter(
        (n) =>
          (!names || names.some((x) => n.Name.includes(x))) &&
          matchesPrefix(n.Id, f.get("id")) &&
          matchesLabels(n.Labels, f.get("label")) &&
          (!f.get("driver") || f.get("driver")!.includes(n.Driver)) &&
          (!f.get("scope") || f.get("scope")!.includes("swarm")),
      );
      return { status: 200, json: found.map(toDockerNetwork) };
    },
    inspect: async (req) => {
      const n = findNetwork(await storedNetworks(ctx), req.params["id"]!);
      return { status: 200, json: toDockerNetwork(n) };
    },
    create: async (req) => {
      const spec = decodeShape(await req.json(), NETWORK_CREATE_SHAPE) as DockerNetworkCreate;
      const name = spec.Name ?? "";
      if (!NAME.test(name)) throw new InvalidArgumentError(`"${name}" is not a valid network name`, { field: "Name" });
      const network: StoredNetwork = {
        Id: newId(),
        Name: name,
        Created: new Date(ctx.clock.now()).toISOString(),
        Driver: spec.Driver || "overlay",
        Attachable: spec.Attachable === true,
        Labels: { ...(spec.Labels ?? {}) },
      };
      await changeLabels(ctx, (labels) => {
        if (labels[PREFIX + name] !== undefined) {
          throw new ShoalError(ErrorCode.AlreadyExists, `network with name ${name} already exists`);
        }
        labels[PREFIX + name] = JSON.stringify(network);
      });
      return { status: 201, json: { Id: network.Id, Warning: "" } };
    },
    remove: async (req) => {
      const ref = req.params["id"]!;
      // As SwarmKit: a network a service is attached to stays (its spec names the network's id).
      const network = findNetwork(await storedNetworks(ctx), ref);
      const { services } = await ctx.control.call("listServices", { filters: undefined, includeStatus: false });
      const user = serviceUsingNetwork(services, network);
      if (user !== undefined) {
        throw new ShoalError(ErrorCode.FailedPrecondition, `network ${network.Id} is in use by service ${user.id}`);
      }
      await changeLabels(ctx, (labels) => {
        const n = findNetwork(networksOf(labels), ref);
        delete labels[PREFIX + n.Name];
      });
      return { status: 204 };
    },
  };
}

/** Image digests are not resolved: the CLI warns and goes on with the tag as given. */
export const distribution: Handler = (req) => {
  throw new NotFoundError("image digest of", req.params["name"]!);
};
