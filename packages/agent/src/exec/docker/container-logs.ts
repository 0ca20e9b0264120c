// Container logs from the Docker daemon: `docker logs --timestamps` of each of this node's task
// containers that match a selector, demultiplexed (stdout and stderr kept apart) and parsed into
// lines with their nanosecond times. With follow, containers that appear later are picked up by a
// poll of the container list.
import {
  LogStream,
  componentLogger,
  errorMessage,
  type LogMessage,
  type LogOptions,
  type LogSelector,
  type LogTimestamp,
  type Logger,
} from "@shoal/shared";
import Docker from "dockerode";
import type { ContainerInfo } from "dockerode";
import type { Readable } from "node:stream";
import type { LogChunk, LogSource } from "../log-source.js";
import { dockerOptions } from "./docker-host.js";
import { TaskLabel } from "./labels.js";

const POLL_MS = 1000;
/** A followed container whose backlog brought nothing new for this long is caught up. */
const IDLE_MS = 200;
const CATCH_UP_MAX_MS = 3000;

export interface DockerLogSourceOptions {
  readonly logger: Logger;
  readonly host?: string;
  /** This agent's node id: only its containers are read (agents may share a daemon). */
  readonly nodeId: string;
}

/** Splits Docker's multiplexed stream into frames; keeps a partial frame for the next chunk. */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { stream: LogStream; payload: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: { stream: LogStream; payload: Buffer }[] = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const stream = this.pending[0] === 2 ? LogStream.STDERR : LogStream.STDOUT;
      out.push({ stream, payload: this.pending.subarray(8, 8 + size) });
      this.pending = this.pending.subarray(8 + size);
    }
    return out;
  }
}

/** "2026-11-29T08:35:15.791178452Z hello\n" -> its time and "hello\n". */
export function splitTimestamp(line: Buffer): { timestamp: LogTimestamp | undefined; data: Buffer } {
  const space = line.indexOf(0x20);
  if (space <= 0 || space > 40) return { timestamp: undefined, data: line };
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(line.subarray(0, space).toString("latin1"));
  if (!m) return { timestamp: undefined, data: line };
  const seconds = Math.floor(Date.parse(`${m[1]}Z`) / 1000);
  return { timestamp: { seconds, nanos: Number((m[2] ?? "").padEnd(9, "0")) }, data: line.subarray(space + 1) };
}

function matches(c: ContainerInfo, selector: LogSelector): boolean {
  const labels = c.Labels ?? {};
  return (
    selector.serviceIds.includes(labels[TaskLabel.serviceId] ?? "") ||
    selector.taskIds.includes(labels[TaskLabel.taskId] ?? "")
  );
}

/** A queue from several producers to one async reader. */
class Channel<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }
  async take(signal: AbortSignal): Promise<T[]> {
    while (this.items.length === 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      this.wake = undefined;
    }
    const out = this.items;
    this.items = [];
    return out;
  }
}

export class DockerLogSource implements LogSource {
  private readonly docker: Docker;
  private readonly logger: Logger;

  constructor(private readonly options: DockerLogSourceOptions) {
    this.docker = new Docker(dockerOptions(options.host));
    this.logger = componentLogger(options.logger, "container-logs");
  }

  private async containers(selector: LogSelector, signal: AbortSignal): Promise<ContainerInfo[]> {
    const all = await this.docker.listContainers({
      all: true,
      filters: { label: [`${TaskLabel.nodeId}=${this.options.nodeId}`] },
      abortSignal: signal,
    });
    // Oldest first, so that a task's earlier containers come before its later ones.
    return all.filter((c) => matches(c, selector)).sort((a, b) => a.Created - b.Created);
  }

  async *read(selector: LogSelector, options: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk> {
    const channel = new Channel<LogMessage[] | { done: string }>();
    const seen = new Set<string>();
    const lastData = new Map<string, number>();
    const open = new Set<string>();
    const start = Date.now();
    const attach = (c: ContainerInfo, tail: number): void => {
      seen.add(c.Id);
      open.add(c.Id);
      lastData.set(c.Id, Date.now());
      void this.readContainer(c, options, tail, signal, (lines) => {
        lastData.set(c.Id, Date.now());
        channel.push(lines);
      }).finally(() => channel.push({ done: c.Id }));
    };
    for (const c of await this.containers(selector, signal)) attach(c, options.tail);
    let caughtUp = !options.follow;
    let poll = Date.now() + POLL_MS;
    while (!signal.aborted) {
      if (!options.follow && open.size === 0) return;
      const items = await Promise.race([
        channel.take(signal),
        new Promise<[]>((resolve) => setTimeout(() => resolve([]), IDLE_MS)),
      ]);
      const lines: LogMessage[] = [];
      for (const item of items) {
        if (Array.isArray(item)) lines.push(...item);
        else open.delete(item.done);
      }
      if (lines.length > 0) yield lines;
      if (!caughtUp) {
        const idle = [...open].every((id) => Date.now() - (lastData.get(id) ?? 0) >= IDLE_MS);
        if (idle || Date.now() - start > CATCH_UP_MAX_MS) {
          caughtUp = true;
          yield "caught-up";
        }
      }
      if (options.follow && Date.now() >= poll) {
        poll = Date.now() + POLL_MS;
        try {
          for (const c of await this.containers(selector, signal)) if (!seen.has(c.Id)) attach(c, -1);
        } catch (err: unknown) {
          if (!signal.aborted) this.logger.debug({ err: errorMessage(err) }, "cannot list containers");
        }
      }
    }
  }

  private async readContainer(
    c: ContainerInfo,
    options: LogOptions,
    tail: number,
    signal: AbortSignal,
    emit: (lines: LogMessage[]) => void,
  ): Promise<void> {
    const labels = c.Labels ?? {};
    const context = {
      serviceId: labels[TaskLabel.serviceId] ?? "",
      nodeId: labels[TaskLabel.nodeId] ?? "",
      taskId: labels[TaskLabel.taskId] ?? "",
    };
    const parser = new FrameParser();
    const toLines = (chunk: Buffer): LogMessage[] =>
      parser.push(chunk).map(({ stream, payload }) => {
        const { timestamp, data } = splitTimestamp(payload);
        return { context, stream, timestamp, data: Uint8Array.from(data) };
      });
    const since = options.since ? options.since.seconds + options.since.nanos / 1e9 : 0;
    const common = {
      stdout: options.stdout,
      stderr: options.stderr,
      timestamps: true,
      ...(tail >= 0 ? { tail } : {}),
      ...(since > 0 ? { since } : {}),
      abortSignal: signal,
    };
    const container = this.docker.getContainer(c.Id);
    try {
      if (!options.follow) {
        const buf = (await container.logs({ ...common, follow: false })) as unknown as Buffer;
        emit(toLines(buf));
        return;
      }
      const stream = (await container.logs({ ...common, follow: true })) as unknown as Readable;
      const stop = (): void => void stream.destroy();
      signal.addEventListener("abort", stop, { once: true });
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const lines = toLines(chunk);
          if (lines.length > 0) emit(lines);
        }
      } finally {
        signal.removeEventListener("abort", stop);
      }
    } catch (err: unknown) {
      if (!signal.aborted) this.logger.debug({ container: c.Id, err: errorMessage(err) }, "cannot read logs");
    }
  }
}
