// /swarm: inspect, update (join tokens, autolock, certificate expiry, task history, labels, root CA
// rotation), the unlock key, and the answers of a manager already in a swarm to init, join, leave
// and unlock. Updates go through the Control API's UpdateCluster, with its version check (a stale
// version is a 409), and RotateUnlockKey.
import { ErrorCode, InvalidArgumentError, ShoalError, isShoalError, type Cluster } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { decodeShape, withoutQueryFields } from "./json-shape.js";

import { DEFAULT_MANAGER_SETTINGS } from "./manager-settings.js";
import { versionParam } from "./nodes.js";
import type { DockerRequest, Handler, Reply } from "./router.js";
import { SWARM_SPEC_SHAPE, fromDockerSwarmSpec, type DockerSwarmSpec } from "./swarm-spec.js";
import { toDockerSwarm } from "./swarm-view.js";

/** The query parameters of a swarm update, which dockerode also sends in the body. */
const SWARM_UPDATE_QUERY = ["version", "rotateWorkerToken", "rotateManagerToken", "rotateManagerUnlockKey"];

/** What Docker answers to init and join on a node in a swarm (503). */
export const SWARM_EXISTS =
  'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';

/** The cluster object, or 503 before the first manager has stored it. */
export async function currentCluster(ctx: DockerApiContext): Promise<Cluster> {
  const cluster = (await ctx.control.call("listClusters", {})).clusters[0];
  if (!cluster) throw new ShoalError(ErrorCode.Unavailable, "the cluster is not initialised yet: try again");
  return cluster;
}

/** A boolean query parameter as Go's strconv.ParseBool reads it; absent or empty: false. */
export function boolParam(req: DockerRequest, name: string): boolean {
  const raw = req.query.get(name) ?? "";
  if (["", "0", "f", "F", "false", "FALSE", "False"].includes(raw)) return false;
  if (["1", "t", "T", "true", "TRUE", "True"].includes(raw)) return true;
  throw new InvalidArgumentError(`invalid value for ${name}: ${raw}`, { field: name });
}

/** A boolean form value as Docker's httputils.BoolValue reads it: anything but "", 0, no, false, none. */
function formBool(req: DockerRequest, name: string): boolean {
  const raw = (req.query.get(name) ?? "").trim().toLowerCase();
  return !["", "0", "no", "false", "none"].includes(raw);
}

const unavailable = (message: string): Reply => ({ status: 503, json: { message } });

export function swarmHandlers(ctx: DockerApiContext): Record<string, Handler> {
  const settings = ctx.settings ?? DEFAULT_MANAGER_SETTINGS;
  return {
    inspect: async () => ({ status: 200, json: toDockerSwarm(await currentCluster(ctx), settings) }),

    update: async (req) => {
      const clusterVersion = versionParam(req, "swarm");
      const rotation = {
        worker: boolParam(req, "rotateWorkerToken"),
        manager: boolParam(req, "rotateManagerToken"),
      };
      const rotateUnlockKey = boolParam(req, "rotateManagerUnlockKey");
      // Field names in any case, as Docker's decoder takes them (docker-py sends some in lower case).
      const body = decodeShape(withoutQueryFields(await req.json(), SWARM_UPDATE_QUERY), SWARM_SPEC_SHAPE);
      const current = await currentCluster(ctx);
      // A JSON null is an empty spec to Go's decoder: every field its default.
      const { spec, rotateRootCa } = fromDockerSwarmSpec((body ?? {}) as DockerSwarmSpec, current, settings);
      await ctx.control.call("updateCluster", {
        clusterId: current.id,
        clusterVersion,
        spec,
        rotation: { ...rotation, rootCa: rotateRootCa },
      });
      // As SwarmKit: the unlock key is replaced only while autolock stays on (turning it on makes
      // a new one anyway; with it off there is none).
      const wasLocked = current.spec?.encryptionConfig?.autoLockManagers === true;
      if (rotateUnlockKey && wasLocked && spec.encryptionConfig?.autoLockManagers === true) {
        await ctx.control.call("rotateUnlockKey", {});
      }
      return { status: 200 };
    },

    unlockKey: async () => {
      try {
        const { unlockKey } = await ctx.control.call("getUnlockKey", {});
        return { status: 200, json: { UnlockKey: unlockKey } };
      } catch (err: unknown) {
        // Autolock off: Docker answers with an empty key (the CLI says "no unlock key is set").
        if (isShoalError(err) && err.code === ErrorCode.FailedPrecondition) {
          return { status: 200, json: { UnlockKey: "" } };
        }
        throw err;
      }
    },

    init: async (req) => {
      const body = await req.json();
      const force = typeof body === "object" && body !== null && (body as Record<string, unknown>)["ForceNewCluster"];
      if (force === true) {
        return unavailable(
          `${SWARM_EXISTS} A Shoal cluster that lost its quorum is recovered by restarting one of its managers ` +
            "with shoal manager --force-new-cluster.",
        );
      }
      return unavailable(SWARM_EXISTS);
    },

    join: () => unavailable(SWARM_EXISTS),

    // Docker refuses a manager's leave with a 503 unless forced, and then lets it go. A Shoal
    // manager never leaves here: a forced leave is refused with a 403 (Docker's "not allowed"),
    // since docker-py takes a 503 to a forced leave for a success.
    leave: (req) => ({
      status: formBool(req, "force") ? 403 : 503,
      json: {
        message:
          "This node is a manager of a Shoal cluster and cannot leave it through the Docker API: " +
          `remove it with "shoal cluster remove-manager ${ctx.nodeId}", then stop it.`,
      },
    }),

    // The API is served only once this manager is unlocked.
    unlock: () => ({ status: 409, json: { message: "swarm is not locked" } }),
  };
}
