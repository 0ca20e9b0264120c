// What every Docker API handler works with.
import type { Clock, Logger } from "@shoal/shared";
import type { ContainerCalls } from "../containers/container-calls-client.js";
import type { EventsCaller } from "../events/loopback-events.js";
import type { ControlCaller, ImagePullCaller } from "./control-calls.js";
import type { LogsCaller } from "./logs.js";
import type { ManagerSettings } from "./manager-settings.js";

export interface DockerApiContext {
  readonly control: ControlCaller;
  readonly logs: LogsCaller;
  /** Inspect, top, stats, exec and attach on task containers; without it those answer 503. */
  readonly containers?: ContainerCalls | undefined;
  /** The cluster's events (GET /events); without it that answers 503. */
  readonly events?: EventsCaller | undefined;
  /** PullImage (POST /images/create); without it pulls answer 503. */
  readonly images?: ImagePullCaller | undefined;
  /** Node id of the manager serving the API (Swarm.NodeID in /info). */
  readonly nodeId: string;
  /** The address the manager advertises (Swarm.NodeAddr). */
  readonly advertise: string;
  /** Dates what the API creates (a network's Created). */
  readonly clock: Clock;
  readonly logger: Logger;
  /** The serving manager's Raft and dispatcher settings; DEFAULT_MANAGER_SETTINGS when absent. */
  readonly settings?: ManagerSettings;
}
