// Agents for e2e tests: `shoal agent` on harness hosts (each with its own dockerd) or on this
// machine, and the wait until a manager lists them as ready nodes (their hostnames are the
// hosts' names, or the hostname given).
import { join } from "node:path";
import { NodeState } from "@shoal/shared";
import type { Host, HostProcess } from "../harness/index.js";
import type { TestControl } from "./control-client.js";
import { SHOAL_BIN, ShoalProcess } from "./shoal-process.js";
import { waitUntil } from "./wait.js";

/** How long one ListNodes of the wait may take. */
const LIST_NODES_TIMEOUT_MS = 3000;

export interface AgentOptions {
  /** The managers the agent is given (--manager). */
  readonly managers: readonly string[];
  /** The worker join token (--token). */
  readonly token: string;
  /** More arguments, e.g. ["--log-level", "info"]. */
  readonly args?: readonly string[];
}

export interface ReadyOptions {
  readonly control: TestControl;
  /**
   * The manager asked for the nodes: an address, or a function asked before each try (e.g. for
   * the current leader); default the first of the agents' managers.
   */
  readonly via?: string | (() => Promise<string>);
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * Starts `shoal agent` on `host` with the host's dockerd, data dir HOST_DIR/agent, secrets dir
 * HOST_DIR/secrets and hostname the host's name.
 */
export function spawnAgent(host: Host, options: AgentOptions): HostProcess {
  return host.spawn(process.execPath, [
    SHOAL_BIN,
    "agent",
    "--manager",
    options.managers.join(","),
    "--data-dir",
    join(host.dir, "agent"),
    // Under the run's directory, so that the harness unmounts the tmpfs the agent mounts there.
    "--secrets-dir",
    join(host.dir, "secrets"),
    "--docker-host",
    host.dockerHost,
    "--hostname",
    host.name,
    "--token",
    options.token,
    ...(options.args ?? []),
  ]);
}

/** Starts an agent on each of `hosts` (see spawnAgent) and waits until every one is a ready node. */
export async function startAgents(
  hosts: readonly Host[],
  options: AgentOptions & ReadyOptions,
): Promise<HostProcess[]> {
  const procs = hosts.map((host) => spawnAgent(host, options));
  await waitAgentsReady(
    hosts.map((h) => h.name),
    { ...options, via: options.via ?? options.managers[0]! },
  );
  return procs;
}

export interface LocalAgentOptions extends AgentOptions, ReadyOptions {
  /** The node's hostname (--hostname). */
  readonly hostname: string;
  readonly dataDir: string;
  readonly logFile: string;
}

/**
 * Starts `shoal agent` on this machine (its default Docker daemon) and waits until it is a ready
 * node; resolves with the process and the node's id. Killed again when it does not get ready.
 */
export async function startLocalAgent(options: LocalAgentOptions): Promise<{ proc: ShoalProcess; nodeId: string }> {
  const proc = new ShoalProcess(
    [
      "agent",
      "--manager",
      options.managers.join(","),
      "--data-dir",
      options.dataDir,
      "--token",
      options.token,
      "--hostname",
      options.hostname,
      ...(options.args ?? []),
    ],
    options.logFile,
  );
  proc.start();
  try {
    const ids = await waitAgentsReady([options.hostname], { ...options, via: options.via ?? options.managers[0]! });
    return { proc, nodeId: ids.get(options.hostname)! };
  } catch (err: unknown) {
    await proc.kill("SIGKILL");
    throw err;
  }
}

/**
 * Waits until a node of each of `hostnames` is READY as the manager `via` lists them; resolves
 * with their node ids by hostname.
 */
export async function waitAgentsReady(
  hostnames: readonly string[],
  options: ReadyOptions & { readonly via: string | (() => Promise<string>) },
): Promise<Map<string, string>> {
  const { control, via, timeoutMs = 30_000 } = options;
  const ready = new Map<string, string>();
  await waitUntil(
    `agents ${hostnames.join(", ")} ready`,
    async () => {
      const addr = typeof via === "string" ? via : await via();
      const nodes = await control.listNodes(addr, undefined, LIST_NODES_TIMEOUT_MS);
      ready.clear();
      for (const n of nodes) {
        const hostname = n.description?.hostname ?? "";
        if (n.status?.state === NodeState.READY && hostnames.includes(hostname)) ready.set(hostname, n.id);
      }
      return ready.size === hostnames.length;
    },
    timeoutMs,
  );
  return ready;
}
