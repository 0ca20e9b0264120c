// The CLI's side of Containers.ContainerCall: one operation (inspect, top, stats, exec) on one
// task container anywhere in the cluster, through a manager, with the client certificate. The
// manager resolves the container (id, id prefix, task id or task name) and forwards the call to
// the agent of the task's node.
import * as grpc from "@grpc/grpc-js";
import type { ContainerOp } from "@shoal/shared";
import {
  ContainersClient,
  ErrorCode,
  ShoalError,
  fromServiceError,
  serverStream,
  type ContainerCallOpen,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type ContainerCallStarted,
} from "@shoal/shared";
import { managerAddresses } from "../../client.js";
import { clientTls, type ClientTls } from "../../tls.js";

/** What a client sends after `open`. */
export type ContainerCallInput = Exclude<ContainerCallRequest["input"], { $case: "open" } | undefined>;

/** One open call: its answers, and input to send. */
export interface ContainerCallSession {
  /** `started`, then the output; a failed call throws a ShoalError. Leaving the loop cancels it. */
  readonly responses: AsyncIterable<ContainerCallResponse>;
  write(input: ContainerCallInput): void;
}

/** `open` with every config at its default but what is given. */
export function containerOpen(
  container: string,
  op: ContainerOp,
  more: Partial<ContainerCallOpen> = {},
): ContainerCallOpen {
  return {
    container,
    op,
    exec: undefined,
    attach: undefined,
    top: undefined,
    stats: undefined,
    size: undefined,
    caller: "",
    ...more,
  };
}

/** Opens container calls on the managers of --manager (or SHOAL_MANAGER), the first first. */
export class ContainerCalls {
  private readonly clients = new Map<string, ContainersClient>();
  private tls: ClientTls | undefined;
  readonly addresses: readonly string[];

  constructor(manager: string | undefined) {
    this.addresses = managerAddresses(manager);
  }

  private async client(addr: string): Promise<ContainersClient> {
    this.tls ??= await clientTls();
    let c = this.clients.get(addr);
    if (!c) {
      c = new ContainersClient(addr, this.tls.credentials, {
        ...this.tls.options,
        "grpc.max_receive_message_length": 64 * 1024 * 1024,
      });
      this.clients.set(addr, c);
    }
    return c;
  }

  /** Opens one call on the manager at `addr` (default: the first). Aborting `signal` cancels it. */
  async open(open: ContainerCallOpen, signal: AbortSignal, addr = this.addresses[0]!): Promise<ContainerCallSession> {
    const call = (await this.client(addr)).containerCall();
    call.on("error", () => undefined); // reported by the responses' iteration
    call.write({ input: { $case: "open", value: open } });
    return {
      responses: serverStream(call, signal),
      write: (input) => {
        if (!call.writableEnded && !call.destroyed && !signal.aborted) call.write({ input });
      },
    };
  }

  /**
   * Opens the call on the first manager that answers, and waits for its first answer (`started`,
   * or the error): a manager that cannot be reached is skipped for the next. The session's
   * responses begin with that answer.
   */
  async start(open: ContainerCallOpen, signal: AbortSignal): Promise<ContainerCallSession> {
    let last: unknown;
    for (const addr of this.addresses) {
      const session = await this.open(open, signal, addr);
      const responses = session.responses[Symbol.asyncIterator]();
      let first: IteratorResult<ContainerCallResponse>;
      try {
        first = await responses.next();
      } catch (err: unknown) {
        if (!isUnreachable(err)) throw err;
        last = err;
        continue;
      }
      async function* replay(): AsyncGenerator<ContainerCallResponse> {
        if (first.done) return;
        yield first.value;
        for (let next = await responses.next(); !next.done; next = await responses.next()) yield next.value;
      }
      return { responses: replay(), write: session.write };
    }
    throw new ShoalError(
      ErrorCode.Unavailable,
      `cannot reach a manager at ${this.addresses.join(", ")} (${(last as Error).message})`,
    );
  }

  /**
   * A call without input (inspect, top, stats): where it landed and its JSON documents (or each
   * given to `onJson` as it comes), from the first manager that answers.
   */
  async collect(
    open: ContainerCallOpen,
    signal: AbortSignal,
    onJson?: (json: unknown, started: ContainerCallStarted | undefined) => void,
  ): Promise<{ started: ContainerCallStarted | undefined; json: unknown[] }> {
    const json: unknown[] = [];
    let started: ContainerCallStarted | undefined;
    for await (const res of (await this.start(open, signal)).responses) {
      const out = res.output;
      if (out?.$case === "started") started = out.value;
      else if (out?.$case === "json") {
        const doc = parseJson(out.value);
        if (onJson) onJson(doc, started);
        else json.push(doc);
      } else if (out?.$case === "error") throw new ShoalError(statusCode(out.value.code), out.value.message);
    }
    return { started, json };
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** Runs `fn` with container calls to the managers of `manager`, then closes them. */
export async function withContainerCalls<T>(
  manager: string | undefined,
  fn: (calls: ContainerCalls) => Promise<T>,
): Promise<T> {
  const calls = new ContainerCalls(manager);
  try {
    return await fn(calls);
  } finally {
    calls.close();
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;
  } catch {
    throw new ShoalError(ErrorCode.DataLoss, "the agent sent a document that is not JSON");
  }
}

/** A connection that never reached the manager (not an answer from it). */
function isUnreachable(err: unknown): boolean {
  const cause = (err as { cause?: Partial<grpc.ServiceError> }).cause;
  return cause?.code === grpc.status.UNAVAILABLE && !(cause.metadata?.get("shoal-error-code").length ?? 0);
}

/** A ContainerCallError's gRPC code as a ShoalError code. */
export function statusCode(code: number): ErrorCode {
  return fromServiceError({ code, details: "" }).code;
}
