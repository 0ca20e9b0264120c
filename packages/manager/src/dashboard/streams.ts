// The dashboard's server-sent event streams other than the watch: the cluster's events (the
// Events API), logs (the Logs API, as the Docker API reads them: LoopbackLogs) and stats (the
// Containers API: one stats call per task container). Each reads its source as the browser reads
// the stream: a browser that does not keep up slows its source down (write, then wait for
// drain), never fills the manager's memory.
import type { ServerResponse } from "node:http";
import {
  EventAction,
  EventType,
  InvalidArgumentError,
  LogStream,
  summariseStats,
  ContainerCallOpen,
  ContainerOp,
  type Event,
  type LogMessage,
} from "@shoal/shared";
import type { ContainerCalls } from "../containers/container-calls-client.js";
import { rfc3339Nano } from "../dockerapi/log-frames.js";
import type { ClusterEventView, LogLine, StatsSample } from "./dashboard-package.js";

/** A response as a server-sent event stream. */
export class SseStream {
  constructor(readonly res: ServerResponse) {}

  open(): void {
    this.res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    });
    this.res.flushHeaders();
  }

  /** Writes an event; resolves once the connection can take more. */
  async send(event: string, data: unknown): Promise<void> {
    if (!this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off("drain", done).off("close", done);
        resolve();
      };
      this.res.once("drain", done).once("close", done);
    });
  }
}

const lower = (name: string | undefined): string => (name ?? "").toLowerCase();

export function eventView(e: Event): ClusterEventView {
  return {
    time: e.time?.toISOString() ?? "",
    type: lower(EventType[e.type]),
    action: lower(EventAction[e.action]),
    id: e.id,
    name: e.name,
    changes: e.changes.map((c) => ({ field: c.field, old: c.old, new: c.new })),
    attributes: { ...e.attributes },
  };
}

export function logLine(m: LogMessage): LogLine {
  return {
    time: rfc3339Nano(m.timestamp),
    taskId: m.context?.taskId ?? "",
    nodeId: m.context?.nodeId ?? "",
    stream: m.stream === LogStream.STDERR ? "stderr" : "stdout",
    line: Buffer.from(m.data).toString("utf8").replace(/\n$/, ""),
  };
}

/** `?tail=N` (default 100; "all" or -1: everything). */
export function tailParam(raw: string | null): number {
  if (raw === null || raw === "") return 100;
  if (raw === "all" || raw === "-1") return -1;
  if (!/^\d{1,7}$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a number of lines`, { field: "tail" });
  return Number(raw);
}

export { LoopbackEvents } from "../events/loopback-events.js";

export async function streamEvents(sse: SseStream, batches: AsyncIterable<Event[]>): Promise<void> {
  for await (const batch of batches) for (const e of batch) await sse.send("event", eventView(e));
}

export async function streamLogs(sse: SseStream, batches: AsyncIterable<LogMessage[]>): Promise<void> {
  for await (const batch of batches) for (const m of batch) await sse.send("log", logLine(m));
}

/** A task container to sample: its task and the container's id. */
export interface StatsTarget {
  readonly taskId: string;
  readonly containerId: string;
}

/** Stats of each target, about every second, until `signal` aborts or every call ended. */
export async function streamStats(
  sse: SseStream,
  calls: ContainerCalls,
  targets: readonly StatsTarget[],
  now: () => number,
  signal: AbortSignal,
): Promise<void> {
  await Promise.all(
    targets.map(async (t) => {
      const call = calls.open(
        ContainerCallOpen.fromPartial({ container: t.taskId, op: ContainerOp.STATS, stats: { stream: true } }),
        signal,
      );
      try {
        for await (const res of call.responses) {
          if (res.output?.$case !== "json") continue;
          const sample: StatsSample = {
            time: new Date(now()).toISOString(),
            taskId: t.taskId,
            containerId: t.containerId,
            ...summariseStats(JSON.parse(Buffer.from(res.output.value).toString("utf8"))),
          };
          await sse.send("stats", sample);
        }
      } catch (err: unknown) {
        if (!signal.aborted) await sse.send("error", { taskId: t.taskId, message: (err as Error).message });
      }
    }),
  );
}
