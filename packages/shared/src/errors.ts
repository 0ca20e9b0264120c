// Errors with stable codes. Code that fails throws a ShoalError subclass; the server edges
// (gRPC, HTTP) are the only places that turn codes into statuses.

export const ErrorCode = {
  /** The input was malformed or failed validation. */
  InvalidArgument: "INVALID_ARGUMENT",
  NotFound: "NOT_FOUND",
  AlreadyExists: "ALREADY_EXISTS",
  /** A write was based on an older version of the object (optimistic concurrency). */
  SequenceConflict: "SEQUENCE_CONFLICT",
  /** The operation needs something that is not so now (e.g. a node that still runs tasks). */
  FailedPrecondition: "FAILED_PRECONDITION",
  /** Nothing is left to hand out (e.g. no free subnet in the cluster's address pool). */
  ResourceExhausted: "RESOURCE_EXHAUSTED",
  /** This manager is not the leader, or no leader is known. */
  NotLeader: "NOT_LEADER",
  /** Retrying later may succeed (a daemon restarting, a network hiccup). */
  Unavailable: "UNAVAILABLE",
  DeadlineExceeded: "DEADLINE_EXCEEDED",
  Cancelled: "CANCELLED",
  PermissionDenied: "PERMISSION_DENIED",
  Unauthenticated: "UNAUTHENTICATED",
  /** Data on disk or on the wire does not pass its checks. */
  DataLoss: "DATA_LOSS",
  Internal: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ShoalErrorOptions {
  readonly cause?: unknown;
  /** Typed facts about the failure (ids, names, field paths), carried to logs and clients. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class ShoalError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: ShoalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

export class InvalidArgumentError extends ShoalError {
  /** Where in the input the problem is, as a path such as `spec.mode.replicated.replicas`. */
  readonly field: string | undefined;
  constructor(message: string, options: ShoalErrorOptions & { readonly field?: string } = {}) {
    super(ErrorCode.InvalidArgument, options.field === undefined ? message : `${options.field}: ${message}`, options);
    this.field = options.field;
  }
}

export class NotFoundError extends ShoalError {
  constructor(
    readonly kind: string,
    readonly ref: string,
    options: ShoalErrorOptions = {},
  ) {
    super(ErrorCode.NotFound, `${kind} ${ref} not found`, options);
  }
}

export class SequenceConflictError extends ShoalError {
  constructor(message = "update out of sequence", options: ShoalErrorOptions = {}) {
    super(ErrorCode.SequenceConflict, message, options);
  }
}

export class UnavailableError extends ShoalError {
  constructor(message: string, options: ShoalErrorOptions = {}) {
    super(ErrorCode.Unavailable, message, options);
  }
}

export function isShoalError(err: unknown): err is ShoalError {
  return err instanceof ShoalError;
}

/**
 * The leader a manager names when it refuses a call for not being the leader: NOT_LEADER errors
 * say "not the leader; the leader is HOST:PORT" (the manager's NotLeaderError, the dispatcher),
 * and only the message crosses the wire. Undefined for any other error, or when no leader is known.
 */
export function leaderHint(err: unknown): string | undefined {
  if (!(err instanceof ShoalError) || err.code !== ErrorCode.NotLeader) return undefined;
  return /the leader is (\S+)$/.exec(err.message)?.[1];
}

/** A readable message for anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : JSON.stringify(err);
}
