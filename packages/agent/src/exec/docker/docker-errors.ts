// Turning what dockerode throws into ExecErrors. dockerode reports an HTTP error as an Error with
// `statusCode` and `json` ({ message } from the daemon); a transport failure as a Node system
// error with a `code` (ECONNREFUSED, ENOENT for a missing socket, ...) and no status.
import { ErrorCode } from "@shoal/shared";
import { DaemonUnavailableError, ExecError, ExecErrorReason } from "../errors.js";

/** Node error codes that mean the daemon could not be reached or stopped answering. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EACCES",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

interface DockerodeError {
  statusCode?: unknown;
  json?: unknown;
  code?: unknown;
  name?: unknown;
  message?: unknown;
}

function fields(err: unknown): DockerodeError {
  return typeof err === "object" && err !== null ? (err as DockerodeError) : {};
}

/** The HTTP status of a daemon's answer, when the error is one. */
export function statusCodeOf(err: unknown): number | undefined {
  const code = fields(err).statusCode;
  return typeof code === "number" ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCodeOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusCodeOf(err) === 409;
export const isNotModified = (err: unknown): boolean => statusCodeOf(err) === 304;

/** True for errors raised because an AbortSignal fired. */
export function isAbortError(err: unknown): boolean {
  const { name, code } = fields(err);
  return name === "AbortError" || code === "ABORT_ERR";
}

/** True when the daemon could not be reached (as opposed to answering with an error). */
export function isUnreachable(err: unknown): boolean {
  const { code, statusCode } = fields(err);
  if (statusCode !== undefined) return false;
  if (typeof code === "string" && UNREACHABLE.has(code)) return true;
  const message = fields(err).message;
  return typeof message === "string" && /socket hang up|timeout|timed out/i.test(message);
}

/** Docker's own message, without dockerode's "(HTTP code 404) unexpected - " prefix. */
export function dockerMessage(err: unknown): string {
  const { json, message } = fields(err);
  if (typeof json === "object" && json !== null && !(json instanceof Uint8Array)) {
    const m = (json as { message?: unknown }).message;
    if (typeof m === "string" && m !== "") return m;
  }
  if (typeof message !== "string") return String(err);
  const m = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(message);
  return (m?.[1] ?? message).trim();
}

/**
 * The ExecError for a failed daemon call; `what` says what was being done ("creating container
 * web.1.x"). Unreachable daemon and 503: temporary. Abort: temporary (the step is tried again).
 * Every other answer from the daemon: fatal, with the daemon's message.
 */
export function classifyDockerError(err: unknown, what: string): ExecError {
  if (err instanceof ExecError) return err;
  if (isAbortError(err)) {
    return new ExecError(ErrorCode.Cancelled, ExecErrorReason.Aborted, `${what}: aborted`, {
      cause: err,
      temporary: true,
    });
  }
  if (isUnreachable(err)) {
    return new DaemonUnavailableError(`${what}: docker daemon unreachable: ${dockerMessage(err)}`, { cause: err });
  }
  const status = statusCodeOf(err);
  const message = `${what}: ${dockerMessage(err)}`;
  const details = status === undefined ? {} : { statusCode: status };
  switch (status) {
    case 400:
      return new ExecError(ErrorCode.InvalidArgument, ExecErrorReason.InvalidSpec, message, { cause: err, details });
    case 404:
      return new ExecError(ErrorCode.NotFound, ExecErrorReason.Daemon, message, { cause: err, details });
    case 409:
      return new ExecError(ErrorCode.FailedPrecondition, ExecErrorReason.Daemon, message, { cause: err, details });
    case 503:
      return new ExecError(ErrorCode.Unavailable, ExecErrorReason.DaemonUnavailable, message, {
        cause: err,
        details,
        temporary: true,
      });
    default:
      return new ExecError(ErrorCode.Internal, ExecErrorReason.Daemon, message, { cause: err, details });
  }
}

/** dockerode's per-call abort option, present only when there is a signal (exactOptionalPropertyTypes). */
export function abortOption(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}
