// The Executor for one Docker daemon. It owns the event stream that its controllers share.
import {
  componentLogger,
  raceAbort,
  systemClock,
  type BackoffOptions,
  type Clock,
  type Logger,
  type EnginePlugin,
  type NodeDescription,
  type Task,
} from "@shoal/shared";
import Docker from "dockerode";
import type { ContainerInfo } from "dockerode";
import type {
  ContainerRunState,
  Controller,
  ControllerOptions,
  Executor,
  ExecutorEvent,
  ImageInspect,
  PullOptions,
  TaskContainer,
} from "../executor.js";
import { DockerController } from "./docker-controller.js";
import { abortOption, classifyDockerError } from "./docker-errors.js";
import { dockerOptions } from "./docker-host.js";
import { DockerEventStream } from "./event-stream.js";
import { DockerHostNetworks } from "./docker-networks.js";
import { inspectImage, pullImage } from "./image-pull.js";
import { TaskLabel } from "./labels.js";
import { healthFromAction } from "./snapshot.js";
import { StartLimit } from "./start-limit.js";
import type { TaskFiles } from "../../secrets/task-files.js";

export interface DockerExecutorOptions {
  readonly logger: Logger;
  /** `unix:///var/run/docker.sock` (the default), a socket path, or `tcp://host:port`. */
  readonly host?: string;
  /**
   * This agent's node id: when set, only containers labelled with it are listed and watched, so
   * that several agents may share one daemon (in tests).
   */
  readonly nodeId?: string;
  /** Times the event stream's reconnections and the controllers' wait for a late oom event. */
  readonly clock?: Clock;
  /** Reconnection of the event stream; default 100 ms doubling up to 5 s. */
  readonly backoff?: BackoffOptions;
  /** Where the files of secrets and configs go (TaskFiles.open); without it, tasks that use them fail. */
  readonly files?: TaskFiles;
}

export class DockerExecutor implements Executor {
  /** The daemon's client, shared with the agent's container calls (calls/). */
  readonly docker: Docker;
  private readonly logger: Logger;
  private readonly nodeId: string | undefined;
  private readonly clock: Clock | undefined;
  private readonly files: TaskFiles | undefined;
  private readonly events: DockerEventStream;
  private readonly controllers = new Set<DockerController>();
  /** Docker's bridge networks of the data plane, and its readiness that tasks with networks wait for. */
  readonly hostNetworks: DockerHostNetworks;
  /** How many container starts are in flight on the daemon, tuned to it (start-limit.ts). */
  readonly starts: StartLimit;

