// One ServeContainerCall stream seen from the agent: outputs go out with the gRPC write's
// backpressure honoured (a fast exec waits for the manager rather than filling memory), the
// client's input comes in as fast as the serving code takes it, and `signal` aborts when the call
// is over from the manager's side (the manager ended or broke the stream, or the session ended).
import type * as grpc from "@grpc/grpc-js";
import {
  errorMessage,
  type ContainerCallError,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type ListenContainerCallsResponse,
  type ServeContainerCallRequest,
  type ServeContainerCallResponse,
} from "@shoal/shared";

export type CallOutput = NonNullable<ContainerCallResponse["output"]>;
export type CallInput = NonNullable<ContainerCallRequest["input"]>;
/** Takes one input; the next is read once it resolves. */
export type InputHandler = (input: CallInput) => Promise<void> | void;

/** What serves container calls on a node's runtime (the Docker executor's DockerContainerCalls). */
export interface ContainerCallServer {
  /**
   * Serves `call` (already checked: checkCall) on `channel` for node `nodeId`: `started`, the
   * output, `exit`; a rejection is sent to the client as an `error` (callError).
   */
  serve(call: ListenContainerCallsResponse, channel: CallChannel, nodeId: string): Promise<void>;
}

type ServeStream = grpc.ClientDuplexStream<ServeContainerCallRequest, ServeContainerCallResponse>;

export class CallChannel {
  private readonly cancelled = new AbortController();
  /** Aborts when the manager ends or breaks the call, or `parent` aborts (the session ended). */
  readonly signal: AbortSignal;
  private handler: InputHandler | undefined;
  private wakeHandler: (() => void) | undefined;
  private ended = false;
  /** Why the manager's side ended (for logs). */
  reason = "";

  constructor(
    private readonly stream: ServeStream,
    callId: string,
    parent: AbortSignal,
  ) {
    this.signal = AbortSignal.any([parent, this.cancelled.signal]);
    stream.on("error", () => undefined); // read through the loop below
    const cancel = (): void => stream.cancel();
    this.signal.addEventListener("abort", cancel, { once: true });
    stream.write({ callId, output: undefined });
    void this.readInputs();
  }

  /** Sends one output; resolves once the stream can take more (or the call is over). */
  async send(output: CallOutput): Promise<void> {
    if (this.ended || this.signal.aborted) return;
    if (this.stream.write({ callId: "", output: { output } })) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off("drain", done);
        this.signal.removeEventListener("abort", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Sends an error and ends the call. */
  async fail(error: ContainerCallError): Promise<void> {
    await this.send({ $case: "error", value: error });
    this.end();
  }

  /** Ends the call from the agent's side. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    // Input that comes after the end is dropped rather than waited on.
    this.handler ??= () => undefined;
    this.wakeHandler?.();
    if (!this.signal.aborted) this.stream.end();
  }

  /** From now on the client's input goes to `handler` (what came before is handed over first). */
  onInput(handler: InputHandler): void {
    this.handler = handler;
    this.wakeHandler?.();
  }

  private async readInputs(): Promise<void> {
    try {
      for await (const message of this.stream as AsyncIterable<ServeContainerCallResponse>) {
        const input = message.input?.input;
        if (input === undefined || input.$case === "open") continue;
        while (this.handler === undefined) {
          await new Promise<void>((resolve) => (this.wakeHandler = resolve));
        }
        // A failed input (a resize of a process that just ended) does not end the call.
        await Promise.resolve(this.handler(input)).catch(() => undefined);
      }
      this.reason = "the manager ended the call";
    } catch (err: unknown) {
      this.reason = errorMessage(err);
    } finally {
      this.cancelled.abort();
    }
  }
}
