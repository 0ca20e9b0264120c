// A cluster for the CA and auth tests: a store with the cluster object and join tokens, its root
// CA (kept beside the store until Cluster.root_ca exists), and materials issued by it, all at the
// real clock (OpenSSL checks certificates against it).
import * as grpc from "@grpc/grpc-js";
import {
  Cluster,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  pki,
  serverCredentials,
  TlsMaterial,
  type RootCA,
  type TlsFiles,
} from "@shoal/shared";
import { MemoryStore } from "../../src/state/store/index.js";
import { newRootCa, type RootCaOf } from "../../src/ca/root-ca.js";

export const CLUSTER_ID = "c1u5ter0000000000000000001";

export interface TestCluster {
  readonly store: MemoryStore;
  readonly ca: pki.CertificateAuthority;
  readonly rootCaOf: RootCaOf;
  readonly tokens: pki.JoinTokens;
  /** Replaces the stored RootCA (revocations, rotations). */
  setRootCa(rootCa: RootCA): void;
  rootCa(): RootCA;
}

export async function testCluster(): Promise<TestCluster> {
  const { rootCa, ca } = await newRootCa({ clusterId: CLUSTER_ID, now: Date.now() });
  const tokens = { worker: pki.newJoinToken(ca.digest), manager: pki.newJoinToken(ca.digest) };
  const store = new MemoryStore();
  await store.update((tx) =>
    tx.clusters.create(
      Cluster.fromPartial({ id: CLUSTER_ID, spec: { annotations: { name: "default" } }, rootJoinTokens: tokens }),
    ),
  );
  let stored = rootCa;
  return {
    store,
    ca,
    tokens,
    rootCaOf: (cluster) => (cluster.id === CLUSTER_ID ? stored : undefined),
    setRootCa: (next) => void (stored = next),
    rootCa: () => stored,
  };
}

/** Adds a node of `role` to the store. */
export async function addNode(store: MemoryStore, id: string, role: "worker" | "manager"): Promise<void> {
  const r = role === "manager" ? NodeRole.MANAGER : NodeRole.WORKER;
  await store.update((tx) =>
    tx.nodes.create(
      Node.fromPartial({
        id,
        role: r,
        spec: { desiredRole: r, availability: NodeAvailability.ACTIVE },
        status: { state: NodeState.READY },
      }),
    ),
  );
}

/** Files for `name` with `role`, issued now by `ca`, trusting `roots` (default: ca). */
export async function issueFiles(
  ca: pki.CertificateAuthority,
  name: string,
  role: pki.CertRole,
  roots = ca.certPem,
  clusterId = CLUSTER_ID,
): Promise<TlsFiles> {
  const { keyPem, csrPem } = await pki.createKeyAndCsr();
  const { certChainPem } = await ca.issue(csrPem, { nodeId: name, role, clusterId, now: Date.now() });
  return { caPem: roots, certChainPem, keyPem };
}

export async function material(ca: pki.CertificateAuthority, name: string, role: pki.CertRole): Promise<TlsMaterial> {
  return new TlsMaterial(await issueFiles(ca, name, role));
}

export interface Served {
  readonly server: grpc.Server;
  readonly addr: string;
}

/** A gRPC server with the cluster's credentials on 127.0.0.1 and a free port. */
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
  return { server, addr: `127.0.0.1:${port}` };
}
