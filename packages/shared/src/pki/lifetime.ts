// How long certificates last, and when a node renews its own: SwarmKit's rules.
import { randomBytes } from "node:crypto";

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** Node certificates last 90 days unless the cluster says otherwise. */
export const DEFAULT_NODE_CERT_LIFETIME_MS = 90 * DAY_MS;
/** Shorter lifetimes are refused (tests use 2 minutes; SwarmKit's floor is an hour). */
export const MIN_NODE_CERT_LIFETIME_MS = 60 * 1000;
/** A root CA lasts 20 years. */
export const DEFAULT_ROOT_CA_LIFETIME_MS = 20 * 365 * DAY_MS;

/** A node renews at a random point between these fractions of its certificate's validity. */
export const RENEW_FROM = 0.5;
export const RENEW_UNTIL = 0.8;

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * The validity of a certificate issued at `now`. It starts a little in the past, so that a host
 * whose clock is behind accepts it at once: an hour as SwarmKit, but never more than a tenth of
 * the lifetime (a 2-minute certificate starts 12 s back). It never outlives `notAfterCap`
 * (the issuing CA's own end).
 */
export function validityFrom(now: number, lifetimeMs: number, notAfterCap?: Date): Validity {
  const backdate = Math.min(HOUR_MS, Math.floor(lifetimeMs / 10));
  const end = now + lifetimeMs;
  const cap = notAfterCap?.getTime() ?? end;
  // X.509 times have a resolution of one second.
  const second = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
  return { notBefore: second(now - backdate), notAfter: second(Math.min(end, cap)) };
}

/**
 * Milliseconds from `now` until a node should renew a certificate of this validity: a random
 * point between 50% and 80% of it (random, so that nodes joined together do not all renew
 * together); 0 when that point has passed. `random` returns a number in [0, 1).
 */
export function renewalDelayMs(validity: Validity, now: number, random: () => number = uniform): number {
  const from = validity.notBefore.getTime();
  const span = validity.notAfter.getTime() - from;
  if (span <= 0) return 0;
  const fraction = RENEW_FROM + (RENEW_UNTIL - RENEW_FROM) * random();
  return Math.max(0, Math.round(from + span * fraction - now));
}

function uniform(): number {
  return randomBytes(4).readUInt32BE(0) / 2 ** 32;
}

/** A positive random serial number of 128 bits, as hex. */
export function newSerialNumber(random: (size: number) => Uint8Array = randomBytes): string {
  const bytes = Uint8Array.from(random(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString("hex");
}
