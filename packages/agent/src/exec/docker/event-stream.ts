// One Docker event stream per executor, fanned out to the controllers by task id.
//
// The stream asks only for container events of task containers (label com.shoal.task.id, and
// com.shoal.node.id when the executor has a node id) and only for the actions that change what a
// task is doing; health probes alone would otherwise send three exec_* events per probe.
//
// Nothing is missed between two streams, nor between subscribing and the first look at a
// container: each (re)connection asks Docker to replay events `since` the last one seen (or a
// second before the first connection; Docker keeps a buffer of recent events and subscribes
// atomically with the replay), and after each connection every subscriber is told to look at
// its container again ("resync"), which covers a gap longer than Docker's buffer. Events only
// tell a controller that something changed; it reads the facts with an inspect, so replayed or
// duplicate events do no harm.
import { Backoff, errorMessage, systemClock, type BackoffOptions, type Clock, type Logger } from "@shoal/shared";
import type Docker from "dockerode";
import { TaskLabel } from "./labels.js";

/** The actions the stream subscribes to. `health_status` matches "health_status: healthy" too. */
export const WATCHED_ACTIONS = ["create", "start", "die", "oom", "kill", "stop", "destroy", "health_status"] as const;

export interface DockerEvent {
  /** Docker's action: "start", "die", "health_status: healthy", ... */
  readonly action: string;
  readonly containerId: string;
  readonly taskId: string;
  /** The container's labels plus event facts (name, image, exitCode, ...). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Seconds since the epoch, the daemon's clock. */
  readonly time: number;
}

export interface TaskEventListener {
  onEvent(event: DockerEvent): void;
  /** The stream (re)connected: events may have been missed, look again. */
  onResync(): void;
}

/** What a controller needs of the stream: the events of its own task's container. */
export interface TaskEventSource {
  /** Calls `listener` for the events of one task's container; returns the unsubscribe function. */
  subscribeTask(taskId: string, listener: TaskEventListener): () => void;
}

export interface DockerEventStreamOptions {
  readonly logger: Logger;
  /** Watch only the containers of this node. */
  readonly nodeId?: string;
  readonly clock?: Clock;
  readonly backoff?: BackoffOptions;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

export class DockerEventStream implements TaskEventSource {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly filters: Record<string, string[]>;
  private readonly byTask = new Map<string, Set<TaskEventListener>>();
  private readonly everyone = new Set<(event: DockerEvent) => void>();
  private readonly stopping = new AbortController();
  private connectWaiters = new Set<() => void>();
  private running: Promise<void> | undefined;
  private stream: NodeJS.ReadableStream | undefined;
  private lastEventTime: number | undefined;
  private connected = false;
  /** Number of connections made so far; tests read it. */
  connections = 0;

  constructor(
    private readonly docker: Docker,
    options: DockerEventStreamOptions,
  ) {
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 100, maxMs: 5_000, ...options.backoff });
    const label: string[] = [TaskLabel.taskId];
    if (options.nodeId !== undefined) label.push(`${TaskLabel.nodeId}=${options.nodeId}`);
    this.filters = { type: ["container"], label, event: [...WATCHED_ACTIONS] };
  }

  /** Calls `listener` for the events of one task's container; returns the unsubscribe function. */
  subscribeTask(taskId: string, listener: TaskEventListener): () => void {
    this.ensureRunning();
    let set = this.byTask.get(taskId);
    if (set === undefined) this.byTask.set(taskId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byTask.get(taskId) === set) this.byTask.delete(taskId);
    };
  }

  /** Calls `listener` for every event; returns the unsubscribe function. */
  subscribeAll(listener: (event: DockerEvent) => void): () => void {
    this.ensureRunning();
    this.everyone.add(listener);
    return () => this.everyone.delete(listener);
  }

  /** Resolves once the stream is connected (starting it if need be). */
  async ready(signal?: AbortSignal): Promise<void> {
    this.ensureRunning();
    signal?.throwIfAborted();
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.connectWaiters.delete(done);
        reject(signal?.reason as Error);
      };
      this.connectWaiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Ends the stream; idempotent. */
  async close(): Promise<void> {
    if (!this.stopping.signal.aborted) this.stopping.abort(new Error("event stream closed"));
    destroy(this.stream);
    await this.running;
  }

  private ensureRunning(): void {
    if (this.running !== undefined || this.stopping.signal.aborted) return;
    this.running = this.run().catch((err: unknown) => {
      this.logger.error({ err: errorMessage(err) }, "docker event stream loop ended");
    });
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      // A second before now on the first connection; the last event's second afterwards.
      const since = this.lastEventTime ?? Math.floor(this.clock.now() / 1000) - 1;
      try {
        const options = { since, filters: this.filters, abortSignal: signal } as Docker.GetEventsOptions;
        const stream = await this.docker.getEvents(options);
        this.stream = stream;
        this.connections++;
        this.backoff.reset();
        this.setConnected(true);
        this.logger.debug({ since, connection: this.connections }, "docker event stream connected");
        this.resyncAll();
        await this.pump(stream);
        if (!signal.aborted) this.logger.warn("docker event stream ended; reconnecting");
      } catch (err: unknown) {
        if (signal.aborted) break;
        this.logger.warn({ err: errorMessage(err) }, "docker event stream failed; reconnecting");
      } finally {
        this.setConnected(false);
        destroy(this.stream);
        this.stream = undefined;
      }
      await this.clock.sleep(this.backoff.next(), signal).catch(() => undefined);
    }
  }

  /** Reads newline-delimited JSON events until the stream ends. */
  private async pump(stream: NodeJS.ReadableStream): Promise<void> {
    let buffer = "";
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      buffer += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line !== "") this.handleLine(line);
      }
    }
  }

  private handleLine(line: string): void {
    let raw: RawEvent;
    try {
      raw = JSON.parse(line) as RawEvent;
    } catch {
      this.logger.warn({ line: line.slice(0, 200) }, "unparsable docker event");
      return;
    }
    const attributes = raw.Actor?.Attributes ?? {};
    const taskId = attributes[TaskLabel.taskId];
    if (raw.Type !== "container" || taskId === undefined || raw.Action === undefined) return;
    const event: DockerEvent = {
      action: raw.Action,
      containerId: raw.Actor?.ID ?? "",
      taskId,
      attributes,
      time: raw.time ?? 0,
    };
    if (event.time > 0) this.lastEventTime = event.time;
    this.logger.trace({ action: event.action, taskId, containerId: event.containerId }, "docker event");
    for (const listener of this.byTask.get(taskId) ?? []) this.safely(() => listener.onEvent(event));
    for (const listener of this.everyone) this.safely(() => listener(event));
  }

  private resyncAll(): void {
    for (const set of this.byTask.values()) for (const listener of set) this.safely(() => listener.onResync());
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
    if (!connected) return;
    const waiters = this.connectWaiters;
    this.connectWaiters = new Set();
    for (const waiter of waiters) waiter();
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err: unknown) {
      this.logger.error({ err: errorMessage(err) }, "docker event listener threw");
    }
  }
}

function destroy(stream: NodeJS.ReadableStream | undefined): void {
  (stream as { destroy?: () => void } | undefined)?.destroy?.();
}
