// The web dashboard's credentials (docs/dashboard.md), kept in Cluster.dashboard_credentials so that
// every manager honours them: a one-time login link (the SHA-256 of its token) that, redeemed,
// becomes a browser session (the SHA-256 of the session's token). Tokens are 32 random bytes,
// base64url; only their hashes reach the store, and no API answers with those (clusters.ts,
// redacted()). Writes run on the leader (the Control API forwards them); each prunes the
// credentials that have expired. A session is checked against this manager's replica.
import { createHash, timingSafeEqual } from "node:crypto";
import {
  DashboardCredential,
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  durationToMs,
  newId,
  type Cluster,
  type CreateDashboardLoginRequest,
  type CreateDashboardLoginResponse,
  type DashboardSessionInfo,
  type Duration,
  type RedeemDashboardLoginResponse,
  type RevokeDashboardSessionsRequest,
} from "@shoal/shared";
import { cryptoRandomBytes, type RandomBytes } from "../random-bytes.js";
import type { MemoryStore, WriteTx } from "../state/store/index.js";

export const DEFAULT_LINK_TTL_MS = 5 * 60_000;
export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
const MAX_LINK_TTL_MS = 24 * 3_600_000;
const MAX_SESSION_TTL_MS = 30 * 24 * 3_600_000;
/** Links and sessions a cluster may hold at once (each write prunes the expired ones). */
export const MAX_CREDENTIALS = 1000;

export const LINK_USED = "the login link was used or has expired: run shoal dashboard login for a new one";

/** A new random token: 32 bytes, base64url. */
export function newToken(random: RandomBytes = cryptoRandomBytes): string {
  return Buffer.from(random(32)).toString("base64url");
}

export function tokenHash(token: string): Uint8Array {
  return createHash("sha256").update(token, "utf8").digest();
}

/** Whether `hash` is `expected`, in constant time (an empty expected hash never matches). */
export function hashEquals(hash: Uint8Array, expected: Uint8Array): boolean {
  return expected.length === hash.length && expected.length > 0 && timingSafeEqual(hash, expected);
}

const time = (d: Date | undefined): number => d?.getTime() ?? 0;

/** Whether the credential still counts at `now`: a link not yet expired, or a session not yet expired. */
export function alive(c: DashboardCredential, now: number): boolean {
  return c.sessionTokenHash.length > 0 ? time(c.expiresAt) > now : time(c.loginExpiresAt) > now;
}

/** The live session whose token is `token` (this manager's replica), or undefined. */
export function findSession(cluster: Cluster | undefined, token: string, now: number): DashboardCredential | undefined {
  if (!cluster || token === "") return undefined;
  const hash = tokenHash(token);
  // Every credential is compared, so that the time taken says nothing about which one matched.
  let found: DashboardCredential | undefined;
  for (const c of cluster.dashboardCredentials) {
    if (hashEquals(hash, c.sessionTokenHash) && time(c.expiresAt) > now) found = c;
  }
  return found;
}

function ttl(d: Duration | undefined, fallback: number, max: number, field: string): number {
  const ms = durationToMs(d, fallback);
  if (!(ms >= 1000) || ms > max) {
    throw new InvalidArgumentError(`must be between 1s and ${max / 3_600_000}h`, { field });
  }
  return ms;
}

/** Runs `fn` on the cluster's live credentials and writes back what it returns. */
function rewrite<T>(
  tx: WriteTx,
  now: number,
  fn: (live: DashboardCredential[]) => { readonly next: DashboardCredential[]; readonly result: T },
): T {
  const cluster = tx.clusters.find()[0];
  if (!cluster) throw new ShoalError(ErrorCode.FailedPrecondition, "the cluster is not initialised yet");
  const { next, result } = fn(cluster.dashboardCredentials.filter((c) => alive(c, now)));
  tx.clusters.update({ ...cluster, dashboardCredentials: next });
  return result;
}

export interface LoginOptions {
  readonly now: number;
  readonly createdBy: string;
  readonly random?: RandomBytes;
}

