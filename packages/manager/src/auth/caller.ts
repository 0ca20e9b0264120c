// Who is calling: the identity the auth interceptor read from the peer's verified certificate,
// handed to the handlers. It is attached to the call's Metadata object (a WeakMap entry, not a
// header), so a client cannot forge it by sending metadata.
import type * as grpc from "@grpc/grpc-js";
import type { pki } from "@shoal/shared";

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
