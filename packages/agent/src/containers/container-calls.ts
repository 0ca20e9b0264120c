// The agent's side of container calls (inspect, top, stats, exec, attach on its task
// containers): while a session with the leader lasts, listen there for the calls the leader hands
// this node and serve each on its own ServeContainerCall stream, on this node's runtime (the
// Docker executor's DockerContainerCalls). Calls are independent: one failing never affects
// another; all end with the session.
import type * as grpc from "@grpc/grpc-js";
import {
  ContainersClient,
  componentLogger,
  errorMessage,
  type ListenContainerCallsResponse,
  type Logger,
} from "@shoal/shared";
import { CallChannel, type ContainerCallServer } from "./call-channel.js";
import { callContainerName, callError, checkCall, invalid } from "./call-logic.js";

export interface ContainerCallsOptions {
  /** The manager of the session (the leader). */
  readonly manager: string;
  readonly nodeId: string;
  readonly sessionId: string;
  /** Serves the calls on this node's runtime. */
  readonly server: ContainerCallServer;
  readonly logger: Logger;
  /** The session's way to the managers (mutual TLS with the node's certificate). */
  readonly channel: { readonly credentials: grpc.ChannelCredentials; readonly options?: grpc.ChannelOptions };
}

/** Serves container calls until `signal` aborts (the session ends) or the manager closes the stream. */
export async function runContainerCalls(options: ContainerCallsOptions, signal: AbortSignal): Promise<void> {
  const logger = componentLogger(options.logger, "container-calls");
  const client = new ContainersClient(options.manager, options.channel.credentials, options.channel.options ?? {});
  const listen = client.listenContainerCalls({ nodeId: options.nodeId, sessionId: options.sessionId });
  const cancel = (): void => listen.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  const serving = new Set<Promise<void>>();
  try {
    for await (const call of listen as AsyncIterable<ListenContainerCallsResponse>) {
      const served = serveContainerCall(client, call, options, logger, signal);
      serving.add(served);
      void served.finally(() => serving.delete(served));
    }
  } catch (err: unknown) {
    if (!signal.aborted) logger.debug({ err: errorMessage(err) }, "container calls stream ended");
  } finally {
    signal.removeEventListener("abort", cancel);
    // The calls in progress go on until they end (with the session at the latest).
    await Promise.allSettled(serving);
    client.close();
  }
}

/** Serves one call on a new ServeContainerCall stream; never rejects. */
async function serveContainerCall(
  client: ContainersClient,
  call: ListenContainerCallsResponse,
  options: ContainerCallsOptions,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const channel = new CallChannel(client.serveContainerCall(), call.callId, signal);
  try {
    const problem = checkCall(call);
    if (problem !== "") return await channel.fail(invalid(problem));
    await options.server.serve(call, channel, options.nodeId);
  } catch (err: unknown) {
    if (!channel.signal.aborted) {
      logger.debug({ call: call.callId, err: errorMessage(err) }, "container call failed");
      await channel.fail(callError(err, callContainerName(call))).catch(() => undefined);
    }
  } finally {
    channel.end();
  }
}
