import { Duplex } from "node:stream";
import type * as grpc from "@grpc/grpc-js";
import type { ServeContainerCallRequest, ServeContainerCallResponse } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { CallChannel, type CallInput } from "../../src/containers/call-channel.js";

/** A ServeContainerCall stream whose write side can be made full, fed by the test. */
class FakeStream extends Duplex {
  readonly written: ServeContainerCallRequest[] = [];
  full = false;
  cancelled = false;
  endedByAgent = false;

  constructor() {
    super({ objectMode: true });
  }
  override _read(): void {}
  override write(chunk: ServeContainerCallRequest): boolean {
    this.written.push(chunk);
    return !this.full;
  }
  override end(): this {
    this.endedByAgent = true;
    return this;
  }
  cancel(): void {
    this.cancelled = true;
  }
  input(input: CallInput): void {
    this.push({ input: { input } } satisfies ServeContainerCallResponse);
  }
}

function channel(parent = new AbortController().signal): { stream: FakeStream; channel: CallChannel } {
  const stream = new FakeStream();
  const c = new CallChannel(
    stream as unknown as grpc.ClientDuplexStream<ServeContainerCallRequest, ServeContainerCallResponse>,
    "call1",
    parent,
  );
  return { stream, channel: c };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("CallChannel", () => {
  it("names the call first, then sends outputs", async () => {
    const { stream, channel: c } = channel();
    await c.send({ $case: "exit", value: { exitCode: 0 } });
    c.end();
    expect(stream.written).toEqual([
      { callId: "call1", output: undefined },
      { callId: "", output: { output: { $case: "exit", value: { exitCode: 0 } } } },
    ]);
    expect(stream.endedByAgent).toBe(true);
  });

  it("waits for the stream to drain once a write says it is full", async () => {
    const { stream, channel: c } = channel();
    stream.full = true;
    let sent = false;
    const sending = c.send({ $case: "json", value: Buffer.from("{}") }).then(() => (sent = true));
    await tick();
    expect(sent).toBe(false);
    stream.emit("drain");
    await sending;
    expect(sent).toBe(true);
  });

  it("hands over input that came before the handler, in order", async () => {
    const { stream, channel: c } = channel();
    stream.input({ $case: "stdin", value: Buffer.from("a") });
    stream.input({ $case: "closeStdin", value: true });
    await tick();
    const got: string[] = [];
    c.onInput((input) => void got.push(input.$case));
    await tick();
    expect(got).toEqual(["stdin", "closeStdin"]);
  });

  it("aborts its signal when the manager ends the call, and cancels the stream", async () => {
    const { stream, channel: c } = channel();
    c.onInput(() => undefined);
    stream.push(null);
    await tick();
    expect(c.signal.aborted).toBe(true);
    expect(stream.cancelled).toBe(true);
    // A send after that is dropped; a full stream does not block it.
    stream.full = true;
    await c.send({ $case: "exit", value: { exitCode: 1 } });
    c.end();
    expect(stream.endedByAgent).toBe(false);
  });

  it("aborts with the session, and a send blocked on a full stream returns", async () => {
    const session = new AbortController();
    const { stream, channel: c } = channel(session.signal);
    stream.full = true;
    const sending = c.send({ $case: "json", value: Buffer.from("{}") });
    session.abort();
    await sending;
    expect(c.signal.aborted).toBe(true);
    expect(stream.cancelled).toBe(true);
  });
});
