// What the agent knows of a container runtime: an Executor per host, and a Controller per task.
// The agent never sees Docker itself; the Docker implementation lives in exec/docker/ and an
// in-memory twin in exec/fake/. Every operation that waits takes an AbortSignal.
import type { HealthState, NodeDescription, PortConfig, RegistryAuth, Task } from "@shoal/shared";
import type { HostNetworks } from "./host-networks.js";
import type { TemplateNode } from "./template.js";
import type { Dependencies } from "../secrets/dependency-store.js";

/** The lifecycle state of a container as the runtime names it (Docker's `State.Status`). */
export type ContainerRunState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

/** A container the executor made for a task, found again by its labels (e.g. after a restart). */
export interface TaskContainer {
  readonly containerId: string;
  readonly name: string;
  readonly taskId: string;
  readonly serviceId: string;
  readonly serviceName: string;
  readonly nodeId: string;
  /** The replicated slot; 0 for a global task. */
  readonly slot: number;
  readonly state: ContainerRunState;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A snapshot of a task's container. */
export interface ContainerSnapshot {
  readonly containerId: string;
  readonly state: ContainerRunState;
  readonly running: boolean;
  /** Meaningful once the container has exited. */
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** NONE when the container has no health check. */
  readonly health: HealthState;
  /** The runtime's own error, e.g. why the process could not start ("" when none). */
  readonly error: string;
  readonly pid: number;
}

/** How a task's process ended when it ended well (exit code 0). */
export interface ExitStatus {
  readonly exitCode: number;
  readonly oomKilled: boolean;
}

/** A change to a task's container, as seen on the runtime's event stream. */
export interface ExecutorEvent {
  readonly taskId: string;
  readonly containerId: string;
  /** start, die, oom, health_status, destroy, ... */
  readonly action: string;
  /** For health_status events. */
  readonly health?: HealthState;
  /** For die events. */
  readonly exitCode?: number;
}

/** What a controller needs beyond the task itself. */
export interface ControllerOptions {
  /**
   * The service's published ports. Only host-mode ports are published by the container itself.
   * (The Task message does not carry its service's endpoint yet, so the caller passes it.)
   */
  readonly ports?: readonly PortConfig[];
  /** This node, for the templates of the task's container spec ({{.Node.Hostname}}, ...). */
  readonly node?: TemplateNode | undefined;
  /** The secrets and configs this node holds, for the files of the task's references. */
  readonly dependencies?: Dependencies;
}

/** One line of an image pull's progress, as the runtime reports it (Docker's progress JSON). */
export interface PullProgress {
  /** e.g. "Pulling fs layer", "Downloading", "Digest: sha256:...", "Status: Downloaded newer image for x:1". */
  readonly status: string;
  /** The layer (or tag) the line is about; "" for a line about the image. */
  readonly id: string;
  /** The runtime's progress bar; "" when none. */
  readonly progress: string;
  /** With a progress bar: bytes done and in all; 0 otherwise. */
  readonly current: number;
  readonly total: number;
}

/** An image as the runtime's inspect returns it: Docker's JSON object, untouched. */
export type ImageInspect = Readonly<Record<string, unknown>>;

export interface PullOptions {
  /** Registry credentials; default anonymous. */
  readonly auth?: RegistryAuth | undefined;
  /** "os[/arch[/variant]]" of the image; default the host's. */
  readonly platform?: string | undefined;
  /** Called with each line of progress, in order. */
  readonly onProgress?: ((line: PullProgress) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface Executor {
  /** The host, as the manager should know it. */
  describe(signal?: AbortSignal): Promise<NodeDescription>;
  /** The controller of one task's container; cheap, makes no call until used. */
  controller(task: Task, options?: ControllerOptions): Controller;
  /** Every container this executor made (any state), found by label: what a restarted agent adopts. */
  list(signal?: AbortSignal): Promise<TaskContainer[]>;
  /**
   * Pulls `image` (a reference with a tag or a digest) from its registry, whether the host has it
   * or not: a tag may have moved. Rejects with an ImagePullError carrying the registry's or the
   * daemon's message, or with a temporary ExecError when the daemon cannot be reached or `signal`
   * aborts.
   */
  pull(image: string, options?: PullOptions): Promise<void>;
  /**
   * The image as the runtime's inspect returns it (Docker's object, as the daemon sent it), by
   * name, reference or id; undefined when the host has no such image. Never pulls.
   */
  inspectImage(image: string, signal?: AbortSignal): Promise<ImageInspect | undefined>;
  /** Calls `listener` for each event about a task container; returns the function that stops it. */
  subscribe(listener: (event: ExecutorEvent) => void): () => void;
  /** Stops the event stream and releases resources; idempotent. */
  close(): Promise<void>;
  /** The runtime's bridge networks, for the host's data plane; absent when the runtime has none. */
  readonly hostNetworks?: HostNetworks;
}

/**
 * Drives one task's container. Steps are idempotent, so a restarted agent can repeat any of
 * them: prepare reuses a container made earlier for the same task, start does nothing when the
 * container already runs, shutdown and remove do nothing when there is nothing to stop or remove.
 * Errors are ExecErrors saying whether they are temporary or fatal.
 */
export interface Controller {
  readonly taskId: string;
  /** Pulls the image when missing and creates the container (or finds the one made earlier). */
  prepare(signal?: AbortSignal): Promise<void>;
  /**
   * Starts the container unless it has been started already. When the container has a health
   * check, resolves once it is healthy and rejects with ContainerUnhealthyError when it is not.
   */
  start(signal?: AbortSignal): Promise<void>;
  /**
   * Resolves when the container's process exits with code 0; rejects with a TaskExitError
   * (exit code, OOM flag) otherwise, or with ContainerUnhealthyError's cause after stopping an
   * unhealthy container.
   */
  wait(signal?: AbortSignal): Promise<ExitStatus>;
  /** Stops the container: the spec's stop signal, then SIGKILL after its grace period. */
  shutdown(signal?: AbortSignal): Promise<void>;
  /** Kills the container at once. */
  terminate(signal?: AbortSignal): Promise<void>;
  /** Removes the container and its anonymous volumes, stopping it first if need be. */
  remove(signal?: AbortSignal): Promise<void>;
  /** The container's state now; undefined when there is no container. */
  inspect(signal?: AbortSignal): Promise<ContainerSnapshot | undefined>;
  /** The last health seen: UNKNOWN before anything is known, NONE without a health check. */
  readonly health: HealthState;
  /** Calls `listener` on each health change; returns the function that stops it. */
  onHealth(listener: (health: HealthState) => void): () => void;
  /** Releases the controller's event subscription; the container is left as it is. Idempotent. */
  close(): void;
}
