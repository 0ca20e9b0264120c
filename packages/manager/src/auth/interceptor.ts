// The auth interceptor: every call to a manager's gRPC server passes here before its handler.
//
// It reads the peer's certificate from the TLS connection (grpc-js gives it only when TLS verified
// it against the cluster's roots; a peer without one, or with one that does not verify, is
// anonymous), reads the identity it names (peerIdentity: node id, role, cluster, serial), and
// checks, on every call: the policy table (policy.ts), the cluster, and the store (the node still
// exists; a manager-only call needs the node's desired role to be manager; the Raft group's
// methods need a member; a client certificate must not be revoked). A refusal is UNAUTHENTICATED
// (no usable certificate: none, removed node, revoked) or PERMISSION_DENIED (a certificate that
// may not do this), with a message saying which and why. Handlers get the identity with
// callerOf(call.metadata). A call a follower forwards names its original caller (caller.ts), who
// is checked in the same way; only managers may forward.
//
// Installed with `new grpc.Server({ interceptors: [authInterceptor(...)] })` (grpc-js >= 1.10).
import * as grpc from "@grpc/grpc-js";
import { NodeRole, errorMessage, pki, type Logger, type Node, type RootCA } from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import { revocationOf, type RootCaOf } from "../ca/root-ca.js";
import { FORWARDED_FOR, parseForwardedFor, setCaller } from "./caller.js";
import { needsStoreManager, ruleFor, type MethodRule } from "./policy.js";

/** What the checks read, at the time of the call. */
export interface AuthView {
  /** The cluster's id; undefined before the cluster exists (then no certificate is checked against it). */
  readonly clusterId: string | undefined;
  node(id: string): Node | undefined;
  rootCa: RootCA | undefined;
  isRaftMember(nodeId: string): boolean;
}

export type AuthDecision =
  | { readonly ok: true; readonly identity: pki.CertIdentity | undefined }
  | { readonly ok: false; readonly code: grpc.status; readonly message: string };

const refuse = (code: grpc.status, message: string): AuthDecision => ({ ok: false, code, message });

