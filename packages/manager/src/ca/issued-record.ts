// What the CA writes down about each node certificate it issues, so that a root rotation knows
// who still holds a certificate from the old key: Node.certificate for the certificate of a
// node's agent (or of a manager no agent runs beside); for a manager's own certificate, its id in
// root_rotation.renewed_managers when the certificate is from the rotation's new key.
import type { WriteTx } from "../state/store/index.js";
import { recordManagerRenewal } from "./root-rotation.js";

export interface IssuedRecord {
  readonly nodeId: string;
  /** Hex, lower case. */
  readonly serialNumber: string;
  /** The digest of the root whose key signed it. */
  readonly issuerDigest: string;
  readonly notAfter: Date | undefined;
}

/** Writes `record` in the transaction; does nothing for a node id the store does not know otherwise. */
export function recordIssued(tx: WriteTx, record: IssuedRecord): void {
  const certificate = {
    serialNumber: record.serialNumber.toLowerCase(),
    issuerDigest: record.issuerDigest,
    notAfter: record.notAfter,
  };
  const node = tx.nodes.get(record.nodeId);
  if (node) {
    tx.nodes.update({ ...node, certificate });
    return;
  }
  recordManagerIssued(tx, record);
}

/** Records a manager's own certificate in the running rotation (nothing when none runs). */
export function recordManagerIssued(tx: WriteTx, record: IssuedRecord): void {
  const cluster = tx.clusters.find()[0];
  if (!cluster?.rootCa) return;
  const rootCa = recordManagerRenewal(cluster.rootCa, record.nodeId, record.issuerDigest);
  if (rootCa !== cluster.rootCa) tx.clusters.update({ ...cluster, rootCa });
}
