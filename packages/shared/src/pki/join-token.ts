// Join tokens, as SwarmKit makes them: SWMTKN-1-<CA digest>-<secret>.
//
// The digest (SHA-256 of the root CA certificate, 50 base-36 characters) lets a joining node check
// the CA a manager shows it before it sends anything: no trust on first use. The secret (128
// random bits, 25 base-36 characters) is what admits the node; the worker and manager tokens have
// their own secrets and rotate independently. Managers compare tokens in constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { caDigest, fromBase36, toBase36 } from "./digest.js";
import { JoinTokenError } from "./errors.js";

const PREFIX = "SWMTKN";
const VERSION = "1";
/** ceil(log36(2^256)): a SHA-256 digest in base 36. */
const DIGEST_LENGTH = 50;
/** ceil(log36(2^128)): 16 random bytes in base 36. */
const SECRET_LENGTH = 25;
const SECRET_BYTES = 16;

export type JoinRole = "worker" | "manager";

export interface JoinTokens {
  readonly worker: string;
  readonly manager: string;
}

export interface ParsedJoinToken {
  /** The CA digest the token pins, as 64 hex characters (what caDigest returns). */
  readonly caDigest: string;
  /** The secret part, as written in the token. */
  readonly secret: string;
}

/** A new join token for the CA whose digest (hex, from caDigest) is given. */
export function newJoinToken(caDigestHex: string, random: (size: number) => Uint8Array = randomBytes): string {
  if (!/^[0-9a-f]{64}$/.test(caDigestHex)) throw new JoinTokenError("malformed", "a CA digest is 64 hex characters");
  const digest = toBase36(Buffer.from(caDigestHex, "hex"), DIGEST_LENGTH);
  const secret = toBase36(random(SECRET_BYTES), SECRET_LENGTH);
  return `${PREFIX}-${VERSION}-${digest}-${secret}`;
}

/** Splits a token into the CA digest it pins and its secret; throws JoinTokenError if malformed. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.split("-");
  const malformed = (why: string): JoinTokenError =>
    new JoinTokenError("malformed", `not a join token (${why}); tokens look like SWMTKN-1-<digest>-<secret>`);
  if (parts.length !== 4 || parts[0] !== PREFIX) throw malformed("wrong shape");
  if (parts[1] !== VERSION) throw malformed(`version ${parts[1]} is not supported`);
  const [, , digestPart, secret] = parts as [string, string, string, string];
  if (digestPart.length !== DIGEST_LENGTH) throw malformed("the CA digest is not 50 characters");
  if (secret.length !== SECRET_LENGTH || fromBase36(secret, SECRET_BYTES) === undefined) {
    throw malformed("the secret is not 25 base-36 characters");
  }
  const digest = fromBase36(digestPart, 32);
  if (!digest) throw malformed("the CA digest is not base 36");
  return { caDigest: Buffer.from(digest).toString("hex"), secret };
}

/**
 * Checks, on the joining side, that the CA certificate a manager presented is the one the token
 * pins. Call it before sending the token or anything else to that manager.
 */
export function verifyCaAgainstToken(caCertPem: string, token: string): void {
  const { caDigest: pinned } = parseJoinToken(token);
  const actual = caDigest(caCertPem);
  if (!equalInConstantTime(pinned, actual)) {
    throw new JoinTokenError(
      "wrong-ca",
      "the manager's CA certificate does not match the join token's digest: wrong cluster, or someone in between",
      { details: { expected: pinned, actual } },
    );
  }
}

/**
 * Which role a presented token admits, on the manager's side. The token must pin the CA whose
 * digest is given (the current root) and equal one of the cluster's tokens; a rotated token
 * admits nobody. Throws JoinTokenError otherwise.
 */
export function joinTokenRole(token: string, tokens: JoinTokens, currentCaDigest: string): JoinRole {
  const parsed = parseJoinToken(token);
  if (!equalInConstantTime(parsed.caDigest, currentCaDigest)) {
    throw new JoinTokenError(
      "wrong-ca",
      "the join token was made for another CA (another cluster, or before a CA rotation)",
    );
  }
  // Both are compared every time, so that the time taken does not tell which one came close.
  const manager = tokens.manager !== "" && equalInConstantTime(token, tokens.manager);
  const worker = tokens.worker !== "" && equalInConstantTime(token, tokens.worker);
  if (manager) return "manager";
  if (worker) return "worker";
  throw new JoinTokenError("unknown-secret", "the join token is not valid for this cluster (wrong, or rotated)");
}

/** String equality whose time does not depend on where the strings differ (hashes first, so lengths may differ). */
export function equalInConstantTime(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}