/** CreateDashboardLogin on the leader: a new link (urls are the caller's to fill in). */
export async function createLogin(
  store: MemoryStore,
  req: CreateDashboardLoginRequest,
  o: LoginOptions,
): Promise<CreateDashboardLoginResponse> {
  const linkMs = ttl(req.linkTtl, DEFAULT_LINK_TTL_MS, MAX_LINK_TTL_MS, "link_ttl");
  const sessionMs = ttl(req.sessionTtl, DEFAULT_SESSION_TTL_MS, MAX_SESSION_TTL_MS, "session_ttl");
  const token = newToken(o.random);
  const credential = DashboardCredential.fromPartial({
    id: newId(o.random),
    loginTokenHash: tokenHash(token),
    createdBy: o.createdBy,
    createdAt: new Date(o.now),
    loginExpiresAt: new Date(o.now + linkMs),
    // The session's length, kept until the link is redeemed (then: from the redemption).
    expiresAt: new Date(o.now + sessionMs),
  });
  await store.update((tx) =>
    rewrite(tx, o.now, (live) => {
      if (live.length >= MAX_CREDENTIALS) {
        throw new ShoalError(
          ErrorCode.ResourceExhausted,
          `the cluster holds ${live.length} dashboard links and sessions: revoke some (shoal dashboard revoke)`,
        );
      }
      return { next: [...live, credential], result: undefined };
    }),
  );
  return { id: credential.id, token, loginExpiresAt: credential.loginExpiresAt, urls: [] };
}

/**
 * RedeemDashboardLogin on the leader: in one transaction the link's hash is cleared (it works
 * once) and a session's is set. A used, expired or unknown token is refused alike.
 */
export async function redeemLogin(
  store: MemoryStore,
  token: string,
  now: number,
  random: RandomBytes = cryptoRandomBytes,
): Promise<RedeemDashboardLoginResponse> {
  if (token === "") throw new InvalidArgumentError("is required", { field: "token" });
  const hash = tokenHash(token);
  const session = newToken(random);
  return store.update((tx) =>
    rewrite(tx, now, (live) => {
      let hit: DashboardCredential | undefined;
      for (const c of live) if (hashEquals(hash, c.loginTokenHash)) hit = c;
      if (!hit) throw new ShoalError(ErrorCode.PermissionDenied, LINK_USED);
      const lengthMs = time(hit.expiresAt) - time(hit.createdAt);
      const redeemed: DashboardCredential = {
        ...hit,
        loginTokenHash: new Uint8Array(0),
        sessionTokenHash: tokenHash(session),
        redeemedAt: new Date(now),
        expiresAt: new Date(now + lengthMs),
      };
      return {
        next: live.map((c) => (c === hit ? redeemed : c)),
        result: { id: hit.id, sessionToken: session, expiresAt: redeemed.expiresAt, createdBy: hit.createdBy },
      };
    }),
  );
}

/** The live credentials, without their hashes (this manager's replica). */
export function listSessions(cluster: Cluster | undefined, now: number): DashboardSessionInfo[] {
  return (cluster?.dashboardCredentials ?? [])
    .filter((c) => alive(c, now))
    .map((c) => ({
      id: c.id,
      createdBy: c.createdBy,
      createdAt: c.createdAt,
      expiresAt: c.sessionTokenHash.length > 0 ? c.expiresAt : c.loginExpiresAt,
      redeemed: c.sessionTokenHash.length > 0,
    }));
}

/** RevokeDashboardSessions on the leader: by id or unique id prefix, or all. */
export async function revokeSessions(
  store: MemoryStore,
  req: RevokeDashboardSessionsRequest,
  now: number,
): Promise<string[]> {
  if (!req.all && req.ids.length === 0) throw new InvalidArgumentError("give ids, or all", { field: "ids" });
  return store.update((tx) =>
    rewrite(tx, now, (live) => {
      if (req.all) return { next: [], result: live.map((c) => c.id) };
      const gone = new Set<string>();
      for (const ref of req.ids) {
        const hits = live.filter((c) => c.id === ref || (ref !== "" && c.id.startsWith(ref)));
        const exact = hits.find((c) => c.id === ref);
        if (hits.length === 0) throw new ShoalError(ErrorCode.NotFound, `dashboard session ${ref} not found`);
        if (!exact && hits.length > 1) {
          throw new InvalidArgumentError(`"${ref}" matches ${hits.length} sessions: give more of the id`, {
            field: "ids",
          });
        }
        gone.add((exact ?? hits[0]!).id);
      }
      return { next: live.filter((c) => !gone.has(c.id)), result: [...gone] };
    }),
  );
}