/** The decision for one call to `path` by the peer `identity` (undefined: anonymous). Pure. */
export function authorize(path: string, identity: pki.CertIdentity | undefined, view: AuthView): AuthDecision {
  const method = path.replace(/^\//, "");
  const rule = ruleFor(path);
  if (!rule) return refuse(grpc.status.PERMISSION_DENIED, `${method} is not open to any caller`);
  return authorizeRule(rule, method, identity, view);
}

/**
 * The decision under `rule` for what is called `method` in messages: for endpoints outside the
 * gRPC table, such as the Docker Engine API (DOCKER_API_RULE). Pure.
 */
export function authorizeRule(
  rule: MethodRule,
  method: string,
  identity: pki.CertIdentity | undefined,
  view: AuthView,
): AuthDecision {
  if (identity === undefined) {
    if (rule.allow.includes("anonymous")) return { ok: true, identity: undefined };
    return refuse(
      grpc.status.UNAUTHENTICATED,
      `${method} needs a certificate from this cluster's CA: none was presented, or it did not verify`,
    );
  }
  const who = `${identity.role} ${identity.nodeId}`;
  if (view.clusterId !== undefined && identity.clusterId !== view.clusterId) {
    return refuse(grpc.status.PERMISSION_DENIED, `the certificate of ${who} is for cluster ${identity.clusterId}`);
  }
  if (!rule.allow.includes(identity.role)) {
    const allowed = rule.allow.filter((k) => k !== "anonymous").join(" or ");
    return refuse(
      grpc.status.PERMISSION_DENIED,
      `a ${identity.role} certificate may not call ${method} (only ${allowed}: ${rule.why})`,
    );
  }
  if (identity.role === "client") {
    const revoked = revocationOf(view.rootCa, identity.serialNumber);
    if (revoked) {
      return refuse(
        grpc.status.UNAUTHENTICATED,
        `client certificate ${identity.nodeId} (serial ${identity.serialNumber}) has been revoked`,
      );
    }
    return { ok: true, identity };
  }
  const node = view.node(identity.nodeId);
  // A manager in the Raft group is vouched for by the group (a founding manager's node is made by
  // the leader shortly after it starts); one that left or was removed from it is not.
  if (!node && identity.role === "manager" && view.isRaftMember(identity.nodeId)) return { ok: true, identity };
  if (!node && view.clusterId === undefined) {
    // A manager that has not loaded the cluster's state (starting) cannot tell a removed node
    // from one it does not know yet: try again, or another manager.
    return refuse(grpc.status.UNAVAILABLE, "this manager has not loaded the cluster's state yet: try again shortly");
  }
  if (!node) {
    return refuse(
      grpc.status.UNAUTHENTICATED,
      `node ${identity.nodeId} is not in the cluster (removed): its certificate no longer admits it; join again with a token`,
    );
  }
  // A demoted manager keeps its rights until it has left the Raft group: the leader removes it
  // (handing leadership over first when it leads), which needs it to still speak Raft.
  if (
    needsStoreManager(rule, identity.role) &&
    (node.spec?.desiredRole ?? node.role) !== NodeRole.MANAGER &&
    !view.isRaftMember(identity.nodeId)
  ) {
    return refuse(
      grpc.status.PERMISSION_DENIED,
      `node ${identity.nodeId} is no longer a manager (demoted): it may not call ${method}`,
    );
  }
  if (rule.raftMember && !view.isRaftMember(identity.nodeId)) {
    return refuse(
      grpc.status.PERMISSION_DENIED,
      `manager ${identity.nodeId} is not a member of the Raft group: it may not call ${method}`,
    );
  }
  return { ok: true, identity };
}

/**
 * `authorize` for the direct caller and, for a call a follower forwards (header
 * shoal-forwarded-for), for the original caller too: only a manager may forward, and the original
 * caller must be allowed as if it had called directly. The header is removed either way.
 */
export function decide(
  path: string,
  direct: pki.CertIdentity | undefined,
  metadata: grpc.Metadata,
  view: AuthView,
): AuthDecision {
  const forwarded = metadata.get(FORWARDED_FOR);
  metadata.remove(FORWARDED_FOR);
  const decision = authorize(path, direct, view);
  if (!decision.ok || forwarded.length === 0) return decision;
  if (direct?.role !== "manager") {
    return refuse(grpc.status.PERMISSION_DENIED, "only a manager may forward a call on behalf of another caller");
  }
  const original = forwarded.length === 1 ? parseForwardedFor(String(forwarded[0])) : "invalid";
  if (original === "invalid") return refuse(grpc.status.INVALID_ARGUMENT, `malformed ${FORWARDED_FOR} header`);
  return authorize(path, original, view);
}

export interface AuthInterceptorOptions {
  /** The store, or a getter for it: a manager binds its port before its store exists (calls meanwhile: UNAVAILABLE). */
  readonly store: MemoryStore | (() => MemoryStore | undefined);
  readonly rootCaOf: RootCaOf;
  /** Whether a manager's node id is in the Raft group now (RaftView.memberList()). */
  readonly isRaftMember: (nodeId: string) => boolean;
  readonly logger?: Logger;
  /** Parsed peer certificates kept, by fingerprint; default 16384 (one per node, and then some). */
  readonly cacheSize?: number;
}

/** The grpc-js server interceptor applying `authorize` to every call. */
export function authInterceptor(options: AuthInterceptorOptions): grpc.ServerInterceptor {
  const logger = options.logger?.child({ component: "auth" });
  const identities = new IdentityCache(options.cacheSize ?? 16_384);
  const storeOf = typeof options.store === "function" ? options.store : (): MemoryStore => options.store as MemoryStore;
  const view = (): AuthView | undefined => {
    const store = storeOf();
    return store?.view((tx) => {
      // Read, not copied (scan), on every call: the store replaces objects and never changes
      // them, so this one stays as it was for as long as the call holds it.
      const cluster = tx.clusters.scan()[0];
      return {
        clusterId: cluster?.id,
        rootCa: cluster ? options.rootCaOf(cluster) : undefined,
        node: (id: string) => store.view((t) => t.nodes.get(id)),
        isRaftMember: options.isRaftMember,
      };
    });
  };

  return (descriptor, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, proceed) => {
            let decision: AuthDecision;
            try {
              const direct = identities.of(call.getAuthContext().sslPeerCertificate);
              const current = view();
              decision = current
                ? decide(descriptor.path, direct, metadata, current)
                : refuse(grpc.status.UNAVAILABLE, "this manager is starting: try again shortly");
            } catch (err: unknown) {
              // A verified certificate that does not name a node, role and cluster.
              decision = refuse(
                grpc.status.UNAUTHENTICATED,
                `the peer certificate cannot be used: ${errorMessage(err)}`,
              );
            }
            if (!decision.ok) {
              logger?.warn({ method: descriptor.path, peer: call.getPeer(), reason: decision.message }, "call refused");
              call.sendStatus({ code: decision.code, details: decision.message });
              return;
            }
            if (decision.identity) setCaller(metadata, decision.identity);
            proceed(metadata);
          },
        });
      },
    });
}

/** Parsed identities of peer certificates by SHA-256 fingerprint, least recently used dropped first. */
class IdentityCache {
  readonly #entries = new Map<string, pki.CertIdentity>();

  constructor(private readonly capacity: number) {}

  of(cert: { raw: Buffer; fingerprint256: string } | undefined): pki.CertIdentity | undefined {
    if (!cert) return undefined;
    const hit = this.#entries.get(cert.fingerprint256);
    if (hit) {
      this.#entries.delete(cert.fingerprint256);
      this.#entries.set(cert.fingerprint256, hit);
      return hit;
    }
    const identity = pki.peerIdentity(cert.raw);
    this.#entries.set(cert.fingerprint256, identity);
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return identity;
  }
}
