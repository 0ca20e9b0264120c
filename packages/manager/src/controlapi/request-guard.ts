// The Control API's first check of a request, before any handler: its size and its protobuf.
//
// grpc-js has one receive limit per server (the manager's is 4 MB, MAX_RECEIVED_MESSAGE_BYTES: Raft
// sends snapshots in chunks below it), which it enforces itself; the Control API states its own
// limit here, so that it holds whatever the server's is. And a request that protobuf cannot decode
// (truncated, a wrong wire type, a uint64 beyond 2^53) becomes a bare INTERNAL "Error
// deserializing request". So the Control service's deserializers are wrapped: a request over the
// Control limit, or one that does not decode, comes to the handler as a RefusedRequest, which the
// handler answers with RESOURCE_EXHAUSTED or INVALID_ARGUMENT naming the problem.
import * as grpc from "@grpc/grpc-js";
import { InvalidArgumentError, errorMessage, toServiceError } from "@shoal/shared";

/** Control requests larger than this are refused (gRPC's own default, and SwarmKit's). */
export const MAX_CONTROL_REQUEST_BYTES = 4 * 1024 * 1024;

/** What a guarded deserializer gives instead of a request it refuses. */
export class RefusedRequest {
  constructor(readonly status: Partial<grpc.ServiceError>) {}
}

/**
 * `definition` with every method's request deserializer guarded: requests over `maxBytes` and
 * requests that do not decode become RefusedRequests (see refusedRequest).
 */
export function guardRequests<D extends grpc.ServiceDefinition>(definition: D, maxBytes: number): D {
  const guarded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    guarded[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        if (bytes.length > maxBytes) {
          return new RefusedRequest({
            code: grpc.status.RESOURCE_EXHAUSTED,
            details: `request of ${bytes.length} bytes is larger than the Control API's limit of ${maxBytes} bytes`,
          });
        }
        try {
          return decode(bytes);
        } catch (err: unknown) {
          return new RefusedRequest(
            toServiceError(
              new InvalidArgumentError(`not a valid ${name} request: ${errorMessage(err)}`, { field: "request" }),
            ),
          );
        }
      },
    };
  }
  return guarded as D;
}

/** The status to answer with when a guarded deserializer refused the call's request. */
export function refusedRequest(request: unknown): Partial<grpc.ServiceError> | undefined {
  return request instanceof RefusedRequest ? request.status : undefined;
}
