// The server edge and the client edge of gRPC: ShoalError codes <-> gRPC status codes. Handlers
// throw ShoalErrors; only these two functions know about status numbers.
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { ErrorCode, ShoalError, errorMessage } from "../errors.js";

const toStatus: Record<ErrorCode, status> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.AlreadyExists]: status.ALREADY_EXISTS,
  [ErrorCode.SequenceConflict]: status.ABORTED,
  [ErrorCode.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.NotLeader]: status.FAILED_PRECONDITION,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.DeadlineExceeded]: status.DEADLINE_EXCEEDED,
  [ErrorCode.Cancelled]: status.CANCELLED,
  [ErrorCode.PermissionDenied]: status.PERMISSION_DENIED,
  [ErrorCode.Unauthenticated]: status.UNAUTHENTICATED,
  [ErrorCode.DataLoss]: status.DATA_LOSS,
  [ErrorCode.Internal]: status.INTERNAL,
};

const CODE_KEY = "shoal-error-code";

/**
 * The longest status message sent. The message travels in an HTTP/2 trailer, and messages that
 * quote a request (a 200 KB name) would pass the peer's header size limit: it drops the trailer
 * and the call hangs until its deadline.
 */
export const MAX_STATUS_MESSAGE_CHARS = 2048;

function boundedMessage(err: unknown): string {
  const message = errorMessage(err);
  if (message.length <= MAX_STATUS_MESSAGE_CHARS) return message;
  const cut = message.length - MAX_STATUS_MESSAGE_CHARS;
  return `${message.slice(0, MAX_STATUS_MESSAGE_CHARS)}... (${cut} more characters)`;
}

/** What a handler passes to grpc-js for a thrown error. Anything that is not a ShoalError is INTERNAL. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const code = err instanceof ShoalError ? err.code : ErrorCode.Internal;
  const metadata = new Metadata();
  metadata.set(CODE_KEY, code);
  const message = boundedMessage(err);
  return { code: toStatus[code], details: message, message, metadata };
}

/** The ShoalError that a failed call stands for, on the client side. */
export function fromServiceError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  const e = err as Partial<ServiceError>;
  const sent = e.metadata?.get(CODE_KEY)[0];
  const known = Object.values(ErrorCode).find((c) => c === sent);
  const byStatus = (Object.entries(toStatus) as [ErrorCode, status][]).find(([, s]) => s === e.code)?.[0];
  const code = known ?? byStatus ?? ErrorCode.Unavailable;
  const message = e.details || (e.message ?? errorMessage(err));
  return new ShoalError(code, message, { cause: err });
}
