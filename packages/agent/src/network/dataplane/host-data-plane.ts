// The agent's data plane, when it is the host's: takes the host lock and starts the DataPlane on the
// executor's bridge networks (devices, routes), the NatController (virtual IPs, routing mesh,
// isolation) and the ServiceDns (names); another agent of the host (or a runtime without
// networks) runs none of them.
import { componentLogger, errorMessage, type Logger } from "@shoal/shared";
import type { Executor } from "../../exec/executor.js";
import type { NetworkStates } from "../network-states.js";
import { spawnRunner, type CommandRunner } from "../command-runner.js";
import { NatController } from "../nat/nat-controller.js";
import { ServiceDns } from "../dns/service-dns.js";
import { DataPlane } from "./data-plane.js";
import { resolveDataPathAddr } from "./data-path-addr.js";
import { defaultLockPath, tryHostLock, type HostLock } from "./host-lock.js";

export interface HostDataPlaneOptions {
  readonly executor: Executor;
  readonly states: NetworkStates;
  readonly managers: readonly string[];
  /** This node's id; "" until the first session says it. */
  readonly nodeId: () => string;
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
  const nat = new NatController({
    states: options.states,
    nodeId: options.nodeId,
    logger: options.logger,
    run: runner,
  });
  nat.start();
  const dns = new ServiceDns({ states: options.states, nodeId: options.nodeId, logger: options.logger });
  dns.start();
  return {
    stop: async () => {
      await dns.stop();
      await nat.stop();
      await dataPlane.stop();
      lock.release();
    },
  };
}