  constructor(options: DockerExecutorOptions) {
    this.logger = componentLogger(options.logger, "executor");
    this.docker = new Docker(dockerOptions(options.host));
    this.nodeId = options.nodeId;
    this.clock = options.clock;
    this.files = options.files;
    this.hostNetworks = new DockerHostNetworks(this.docker);
    const clock = options.clock ?? systemClock;
    this.starts = new StartLimit({
      now: () => clock.now(),
      onChange: (change) => this.logger.debug(change, "container start limit changed"),
    });
    this.events = new DockerEventStream(this.docker, {
      logger: this.logger,
      ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}),
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
      ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
    });
  }

  async describe(signal?: AbortSignal): Promise<NodeDescription> {
    try {
      // @types/dockerode (v4) does not declare the signal option of these two calls; they are short.
      const [info, version] = await raceAbort(
        Promise.all([this.docker.info() as Promise<DockerInfo>, this.docker.version()]),
        signal,
      );
      return {
        hostname: info.Name,
        platform: { os: version.Os || info.OSType, architecture: version.Arch || info.Architecture },
        resources: { nanoCpus: info.NCPU * 1e9, memoryBytes: info.MemTotal, pids: 0, generic: [] },
        engine: {
          engineVersion: info.ServerVersion,
          labels: parseLabels(info.Labels ?? []),
          plugins: enginePlugins(info.Plugins),
        },
        dataPathAddr: "",
        networkDataPlane: false,
      };
    } catch (err: unknown) {
      throw classifyDockerError(err, "describing the docker host");
    }
  }

  controller(task: Task, options: ControllerOptions = {}): Controller {
    const controller = new DockerController(task, {
      docker: this.docker,
      events: this.events,
      logger: this.logger,
      onClose: (c) => this.controllers.delete(c),
      files: this.files,
      dependencies: options.dependencies,
      networks: () => this.hostNetworks.readiness,
      starts: this.starts,
      ...(this.clock !== undefined ? { clock: this.clock } : {}),
      ...(options.ports !== undefined ? { ports: options.ports } : {}),
      ...(options.node !== undefined ? { node: options.node } : {}),
    });
    this.controllers.add(controller);
    return controller;
  }

  async list(signal?: AbortSignal): Promise<TaskContainer[]> {
    const label: string[] = [TaskLabel.taskId];
    if (this.nodeId !== undefined) label.push(`${TaskLabel.nodeId}=${this.nodeId}`);
    let containers: ContainerInfo[];
    try {
      containers = await this.docker.listContainers({ all: true, filters: { label }, ...abortOption(signal) });
    } catch (err: unknown) {
      throw classifyDockerError(err, "listing task containers");
    }
    return containers.map(taskContainer);
  }

  pull(image: string, options: PullOptions = {}): Promise<void> {
    return pullImage(this.docker, image, this.logger, options);
  }

  inspectImage(image: string, signal?: AbortSignal): Promise<ImageInspect | undefined> {
    return inspectImage(this.docker, image, signal);
  }

  subscribe(listener: (event: ExecutorEvent) => void): () => void {
    return this.events.subscribeAll((event) => {
      const health = healthFromAction(event.action);
      const exitCode = event.action === "die" ? Number(event.attributes["exitCode"]) : undefined;
      listener({
        taskId: event.taskId,
        containerId: event.containerId,
        action: health === undefined ? event.action : "health_status",
        ...(health !== undefined ? { health } : {}),
        ...(exitCode !== undefined && Number.isInteger(exitCode) ? { exitCode } : {}),
      });
    });
  }

  /** Resolves once the event stream is connected; for callers that want to know the daemon answers. */
  ready(signal?: AbortSignal): Promise<void> {
    return this.events.ready(signal);
  }

  /** Closes the controllers (their waits end with a temporary error) and the event stream. */
  async close(): Promise<void> {
    for (const controller of [...this.controllers]) controller.close();
    await this.events.close();
  }
}

/** The part of `GET /info` used here (dockerode types it loosely). */
interface DockerInfo {
  Name: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  ServerVersion: string;
  Labels?: string[];
  Plugins?: Partial<Record<PluginType, string[] | null>>;
}

const PLUGIN_TYPES = ["Volume", "Network", "Authorization", "Log"] as const;
type PluginType = (typeof PLUGIN_TYPES)[number];

/** The engine's plugins as Docker describes a swarm node's: by type, then name. */
export function enginePlugins(plugins: DockerInfo["Plugins"]): EnginePlugin[] {
  const out: EnginePlugin[] = [];
  for (const type of PLUGIN_TYPES) for (const name of plugins?.[type] ?? []) out.push({ type, name });
  return out.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

function parseLabels(labels: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of labels) {
    const eq = entry.indexOf("=");
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
    else if (entry !== "") out[entry] = "";
  }
  return out;
}

function taskContainer(c: ContainerInfo): TaskContainer {
  const labels = c.Labels ?? {};
  return {
    containerId: c.Id,
    name: (c.Names[0] ?? "").replace(/^\//, ""),
    taskId: labels[TaskLabel.taskId] ?? "",
    serviceId: labels[TaskLabel.serviceId] ?? "",
    serviceName: labels[TaskLabel.serviceName] ?? "",
    nodeId: labels[TaskLabel.nodeId] ?? "",
    slot: Number(labels[TaskLabel.slot] ?? 0) || 0,
    state: c.State as ContainerRunState,
    image: c.Image,
    labels,
  };
}
