// A task's networks on its container: once the data plane has set each of them up on the host,
// the container is made on the first (HostConfig.NetworkMode, its allocated address in
// NetworkingConfig) with the first network's gateway as its DNS server, and joins the others
// before it starts. Tasks without networks are not touched.
import { ErrorCode, withDeadline, type Task } from "@shoal/shared";
import type Docker from "dockerode";
import type { ContainerCreateOptions } from "dockerode";
import { ExecError, ExecErrorReason } from "../errors.js";
import type { NetworkReadiness, ReadyNetwork } from "../host-networks.js";
import { abortOption, classifyDockerError, isConflict } from "./docker-errors.js";
import { addressOf } from "../../network/names.js";

/** How long a task waits for the data plane to set its networks up before it fails. */
export const NETWORK_READY_TIMEOUT_MS = 15_000;

/** One network of the task's container: the runtime's network and the task's address on it. */
export interface TaskNetwork {
  readonly network: ReadyNetwork;
  /** Without prefix. */
  readonly address: string;
}

/**
 * The task's networks once the host has them (undefined for a task without networks). Fails the
 * task when this node drives no data plane or the networks are not set up in time.
 */
export async function taskNetworks(
  task: Task,
  readiness: NetworkReadiness | undefined,
  signal?: AbortSignal,
  timeoutMs: number = NETWORK_READY_TIMEOUT_MS,
): Promise<TaskNetwork[] | undefined> {
  const attachments = task.networks;
  if (attachments.length === 0) return undefined;
  if (readiness === undefined) {
    throw networkError(task, "this node runs no network data plane (another agent of the host drives it)");
  }
  const unallocated = attachments.findIndex((a) => addressOf(a.addresses[0] ?? "") === "");
  if (unallocated >= 0) throw networkError(task, `networks[${unallocated}].addresses: no address allocated`);
  const ids = attachments.map((a) => a.networkId);
  const deadline = withDeadline(timeoutMs, signal);
  let ready: ReadyNetwork[];
  try {
    ready = await readiness.waitReady(ids, deadline);
  } catch (err: unknown) {
    signal?.throwIfAborted();
    throw networkError(task, `networks ${ids.join(", ")} not set up on the host within ${timeoutMs} ms`, err);
  }
  return ready.map((network, i) => ({ network, address: addressOf(attachments[i]?.addresses[0] ?? "") }));
}

/** The create body joined to the first network (and its gateway as DNS server unless the spec sets one). */
export function withNetworks(
  config: ContainerCreateOptions,
  networks: TaskNetwork[] | undefined,
): ContainerCreateOptions {
  const first = networks?.[0];
  if (first === undefined) return config;
  const hostConfig = config.HostConfig ?? {};
  return {
    ...config,
    HostConfig: {
      ...hostConfig,
      NetworkMode: first.network.name,
      ...(hostConfig.Dns === undefined || hostConfig.Dns.length === 0 ? { Dns: [first.network.gateway] } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [first.network.name]: endpointConfig(first) } },
  };
}

/**
 * Joins the just-made container to the task's other networks (before it starts); an existing
 * join is kept. On failure the container is removed, so that the next prepare makes it whole.
 */
export async function connectNetworks(
  docker: Docker,
  container: string,
  networks: TaskNetwork[] | undefined,
  signal?: AbortSignal,
): Promise<void> {
  for (const n of networks?.slice(1) ?? []) {
    try {
      await docker.getNetwork(n.network.name).connect({
        Container: container,
        EndpointConfig: endpointConfig(n),
        ...abortOption(signal),
      });
    } catch (err: unknown) {
      if (isConflict(err) || /already exists/i.test(String(err))) continue;
      await docker
        .getContainer(container)
        .remove({ force: true })
        .catch(() => undefined);
      throw classifyDockerError(err, `connecting ${container} to network ${n.network.name}`);
    }
  }
}

function endpointConfig(n: TaskNetwork): { IPAMConfig: { IPv4Address: string } } {
  return { IPAMConfig: { IPv4Address: n.address } };
}

function networkError(task: Task, message: string, cause?: unknown): ExecError {
  return new ExecError(ErrorCode.FailedPrecondition, ExecErrorReason.Network, `task ${task.id}: ${message}`, {
    ...(cause !== undefined ? { cause } : {}),
  });
}
