// The agent's data plane, when it is the host's: takes the host lock and starts a DataPlane on the
// executor's bridge networks; another agent of the host (or a runtime without networks) runs none.
import { componentLogger, errorMessage, type Logger } from "@shoal/shared";
import type { Executor } from "../../exec/executor.js";
import type { NetworkStates } from "../network-states.js";
import { spawnRunner, type CommandRunner } from "../command-runner.js";
import { DataPlane } from "./data-plane.js";
import { resolveDataPathAddr } from "./data-path-addr.js";
import { defaultLockPath, tryHostLock, type HostLock } from "./host-lock.js";

export interface HostDataPlaneOptions {
  readonly executor: Executor;
  readonly states: NetworkStates;
  readonly managers: readonly string[];
  readonly logger: Logger;
  /** `--data-path-addr` (NodeDescription.data_path_addr); "" when not given. */
  readonly dataPathAddr: () => Promise<string>;
  /** Default: defaultLockPath(). */
  readonly lockPath?: string;
  readonly runner?: CommandRunner;
}

export interface HostDataPlane {
  /** Stops the data plane (the host keeps its devices) and releases the lock; idempotent. */
  stop(): Promise<void>;
}

/** The started data plane, or undefined when this agent does not drive the host's. */
export function startHostDataPlane(options: HostDataPlaneOptions): HostDataPlane | undefined {
  const networks = options.executor.hostNetworks;
  if (networks === undefined) return undefined;
  const logger = componentLogger(options.logger, "dataplane");
  const lockPath = options.lockPath ?? defaultLockPath();
  let lock: HostLock | undefined;
  try {
    lock = tryHostLock(lockPath);
  } catch (err: unknown) {
    logger.warn({ lock: lockPath, err: errorMessage(err) }, "cannot take the host lock: no network data plane");
    return undefined;
  }
  if (lock === undefined) {
    logger.info({ lock: lockPath }, "another agent drives this host's data plane");
    return undefined;
  }
  const runner = options.runner ?? spawnRunner();
  const dataPlane = new DataPlane({
    states: options.states,
    networks,
    logger: options.logger,
    runner,
    dataPathAddr: async () => resolveDataPathAddr(await options.dataPathAddr(), options.managers, runner),
  });
  dataPlane.start();
  return {
    stop: async () => {
      await dataPlane.stop();
      lock.release();
    },
  };
}
