// Root CA rotation as the store sees it (`shoal cluster ca --rotate`), as pure functions over the
// cluster's RootCA and the nodes; the leader's RootRotationReconciler drives them.
//
// 1. start (the Control API's UpdateCluster with rotation.root_ca): a new root, cross-signed by the
//    current one, goes into root_ca.root_rotation. From then on the CA signs with the new key
//    (RootCaCache), every node trusts both roots (trustedRootsPem), and a node whose certificate is
//    not from the new key is told to renew (the dispatcher's session: needsRenewal).
// 2. each certificate issued records its issuer: Node.certificate for a node's agent (or a
//    manager no agent runs beside), and root_rotation.renewed_managers for a manager's own.
// 3. finish, once every node and every manager holds a certificate from the new key: the new root
//    alone is root_ca, and both join tokens are made again with its digest (the old ones no
//    longer admit anyone). Nodes then renew once more to drop the old root from their trust.
//
// A node that is down blocks the finish until it comes back or is removed (`shoal node rm`), as in
// Docker Swarm: it would otherwise be locked out when the old root stops being trusted.
import { pki, RootCA, type Cluster, type JoinTokens, type Node } from "@shoal/shared";
import { currentDigest } from "./root-ca.js";
import { managerOnly } from "../nodes/manager-node.js";

/** How far a running rotation has got. */
export interface RotationProgress {
  /** The root being replaced (what join tokens pin until the end). */
  readonly oldDigest: string;
  /** The root being rolled out (what the CA signs with). */
  readonly newDigest: string;
  /** Nodes and managers that must hold a certificate from the new key. */
  readonly total: number;
  readonly done: number;
  /** Ids still holding a certificate from the old key, sorted. */
  readonly pending: readonly string[];
}

export type RotationStep =
  | { readonly kind: "idle" }
  | { readonly kind: "waiting"; readonly progress: RotationProgress }
  | {
      readonly kind: "finish";
      readonly progress: RotationProgress;
      /** The RootCA to store: the new root alone. */
      readonly rootCa: RootCA;
      /** Both tokens made again with the new root's digest. */
      readonly tokens: JoinTokens;
    };

/** Whether a root rotation runs. */
export function isRotating(rootCa: RootCA | undefined): boolean {
  return (rootCa?.rootRotation?.caCert.length ?? 0) > 0;
}

/** The digest of the root that signs now: the new root during a rotation, else the current one. */
export function signingDigest(rootCa: RootCA): string {
  const rotation = rootCa.rootRotation;
  return rotation && rotation.caCert.length > 0 ? pki.caDigest(text(rotation.caCert)) : currentDigest(rootCa);
}

/** Whether a node should renew now for the rotation: its certificate is not from the new key. */
export function needsRenewal(rootCa: RootCA | undefined, node: Node): boolean {
  if (!rootCa || !isRotating(rootCa)) return false;
  return node.certificate?.issuerDigest !== signingDigest(rootCa);
}

/**
 * Starts a rotation: a new root (its own key and CN), cross-signed by the current root. A rotation
 * already running is replaced (its nodes renew again), as `docker swarm ca --rotate` does.
 */
export async function startRotation(rootCa: RootCA, clusterId: string, now: number): Promise<RootCA> {
  const current = await pki.CertificateAuthority.load({ certPem: text(rootCa.caCert), keyPem: text(rootCa.caKey) });
  const rotation = await pki.startRootRotation(current, { clusterId, now });
  return RootCA.fromPartial({
    ...rootCa,
    rootRotation: {
      caCert: Buffer.from(rotation.signer.certPem),
      caKey: Buffer.from(rotation.signer.exportKeyPem()),
      crossSignedCaCert: Buffer.from(rotation.crossSignedPem),
      renewedManagers: [],
    },
  });
}

/**
 * The RootCA after a certificate was issued to manager `nodeId` by `issuerDigest`: a manager's own
 * certificate is recorded in the rotation (its node's agent records its own in Node.certificate).
 * Unchanged (the same object) when there is nothing to record.
 */
export function recordManagerRenewal(rootCa: RootCA, nodeId: string, issuerDigest: string): RootCA {
  const rotation = rootCa.rootRotation;
  if (!rotation || rotation.caCert.length === 0) return rootCa;
  if (issuerDigest !== pki.caDigest(text(rotation.caCert)) || rotation.renewedManagers.includes(nodeId)) return rootCa;
  return { ...rootCa, rootRotation: { ...rotation, renewedManagers: [...rotation.renewedManagers, nodeId] } };
}

/**
 * Progress of the running rotation (undefined when none runs): every node in the store and every
 * manager of the Raft group (`managerIds`) must hold a certificate from the new key.
 */
export function rotationProgress(
  rootCa: RootCA | undefined,
  nodes: readonly Node[],
  managerIds: readonly string[],
): RotationProgress | undefined {
  if (!rootCa || !isRotating(rootCa)) return undefined;
  const newDigest = signingDigest(rootCa);
  const renewedManagers = new Set(rootCa.rootRotation?.renewedManagers ?? []);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const members = new Set(managerIds);
  const ids = new Set([...byId.keys(), ...managerIds]);
  const pending: string[] = [];
  for (const id of ids) {
    const node = byId.get(id);
    const nodeRecord = node?.certificate?.issuerDigest === newDigest;
    // A manager with an agent beside it holds two certificates (the agent's is the node's record,
    // the manager's is in the rotation): both must be new. A manager alone may be in either.
    const alone = node !== undefined && managerOnly(node);
    const agentDone = node === undefined || nodeRecord || (alone && renewedManagers.has(id));
    const managerDone = !members.has(id) || renewedManagers.has(id) || (alone && nodeRecord);
    if (!(agentDone && managerDone)) pending.push(id);
  }
  pending.sort();
  return {
    oldDigest: currentDigest(rootCa),
    newDigest,
    total: ids.size,
    done: ids.size - pending.length,
    pending,
  };
}

/** The RootCA once a rotation ends: the new root alone; revocations and issued clients kept. */
export function finishedRootCa(rootCa: RootCA): RootCA {
  const rotation = rootCa.rootRotation;
  if (!rotation || rotation.caCert.length === 0) return rootCa;
  return RootCA.fromPartial({
    caCert: rotation.caCert,
    caKey: rotation.caKey,
    caCertDigest: pki.caDigest(text(rotation.caCert)),
    revoked: rootCa.revoked,
    clients: rootCa.clients,
  });
}

/**
 * What to do about the cluster's rotation: nothing, wait, or finish. It never finishes without a
 * manager to count (the leader is one), so a member list not known yet cannot end it early.
 */
export function planRotation(
  cluster: Cluster | undefined,
  nodes: readonly Node[],
  managerIds: readonly string[],
  newJoinToken: (digest: string) => string = pki.newJoinToken,
): RotationStep {
  const rootCa = cluster?.rootCa;
  const progress = rotationProgress(rootCa, nodes, managerIds);
  if (!rootCa || !progress) return { kind: "idle" };
  if (progress.pending.length > 0 || managerIds.length === 0) return { kind: "waiting", progress };
  return {
    kind: "finish",
    progress,
    rootCa: finishedRootCa(rootCa),
    tokens: { worker: newJoinToken(progress.newDigest), manager: newJoinToken(progress.newDigest) },
  };
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("utf8");
}
