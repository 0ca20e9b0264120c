// Set-up for the TLS tests: a cluster CA at the real clock (OpenSSL checks certificates against
// it), node materials issued by it, and a gRPC server on loopback with the cluster's credentials.
import * as grpc from "@grpc/grpc-js";
import { CertificateAuthority, createKeyAndCsr, type CertRole } from "../../src/pki/index.js";
import { serverCredentials, TlsMaterial, type TlsFiles } from "../../src/tls/index.js";

export const CLUSTER = "c1u5ter0000000000000000001";

export function newRoot(clusterId = CLUSTER): Promise<CertificateAuthority> {
  return CertificateAuthority.create({ clusterId, now: Date.now() });
}

/** Files for `nodeId` with `role`, issued now by `ca`, trusting `roots` (default: ca alone). */
export async function issueFiles(
  ca: CertificateAuthority,
  nodeId: string,
  role: CertRole,
  options: { lifetimeMs?: number; roots?: string; clusterId?: string } = {},
): Promise<TlsFiles> {
  const { keyPem, csrPem } = await createKeyAndCsr();
  const { certChainPem } = await ca.issue(csrPem, {
    nodeId,
    role,
    clusterId: options.clusterId ?? CLUSTER,
    now: Date.now(),
    ...(options.lifetimeMs !== undefined ? { lifetimeMs: options.lifetimeMs } : {}),
  });
  return { caPem: options.roots ?? ca.certPem, certChainPem, keyPem };
}

export async function material(ca: CertificateAuthority, nodeId: string, role: CertRole): Promise<TlsMaterial> {
  return new TlsMaterial(await issueFiles(ca, nodeId, role));
}

export interface Served {
  readonly server: grpc.Server;
  readonly addr: string;
  readonly port: number;
}

/** A gRPC server with the cluster's server credentials on 127.0.0.1 and a free port. */
export async function serve(
  tls: TlsMaterial,
  services: readonly (readonly [grpc.ServiceDefinition, object])[],
  options: grpc.ServerOptions = {},
): Promise<Served> {
  const server = new grpc.Server(options);
  for (const [definition, impl] of services) server.addService(definition, impl as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, addr: `127.0.0.1:${port}`, port };
}

/** Stops the server at once, ending open streams. */
export function shutdown(served: Served | undefined): void {
  served?.server.forceShutdown();
}
