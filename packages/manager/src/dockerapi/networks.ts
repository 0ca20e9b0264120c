// /networks: named groups, enough for `docker stack deploy` and `stack rm` (no overlay networking:
// tasks run on their hosts' networks). A network is kept, replicated with the rest of the state,
// as one label of the cluster object ("com.shoal.network/NAME" -> JSON), written through the
// Control API's UpdateCluster with its version check (retried on a conflict). Also the empty
// secrets and configs lists a stack expects, and the 404 of /distribution that makes the CLI
// skip digest pinning.
import {
  ErrorCode,
  InvalidArgumentError,
  NotFoundError,
  ShoalError,
  isShoalError,
  newId,
  type Cluster,
} from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { NETWORK_CREATE_SHAPE, type DockerNetworkCreate } from "./docker-types.js";
import { matchesLabels, matchesPrefix, parseFilters } from "./filters.js";
import { decodeShape } from "./json-shape.js";
import type { Handler } from "./router.js";

const PREFIX = "com.shoal.network/";
const NETWORK_FILTERS = ["id", "name", "label", "driver", "scope", "type", "dangling"];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const CONFLICT_RETRIES = 5;

export const isNetworkLabel = (key: string): boolean => key.startsWith(PREFIX);

interface StoredNetwork {
  readonly Id: string;
  readonly Name: string;
  readonly Created: string;
  readonly Driver: string;
  readonly Attachable: boolean;
  readonly Labels: Record<string, string>;
}

function networksOf(cluster: Cluster | undefined): StoredNetwork[] {
  const out: StoredNetwork[] = [];
  for (const [k, v] of Object.entries(cluster?.spec?.annotations?.labels ?? {})) {
    if (!isNetworkLabel(k)) continue;
    try {
      out.push(JSON.parse(v) as StoredNetwork);
    } catch {
      // not ours after all
    }
  }
  return out.sort((a, b) => a.Name.localeCompare(b.Name));
}

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

function findNetwork(networks: readonly StoredNetwork[], ref: string): StoredNetwork {
  const exact = networks.find((n) => n.Id === ref) ?? networks.find((n) => n.Name === ref);
  if (exact) return exact;
  const byPrefix = networks.filter((n) => n.Id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  throw new NotFoundError("network", ref);
}

async function currentCluster(ctx: DockerApiContext): Promise<Cluster | undefined> {
  return (await ctx.control.call("listClusters", {})).clusters[0];
}

/** Applies `change` to the cluster's labels through UpdateCluster, retrying if another write came first. */
async function changeLabels(ctx: DockerApiContext, change: (labels: Record<string, string>) => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cluster = await currentCluster(ctx);
    if (!cluster) throw new ShoalError(ErrorCode.Unavailable, "the cluster is not initialised yet");
    const labels = { ...(cluster.spec?.annotations?.labels ?? {}) };
    change(labels);
    try {
      await ctx.control.call("updateCluster", {
        clusterId: cluster.id,
        clusterVersion: cluster.meta?.version,
        spec: {
          ...cluster.spec!,
          annotations: { name: cluster.spec?.annotations?.name ?? "default", labels },
        },
        rotation: undefined,
      });
      return;
    } catch (err: unknown) {
      if (!(isShoalError(err) && err.code === ErrorCode.SequenceConflict) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

export function networkHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return {
    list: async (req) => {
      const f = parseFilters(req.query.get("filters"), NETWORK_FILTERS);
      const names = f.get("name");
      const found = networksOf(await currentCluster(ctx)).filter(
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
      const n = findNetwork(networksOf(await currentCluster(ctx)), req.params["id"]!);
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
      await changeLabels(ctx, (labels) => {
        const n = findNetwork(networksOf({ spec: { annotations: { labels } } } as unknown as Cluster), ref);
        delete labels[PREFIX + n.Name];
      });
      return { status: 204 };
    },
  };
}

/** Secrets and configs: none, and none can be made (a stack that needs them gets a clear 400). */
export function emptyResourceHandlers(kind: "secret" | "config"): Record<string, Handler> {
  return {
    list: (req) => {
      parseFilters(req.query.get("filters"), ["id", "name", "label", "names"]);
      return { status: 200, json: [] };
    },
    inspect: (req) => {
      throw new NotFoundError(kind, req.params["id"]!);
    },
    create: () => {
      throw new InvalidArgumentError(`${kind}s are not supported by Shoal`, { field: kind });
    },
  };
}

/** Image digests are not resolved: the CLI warns and goes on with the tag as given. */
export const distribution: Handler = (req) => {
  throw new NotFoundError("image digest of", req.params["name"]!);
};
