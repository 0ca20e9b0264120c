// An agent process: registers its host with the managers, keeps a session with them, runs the
// tasks they assign on its executor (the worker), reports their status (the reporter) and pulls
// the images the leader asks it to (the image puller). The worker outlives sessions: without a
// manager the containers keep running, and each new session brings a full set of assignments to
// reconcile with and a re-report of every status.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import {
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  componentLogger,
  errorMessage,
  newId,
  nodeRenewer,
  type BackoffOptions,
  type Clock,
  type GenericResource,
  type Logger,
  type Node,
  type NodeDescription,
  type TlsMaterial,
} from "@shoal/shared";
import { agentCertDir } from "./node-certificate.js";
import type { Executor } from "./exec/executor.js";
import type { LogSource } from "./exec/log-source.js";
import { runLogPublisher } from "./logs/log-publisher.js";
import { runContainerCalls } from "./containers/container-calls.js";
import { DockerContainerCalls } from "./exec/docker/calls/docker-calls.js";
import type { AgentMetrics } from "./metrics/agent-metrics.js";
import { NetworkStates } from "./network/network-states.js";
import { ImagePuller } from "./pulls/image-puller.js";
import { StatusReporter } from "./reporter.js";
import { startHostDataPlane } from "./network/dataplane/host-data-plane.js";
import { RenewalTrigger } from "./ca-signal.js";
import { runSession } from "./session.js";
import { FileTaskStore } from "./worker/task-store.js";
import { Worker } from "./worker/worker.js";

export interface AgentOptions {
  readonly managers: readonly string[];
  readonly executor: Executor;
  /** Where the agent reads its containers' logs for `service logs`; without it none are served. */
  readonly logs?: LogSource;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Overrides the hostname the executor reports. */
  readonly hostname?: string;
  /**
   * The node's certificate (agentCertificate): the managers are called over mutual TLS with it,
   * and it is renewed in DATA_DIR/certificates/ while the agent runs.
   */
  readonly material?: TlsMaterial;
  /** Instead of `material`, for tests against servers of their own: credentials as they are. */
  readonly insecureCredentials?: grpc.ChannelCredentials;
  /** Labels added to the engine labels the executor reports (usable in constraints as engine.labels.KEY). */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Generic resources the node advertises (GPUs, ...: `--generic-resource`), added to what the
   * executor reports; the scheduler gives them to tasks that reserve them.
   */
  readonly genericResources?: readonly GenericResource[];
  readonly clock?: Clock;
  /** Retries of task steps and container teardowns; default 100 ms doubling up to 10 s. */
  readonly taskBackoff?: BackoffOptions;
  /** Counts container starts, task states and sessions (shoal agent --metrics-addr). */
  readonly metrics?: AgentMetrics;
  /**
   * The node as each session message brings it, with the manager the session is on: a promoted
   * node's agent starts a manager beside it, a demoted one stops it (the CLI's NodeManager).
   */
  readonly onNode?: (node: Node, manager: string) => void;
  /**
   * Where other nodes send this node's overlay (VXLAN) traffic (--data-path-addr); unset: the
   * address of its manager session.
   */
  readonly dataPathAddr?: string;
}

interface AgentState {
  nodeId?: string;
}

export class Agent {
  private readonly logger: Logger;
  /** This agent drives its host's network data plane (it holds the host lock). */
  private networkDataPlane = false;

  constructor(private readonly options: AgentOptions) {
    if (options.managers.length === 0) throw new RangeError("agent: at least one manager address is needed");
    if (!options.material && !options.insecureCredentials) throw new RangeError("agent: a certificate is needed");
    this.logger = componentLogger(options.logger, "agent");
  }

