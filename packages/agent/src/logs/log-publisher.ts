// The agent's side of the log path: while a session with the leader lasts, listen for log
// subscriptions there and publish the matching lines of this node's containers, one PublishLogs
// stream per subscription (backlog, then the caught-up mark or the close, then with follow the
// lines that come).
import type * as grpc from "@grpc/grpc-js";
import {
  LogsClient,
  componentLogger,
  errorMessage,
  type ListenSubscriptionsResponse,
  type LogSubscription,
  type LogMessage,
  type Logger,
  type PublishLogsRequest,
} from "@shoal/shared";
import type { LogSource } from "../exec/log-source.js";

export interface LogPublisherOptions {
  /** The manager of the session (the leader). */
  readonly manager: string;
  readonly nodeId: string;
  readonly sessionId: string;
  readonly source: LogSource;
  readonly logger: Logger;
  /** The session's way to the managers (mutual TLS with the node's certificate). */
  readonly channel: { readonly credentials: grpc.ChannelCredentials; readonly options?: grpc.ChannelOptions };
}

/** Serves log subscriptions until `signal` aborts (the session ends) or the manager closes the stream. */
export async function runLogPublisher(options: LogPublisherOptions, signal: AbortSignal): Promise<void> {
  const logger = componentLogger(options.logger, "log-publisher");
  const client = new LogsClient(options.manager, options.channel.credentials, options.channel.options ?? {});
  const running = new Map<string, AbortController>();
  const call = client.listenSubscriptions({ nodeId: options.nodeId, sessionId: options.sessionId });
  const cancel = (): void => call.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for await (const res of call as AsyncIterable<ListenSubscriptionsResponse>) {
      const sub = res.subscription;
      if (!sub) continue;
      if (sub.close) {
        running.get(sub.id)?.abort();
        running.delete(sub.id);
        continue;
      }
      const stop = new AbortController();
      running.set(sub.id, stop);
      void publish(client, options, sub, AbortSignal.any([signal, stop.signal]), logger).finally(() =>
        running.delete(sub.id),
      );
    }
  } catch (err: unknown) {
    if (!signal.aborted) logger.debug({ err: errorMessage(err) }, "log subscriptions stream ended");
  } finally {
    signal.removeEventListener("abort", cancel);
    for (const c of running.values()) c.abort();
    client.close();
  }
}

async function publish(
  client: LogsClient,
  options: LogPublisherOptions,
  sub: LogSubscription,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  const stream = client.publishLogs(() => undefined);
  const send = (req: Partial<PublishLogsRequest>): void => {
    stream.write({
      subscriptionId: sub.id,
      nodeId: options.nodeId,
      messages: [],
      caughtUp: false,
      close: false,
      error: "",
      ...req,
    });
  };
  let error = "";
  try {
    const selector = sub.selector ?? { serviceIds: [], taskIds: [] };
    const opts = sub.options ?? { follow: false, tail: -1, stdout: true, stderr: true, since: undefined };
    for await (const chunk of options.source.read(selector, opts, signal)) {
      if (chunk === "caught-up") send({ caughtUp: true });
      else for (const messages of byteBatches(chunk)) send({ messages });
    }
  } catch (err: unknown) {
    if (!signal.aborted) {
      error = errorMessage(err);
      logger.debug({ subscription: sub.id, err: error }, "cannot read logs");
    }
  } finally {
    if (!signal.aborted || error !== "") send({ close: true, error });
    stream.end();
  }
}

/** Lines per message are bounded by bytes: a manager receives gRPC messages of at most 4 MB. */
export const MAX_PUBLISHED_BYTES = 1024 * 1024;

/** `lines` in order, cut into batches of at most `maxBytes` of data (a longer line goes alone). */
export function byteBatches(lines: readonly LogMessage[], maxBytes: number = MAX_PUBLISHED_BYTES): LogMessage[][] {
  const batches: LogMessage[][] = [];
  let batch: LogMessage[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (batch.length > 0 && bytes + line.data.byteLength > maxBytes) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(line);
    bytes += line.data.byteLength;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
