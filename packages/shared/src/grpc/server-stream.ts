// A server-streaming call of a generated grpc-js client as an async iterable: its messages, then
// the end; a failed call throws a ShoalError (its `cause` the grpc-js error); aborting `signal`
// cancels the call and ends the iteration quietly. Leaving the loop early cancels the call too.
import type * as grpc from "@grpc/grpc-js";
import type { ShoalError } from "../errors.js";
import { fromServiceError } from "./status.js";

export async function* serverStream<T>(
  call: grpc.ClientReadableStream<T>,
  signal?: AbortSignal,
  toError: (err: grpc.ServiceError) => ShoalError = fromServiceError,
): AsyncGenerator<T, void, undefined> {
  const cancel = (): void => call.cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    for await (const message of call as AsyncIterable<T>) yield message;
  } catch (err: unknown) {
    if (signal?.aborted) return;
    throw toError(err as grpc.ServiceError);
  } finally {
    signal?.removeEventListener("abort", cancel);
    call.cancel();
  }
}
