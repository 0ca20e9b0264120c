// One unary call of a generated grpc-js client as a promise: the request, metadata, a deadline
// and an AbortSignal in; the response, or a ShoalError, out. Every client of a Shoal service
// calls through here, so that deadlines, cancellation and error codes work the same everywhere.
import * as grpc from "@grpc/grpc-js";
import type { ShoalError } from "../errors.js";
import { fromServiceError } from "./status.js";

/** The callback form of a unary method, as ts-proto generates it for a grpc-js client (its last overload). */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** The arguments of UnaryMethod<Req, Res>, with the callback that tells it from a server stream. */
type UnaryArgs<Req, Res> = Parameters<UnaryMethod<Req, Res>>;

/** The names of the unary methods of client type C, e.g. "listNodes" of ControlClient (no streams). */
export type UnaryMethodName<C> = {
  [K in keyof C]: C[K] extends (...args: infer A) => grpc.ClientUnaryCall
    ? A extends UnaryArgs<infer _Req, infer _Res>
      ? K
      : never
    : never;
}[keyof C] &
  string;

/** The request of unary method M of client type C, e.g. RequestOf<ControlClient, "listNodes">. */
export type RequestOf<C, M extends keyof C> = C[M] extends UnaryMethod<infer Req, infer _Res> ? Req : never;

/** The response of unary method M of client type C. */
export type ResponseOf<C, M extends keyof C> = C[M] extends UnaryMethod<infer _Req, infer Res> ? Res : never;

export interface UnaryCallOptions {
  /** Sent with the request; default none. */
  readonly metadata?: grpc.Metadata | undefined;
  /** The call's deadline, this many ms from when it starts (it then fails as DEADLINE_EXCEEDED); default none. */
  readonly timeoutMs?: number | undefined;
  /** Cancels the call on abort; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** What a failed call rejects with; default fromServiceError (the error code the server sent). */
  readonly toError?: ((err: grpc.ServiceError) => ShoalError) | undefined;
}

/**
 * Calls unary method `method` of `client`, e.g. `unaryCall(control, "listNodes", request, { timeoutMs })`.
 * Resolves with the response; rejects with a ShoalError (see `toError`), or with the signal's
 * reason once `signal` has aborted.
 */
export function unaryCall<C extends grpc.Client, M extends UnaryMethodName<C>>(
  client: C,
  method: M,
  request: RequestOf<C, M>,
  options: UnaryCallOptions = {},
): Promise<ResponseOf<C, M>> {
  const { signal, timeoutMs, toError = fromServiceError } = options;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const fn = client[method] as unknown as UnaryMethod<RequestOf<C, M>, ResponseOf<C, M>>;
  const callOptions: Partial<grpc.CallOptions> = timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
  return new Promise((resolve, reject) => {
    const cancel = (): void => call.cancel();
    const call = fn.call(client, request, options.metadata ?? new grpc.Metadata(), callOptions, (err, response) => {
      signal?.removeEventListener("abort", cancel);
      if (err === null) resolve(response);
      // A call that failed after an abort failed because of it (CANCELLED, as grpc-js says).
      else if (signal?.aborted) reject(signal.reason as Error);
      else reject(toError(err));
    });
    signal?.addEventListener("abort", cancel, { once: true });
  });
}
