// Shared set-up for the PKI tests: a clock, a root CA and certificates issued by it.
import { CertificateAuthority, type CertRole } from "../../src/pki/index.js";
import { createKeyAndCsr } from "../../src/pki/index.js";

export const NOW = Date.parse("2026-03-01T12:00:00Z");
export const DAY = 24 * 60 * 60 * 1000;
export const CLUSTER = "c1u5ter0000000000000000001";

export function newRoot(now = NOW, clusterId = CLUSTER): Promise<CertificateAuthority> {
  return CertificateAuthority.create({ clusterId, now });
}

export interface Issued {
  readonly keyPem: string;
  readonly certChainPem: string;
}

export async function issue(
  ca: CertificateAuthority,
  nodeId: string,
  role: CertRole,
  options: { now?: number; lifetimeMs?: number; clusterId?: string; hosts?: string[] } = {},
): Promise<Issued> {
  const { keyPem, csrPem } = await createKeyAndCsr();
  const { certChainPem } = await ca.issue(csrPem, {
    nodeId,
    role,
    clusterId: options.clusterId ?? CLUSTER,
    now: options.now ?? NOW,
    ...(options.lifetimeMs !== undefined ? { lifetimeMs: options.lifetimeMs } : {}),
    ...(options.hosts !== undefined ? { hosts: options.hosts } : {}),
  });
  return { keyPem, certChainPem };
}
