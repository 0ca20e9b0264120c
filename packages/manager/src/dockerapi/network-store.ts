// How networks are kept: as one label of the cluster object each ("com.shoal.network/NAME" ->
// JSON), replicated with the rest of the state, written through the Control API's UpdateCluster
// with its version check (retried on a conflict); and how a reference to one is resolved.
import { ErrorCode, InvalidArgumentError, NotFoundError, ShoalError, isShoalError, type Cluster } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";

/** The cluster label that keeps network NAME is PREFIX + NAME. */
export const PREFIX = "com.shoal.network/";
const CONFLICT_RETRIES = 5;

export const isNetworkLabel = (key: string): boolean => key.startsWith(PREFIX);

export interface StoredNetwork {
  readonly Id: string;
  readonly Name: string;
  readonly Created: string;
  readonly Driver: string;
  readonly Attachable: boolean;
  readonly Labels: Record<string, string>;
}

/** The networks kept in a cluster's labels, by name. */
export function networksOf(labels: Readonly<Record<string, string>>): StoredNetwork[] {
  const out: StoredNetwork[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!isNetworkLabel(k)) continue;
    try {
      out.push(JSON.parse(v) as StoredNetwork);
    } catch {
      // not ours after all
    }
  }
  return out.sort((a, b) => a.Name.localeCompare(b.Name));
}

/**
 * The network `ref` names, as Docker's daemon finds a swarm network (getNetwork): its full id,
 * else its name, else a unique id prefix. None: NotFoundError "network X not found"; several:
 * "network X is ambiguous (N matches found)".
 */
export function findNetwork(networks: readonly StoredNetwork[], ref: string): StoredNetwork {
  const exact = networks.find((n) => n.Id === ref) ?? networks.find((n) => n.Name === ref);
  if (exact) return exact;
  const byPrefix = networks.filter((n) => n.Id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    throw new InvalidArgumentError(`network ${ref} is ambiguous (${byPrefix.length} matches found)`);
  }
  throw new NotFoundError("network", ref);
}

async function currentCluster(ctx: DockerApiContext): Promise<Cluster | undefined> {
  return (await ctx.control.call("listClusters", {})).clusters[0];
}

/** The networks as they are now, by name. */
export async function storedNetworks(ctx: DockerApiContext): Promise<StoredNetwork[]> {
  return networksOf((await currentCluster(ctx))?.spec?.annotations?.labels ?? {});
}

/** Applies `change` to the cluster's labels through UpdateCluster, retrying if another write came first. */
export async function changeLabels(
  ctx: DockerApiContext,
  change: (labels: Record<string, string>) => void,
): Promise<void> {
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
