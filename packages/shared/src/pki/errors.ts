// Errors of the cluster PKI: each says why a certificate, request or token was refused.
import { ErrorCode, ShoalError, type ShoalErrorOptions } from "../errors.js";

/** Why a certificate was refused; stable, for logs, metrics and tests. */
export type CertificateRefusal =
  | "malformed"
  | "expired"
  | "not-yet-valid"
  | "untrusted"
  | "not-a-ca"
  | "bad-usage"
  | "wrong-role"
  | "wrong-cluster"
  | "key-mismatch";

/** A certificate or certificate request that cannot be trusted (or used) for what was asked. */
export class CertificateError extends ShoalError {
  constructor(
    readonly reason: CertificateRefusal,
    message: string,
    options: ShoalErrorOptions = {},
  ) {
    super(
      reason === "wrong-role" || reason === "wrong-cluster" ? ErrorCode.PermissionDenied : ErrorCode.Unauthenticated,
      message,
      { ...options, details: { reason, ...options.details } },
    );
  }
}

/** Why a join token was refused. */
export type JoinTokenRefusal = "malformed" | "wrong-ca" | "unknown-secret";

/**
 * A join token that admits nobody here: malformed, made for another CA (its digest does not match
 * the CA certificate), or with a secret that is not (or no longer) one of the cluster's.
 */
export class JoinTokenError extends ShoalError {
  constructor(
    readonly reason: JoinTokenRefusal,
    message: string,
    options: ShoalErrorOptions = {},
  ) {
    super(reason === "malformed" ? ErrorCode.InvalidArgument : ErrorCode.PermissionDenied, message, {
      ...options,
      details: { reason, ...options.details },
    });
  }
}
