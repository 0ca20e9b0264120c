// Who is calling: the identity the auth interceptor read from the peer's verified certificate,
// handed to the handlers. It is attached to the call's Metadata object (a WeakMap entry, not a
// header), so a client cannot forge it by sending metadata.
//
// A follower that forwards a call to the leader (Control writes, RaftMembership.Join and Leave,
// Logs.SubscribeLogs, NodeCA.IssueNodeCertificate) calls with its own manager certificate and
// names the original caller in the header `shoal-forwarded-for` (forwardedMetadata). The leader's
// interceptor believes that header only from a manager, checks the original caller against the
// policy as if it had called directly, and hands that identity to the handler. The header
// `shoal-forwarded` marks the call as forwarded (isForwarded): a receiver that is not the leader
// either answers NOT_LEADER rather than forward it again, so that two managers with stale views
// of the leader never bounce a call between them.
import * as grpc from "@grpc/grpc-js";
import type { pki } from "@shoal/shared";

export const FORWARDED_FOR = "shoal-forwarded-for";
/** Set on every forwarded call; anyone may send it, and it only keeps the call from going further. */
export const FORWARDED = "shoal-forwarded";
const ANONYMOUS = "anonymous";

const callers = new WeakMap<grpc.Metadata, pki.CertIdentity>();

/** Called by the interceptor only. */
export function setCaller(metadata: grpc.Metadata, identity: pki.CertIdentity): void {
  callers.set(metadata, identity);
}

/**
 * The caller's identity (node id, role, cluster, serial) from its certificate, or undefined for a
 * peer without one (only NodeCA lets such a call through). Pass the handler's `call.metadata`.
 */
export function callerOf(metadata: grpc.Metadata): pki.CertIdentity | undefined {
  return callers.get(metadata);
}

/** Metadata for a call a follower forwards on behalf of `caller` (undefined: an anonymous caller). */
export function forwardedMetadata(
  caller: pki.CertIdentity | undefined,
  metadata: grpc.Metadata = new grpc.Metadata(),
): grpc.Metadata {
  metadata.set(
    FORWARDED_FOR,
    caller === undefined
      ? ANONYMOUS
      : JSON.stringify({
          nodeId: caller.nodeId,
          role: caller.role,
          clusterId: caller.clusterId,
          serialNumber: caller.serialNumber,
          notBefore: caller.notBefore.toISOString(),
          notAfter: caller.notAfter.toISOString(),
        }),
  );
  metadata.set(FORWARDED, "1");
  return metadata;
}

/** Whether the call came forwarded by another manager: it is not forwarded again. */
export function isForwarded(metadata: grpc.Metadata): boolean {
  return metadata.get(FORWARDED).length > 0;
}

/** The original caller a forwarded call names: an identity, undefined (anonymous), or "invalid". */
export function parseForwardedFor(value: string): pki.CertIdentity | undefined | "invalid" {
  if (value === ANONYMOUS) return undefined;
  try {
    const v = JSON.parse(value) as Record<string, unknown>;
    const str = (key: string): string => (typeof v[key] === "string" ? v[key] : "");
    const role = str("role");
    if (str("nodeId") === "" || str("clusterId") === "" || !["worker", "manager", "client"].includes(role)) {
      return "invalid";
    }
    return {
      nodeId: str("nodeId"),
      role: role as pki.CertRole,
      clusterId: str("clusterId"),
      serialNumber: str("serialNumber"),
      notBefore: new Date(str("notBefore")),
      notAfter: new Date(str("notAfter")),
      issuerKeyId: undefined,
    };
  } catch {
    return "invalid";
  }
}
