// GET /services/{id}/logs and /tasks/{id}/logs: the Logs API of the manager (a stream merged in
// timestamp order by the leader), written out in Docker's multiplexed stream format.
import {
  InvalidArgumentError,
  LogsClient,
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  fromServiceError,
  type TlsMaterial,
  type LogMessage,
  type SubscribeLogsRequest,
  type SubscribeLogsResponse,
} from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { formatLine, frame } from "./log-frames.js";
import { isTrue } from "./nodes.js";
import type { DockerRequest, Handler } from "./router.js";

/** A log subscription as batches of lines; ends when the stream does, or when `signal` aborts. */
export interface LogsCaller {
  subscribe(request: SubscribeLogsRequest, signal: AbortSignal): AsyncIterable<LogMessage[]>;
}

export class LoopbackLogs implements LogsCaller {
  private readonly client: LogsClient;

  constructor(address: string, material: TlsMaterial) {
    this.client = new LogsClient(address, channelCredentials(material), MANAGER_CHANNEL_OPTIONS);
  }

  async *subscribe(request: SubscribeLogsRequest, signal: AbortSignal): AsyncIterable<LogMessage[]> {
    const call = this.client.subscribeLogs(request);
    const cancel = (): void => call.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      for await (const res of call as AsyncIterable<SubscribeLogsResponse>) yield res.messages;
    } catch (err: unknown) {
      if (!signal.aborted) throw fromServiceError(err);
    } finally {
      signal.removeEventListener("abort", cancel);
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }
}

function tailParam(raw: string | null): number {
  if (raw === null || raw === "" || raw === "all") return -1;
  if (!/^\d+$/.test(raw))
    throw new InvalidArgumentError(`"${raw}" is not a number of lines or "all"`, { field: "tail" });
  return Number(raw);
}

function sinceParam(raw: string | null): { seconds: number; nanos: number } | undefined {
  if (raw === null || raw === "" || raw === "0") return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(raw);
  if (!m) throw new InvalidArgumentError(`"${raw}" is not a time in seconds since the epoch`, { field: "since" });
  return { seconds: Number(m[1]), nanos: Number((m[2] ?? "").padEnd(9, "0")) };
}

/** Streams a log subscription as Docker's multiplexed stream, or raw (`tty`: a TTY container's logs). */
export async function stream(
  ctx: DockerApiContext,
  req: DockerRequest,
  request: SubscribeLogsRequest,
  tty = false,
): Promise<"streamed"> {
  const format = { timestamps: isTrue(req.query.get("timestamps")), details: isTrue(req.query.get("details")) };
  const batches = ctx.logs.subscribe(request, req.signal)[Symbol.asyncIterator]();
  // The first batch (or the end, or an error) comes before the headers, so that a failure is
  // still answered with a status and a JSON message.
  let next = await batches.next();
  req.res.writeHead(200, { "Content-Type": "application/vnd.docker.multiplexed-stream" });
  req.res.flushHeaders();
  try {
    while (!next.done) {
      const frames = next.value.map((m) => (tty ? formatLine(m, format) : frame(m.stream, formatLine(m, format))));
      if (frames.length > 0 && !req.res.write(Buffer.concat(frames))) {
        await new Promise((resolve) => req.res.once("drain", resolve));
      }
      next = await batches.next();
    }
  } catch (err: unknown) {
    ctx.logger.debug({ err }, "log stream ended with an error");
  }
  req.res.end();
  return "streamed";
}

/** The log options of a request's query (follow, tail, stdout, stderr, since). */
export function logOptions(req: DockerRequest): SubscribeLogsRequest["options"] {
  const stdout = isTrue(req.query.get("stdout"));
  const stderr = isTrue(req.query.get("stderr"));
  if (!stdout && !stderr) {
    throw new InvalidArgumentError("you must choose at least one stream", { field: "stdout" });
  }
  return {
    follow: isTrue(req.query.get("follow")),
    tail: tailParam(req.query.get("tail")),
    stdout,
    stderr,
    since: sinceParam(req.query.get("since")),
  };
}

export function logHandlers(ctx: DockerApiContext): Record<string, Handler> {
  const options = logOptions;
  return {
    service: async (req) => {
      const opts = options(req);
      const { service } = await ctx.control.call("getService", { serviceId: req.params["id"]! });
      return stream(ctx, req, { selector: { serviceIds: [service!.id], taskIds: [] }, options: opts });
    },
    task: async (req) => {
      const opts = options(req);
      const { task } = await ctx.control.call("getTask", { taskId: req.params["id"]! });
      return stream(ctx, req, { selector: { serviceIds: [], taskIds: [task!.id] }, options: opts });
    },
  };
}