  /** Runs until `signal` aborts; the containers are left running. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, logger, taskBackoff } = this.options;
    await mkdir(this.options.dataDir, { recursive: true });
    const state = await this.loadState();
    const reporter = new StatusReporter({ logger, ...(clock !== undefined ? { clock } : {}) });
    const metrics = this.options.metrics;
    const networks = new NetworkStates(); // the networks the managers send, for the network parts
    const worker = new Worker({
      executor: metrics ? metrics.executor(this.options.executor) : this.options.executor,
      reporter: metrics ? metrics.sink(reporter) : reporter,
      logger,
      store: new FileTaskStore(join(this.options.dataDir, "tasks.json"), this.logger),
      ...(clock !== undefined ? { clock } : {}),
      ...(taskBackoff !== undefined ? { backoff: taskBackoff } : {}),
      ...(state.nodeId !== undefined ? { nodeId: state.nodeId } : {}),
      networks,
    });
    // Pulls the leader asks for run beside the worker, on the same executor.
    const puller = new ImagePuller({ executor: this.options.executor, logger, clock });
    const material = this.options.material;
    const channel = material
      ? { credentials: channelCredentials(material), options: MANAGER_CHANNEL_OPTIONS }
      : { credentials: this.options.insecureCredentials! };
    // Renewed well before it expires (50-80% of its life), from the managers it knows.
    const renewal = material
      ? nodeRenewer(material, agentCertDir(this.options.dataDir), () => this.options.managers, logger)
      : undefined;
    const renewing = renewal?.renewer.run(signal);
    const renewalTrigger = new RenewalTrigger();
    let sessionManager = "";
    const { managers, executor } = this.options;
    const dataPathAddr = async (): Promise<string> => (await this.describe(signal)).dataPathAddr;
    const nodeId = (): string => state.nodeId ?? "";
    const dataPlane = startHostDataPlane({ executor, states: networks, managers, nodeId, logger, dataPathAddr });
    this.networkDataPlane = dataPlane !== undefined;
    try {
      await worker.start(signal);
      await runSession(
        {
          managers: this.options.managers,
          logger,
          channel,
          ...(clock !== undefined ? { clock } : {}),
          describe: (s) => this.describe(s),
          onSession: async (node, manager, link) => {
            if (node.id !== state.nodeId) {
              state.nodeId = node.id;
              await this.saveState(state);
            }
            worker.setNodeId(node.id, node.description);
            sessionManager = manager;
            this.options.onNode?.(node, manager);
            metrics?.sessionStarted();
            reporter.connect(link.updateTaskStatus, link.signal);
            this.logger.info({ nodeId: node.id, manager }, "registered with the cluster");
            const source = this.options.logs;
            if (source) {
              const publisher = { manager, nodeId: node.id, sessionId: link.sessionId, source, logger, channel };
              void runLogPublisher(publisher, link.signal);
            }
            const server = DockerContainerCalls.of(this.options.executor, logger);
            if (server) {
              const calls = { manager, nodeId: node.id, sessionId: link.sessionId, server, logger, channel };
              void runContainerCalls(calls, link.signal);
            }
          },
          onAssignments: (message) => worker.apply(message),
          onImagePull: (pull, link) => {
            puller.run(pull, link.reportImagePull(pull.id), link.signal).catch((err: unknown) => {
              this.logger.warn({ image: pull.image, err: errorMessage(err) }, "image pull not reported");
            });
          },
          onSessionMessage: (message) => {
            if (message.node && sessionManager !== "") this.options.onNode?.(message.node, sessionManager);
            if (!renewal || !material) return;
            if (renewalTrigger.shouldRenew(message, material.files.caPem)) {
              logger.info(
                { rootCaDigest: message.rootCaDigest, renew: message.renewCertificate },
                "renewing the node certificate for the root CA",
              );
              renewal.renewer.renewNow();
            }
          },
        },
        signal,
      );
    } finally {
      puller.stop();
      renewal?.renewer.stop();
      await renewing?.catch(() => undefined);
      renewal?.close();
      await worker.stop();
      await dataPlane?.stop();
      reporter.stop();
    }
  }

  private async describe(signal: AbortSignal): Promise<NodeDescription> {
    const description = await this.options.executor.describe(signal);
    const labels = this.options.labels;
    const generic = this.options.genericResources ?? [];
    return {
      ...description,
      // A fake executor stands for a host with networking; a Docker host has it when this agent holds its lock.
      networkDataPlane: this.networkDataPlane || description.networkDataPlane,
      ...(generic.length > 0 && description.resources
        ? { resources: { ...description.resources, generic: [...description.resources.generic, ...generic] } }
        : {}),
      ...(this.options.hostname !== undefined ? { hostname: this.options.hostname } : {}),
      ...(this.options.dataPathAddr !== undefined ? { dataPathAddr: this.options.dataPathAddr } : {}),
      ...(labels && description.engine
        ? { engine: { ...description.engine, labels: { ...description.engine.labels, ...labels } } }
        : {}),
    };
  }

  private get stateFile(): string {
    return join(this.options.dataDir, "agent-state.json");
  }

  private async loadState(): Promise<AgentState> {
    try {
      const parsed = JSON.parse(await readFile(this.stateFile, "utf8")) as AgentState;
      return typeof parsed.nodeId === "string" ? { nodeId: parsed.nodeId } : {};
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      this.logger.warn({ file: this.stateFile, err }, "unreadable agent state; starting as a new node");
      return {};
    }
  }

  private async saveState(state: AgentState): Promise<void> {
    const tmp = `${this.stateFile}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    await rename(tmp, this.stateFile);
  }
}

/**
 * The node id of the agent with this data dir: the one it registered with before, or a new one
 * (saved now) that it will register with. Known before the first session, so that the executor can
 * tell this agent's containers from those of other agents sharing the Docker daemon.
 */
export async function agentNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, "agent-state.json");
  await mkdir(dataDir, { recursive: true });
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as AgentState;
    if (typeof parsed.nodeId === "string" && parsed.nodeId !== "") return parsed.nodeId;
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" && !(err instanceof SyntaxError)) throw err;
  }
  const nodeId = newId();
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ nodeId })}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return nodeId;
}
