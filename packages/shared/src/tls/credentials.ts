// gRPC credentials for the cluster's mutual TLS, all built on a TlsMaterial so that renewals and
// new roots apply without a restart.
import * as grpc from "@grpc/grpc-js";
import { MANAGER_SERVER_NAME } from "../pki/identity.js";
import type { TlsMaterial } from "./tls-material.js";

/**
 * A manager's server credentials: TLS with its certificate, asking every peer for a certificate
 * and checking any it gets against the roots, but not requiring one, so that a joining node
 * (which has none yet) can reach NodeCA. A peer whose certificate does not verify completes the
 * handshake but has no identity (grpc-js's getAuthContext() is empty unless the peer was
 * authorized), so the auth interceptor treats it as anonymous: NodeCA only. Never
 * ServerCredentials.createSsl(ca, pairs, true): it refuses peers without a certificate at the
 * handshake, and nobody could join.
 *
 * The same material is passed as both providers: grpc-js 1.14.7 hands the two arguments to its
 * constructor in the other order, which this does not depend on.
 */
export function serverCredentials(material: TlsMaterial): grpc.ServerCredentials {
  return grpc.experimental.createCertificateProviderServerCredentials(material, material, false);
}

/**
 * A node's (or the CLI's) credentials to call a manager over mutual TLS: it trusts the material's
 * roots, presents its certificate, and checks the manager's certificate for the name
 * swarm-manager; use with MANAGER_CHANNEL_OPTIONS.
 */
export function channelCredentials(material: TlsMaterial): grpc.ChannelCredentials {
  return grpc.experimental.createCertificateProviderChannelCredentials(material, material);
}

/**
 * Channel options that go with channelCredentials (and pinnedCredentials): a manager is checked
 * against the DNS name every manager certificate carries, not against its address.
 *
 * A channel to a manager that is down retries its connection at most every 2 s. grpc-js's default
 * backoff grows to 120 s: a manager down for a minute was then not tried again for up to ~40 s
 * after it came back, so a Raft peer (or an agent) sat out elections and sessions long after the
 * network healed. Callers keep their own, shorter backoffs on top.
 */
export const MANAGER_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  "grpc.ssl_target_name_override": MANAGER_SERVER_NAME,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2000,
});

/**
 * Credentials that trust only the roots given (PEM) and present no certificate: a joining node,
 * once it has checked the manager's roots against its token, asks for its certificate with these.
 */
export function pinnedCredentials(caPem: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(caPem));
}

/**
 * Credentials that trust any server: only for NodeCA.GetRootCACertificate, whose answer the joining
 * node then checks against its token's digest (verifyCaAgainstToken) before it sends anything.
 */
export function bootstrapCredentials(): grpc.ChannelCredentials {
  // No roots at all, rather than grpc-js's default for null: Node's ~140 public roots, parsed
  // into each new secure context (about 65 ms of CPU per join; nothing is checked against them).
  return grpc.credentials.createSsl(Buffer.alloc(0), null, null, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}
