// Restoring a backup into a new data dir, before the manager starts (`shoal manager
// --force-new-cluster --restore FILE --data-dir NEW`). The file is read and checked whole (header,
// digest, and that the store decodes) before anything is written. Then the data dir gets a new
// identity (a new node id and raft id) and a raft log that holds only the backup, as a snapshot
// at the backup's index naming this manager as the only member. The manager then starts as with
// --force-new-cluster: a new term, this manager the only voter and the leader.
//
// What the new cluster keeps from the backup: every object of the store, so the cluster id, the
// join tokens, the services and their tasks, and the nodes. The nodes come back as they were
// recorded; the new leader gives each the grace time of a leader change, so an agent pointed at
// the new manager (with the same token) rejoins as the same node and keeps its containers, and
// one that never comes back is marked down and its tasks are moved. The old managers are not
// members of the new group: new managers join it with the manager token.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  ErrorCode,
  RaftMember,
  RaftSnapshotData,
  ShoalError,
  newId,
  pki,
  writeCertFiles,
  type BackupHeader,
  type Clock,
  type Logger,
} from "@shoal/shared";
import { openRaftDisk } from "@shoal/raft";
import { NODE_CERT_DIR } from "../ca/cluster-init.js";
import { RootCaCache, trustedRootsPem } from "../ca/root-ca.js";
import { saveIdentity, type ManagerIdentity } from "../identity.js";
import { newRaftId } from "../state/raft/raft-server.js";
import { MemoryStore } from "../state/store/index.js";
import { BackupFileError, readBackupFile } from "./backup-file.js";

export interface RestoreOptions {
  readonly file: string;
  readonly dataDir: string;
  /** The address the manager will advertise (recorded in the snapshot; force-new-cluster sets it again). */
  readonly addr: string;
  /** The restored manager's certificate is valid from its now(). */
  readonly clock: Clock;
  readonly logger: Logger;
  /** fsync the raft log (default true). */
  readonly sync?: boolean;
}

export interface Restored {
  readonly header: BackupHeader;
  readonly identity: ManagerIdentity;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw err;
    },
  );
}

/** Checks a backup file whole; throws BackupFileError (DATA_LOSS) if it cannot be restored. */
export async function checkBackupFile(file: string): Promise<{ header: BackupHeader; store: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err: unknown) {
    throw new ShoalError(ErrorCode.NotFound, `cannot read the backup ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const { header, store } = readBackupFile(bytes);
  try {
    new MemoryStore().restore(store);
  } catch (err: unknown) {
    throw new BackupFileError(`its store does not decode (${(err as Error).message})`, { cause: err });
  }
  return { header, store };
}

/** Writes the backup into an empty data dir as the start of a one-manager cluster. */
export async function restoreBackup(options: RestoreOptions): Promise<Restored> {
  for (const held of ["identity.json", "raft"]) {
    if (await exists(join(options.dataDir, held))) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `--restore needs a new data dir: ${options.dataDir} already holds a manager's state (${held})`,
      );
    }
  }
  const { header, store } = await checkBackupFile(options.file);
  // The cluster keeps its CA (in the backup): this manager's certificate comes from it, so that
  // the nodes and clients of the cluster trust it.
  const restored = new MemoryStore({ clock: options.clock });
  restored.restore(store);
  const cluster = restored.view((tx) => tx.clusters.find()[0]);
  restored.close();
  const rootCa = cluster?.rootCa;
  if (!cluster || !rootCa || rootCa.caKey.length === 0) {
    throw new BackupFileError("it holds no cluster CA (a backup from before mutual TLS?)");
  }
  const identity: ManagerIdentity = { nodeId: newId(), raftId: newRaftId(), clusterId: cluster.id };
  const signer = await new RootCaCache().signer(rootCa);
  const { keyPem, csrPem } = await pki.createKeyAndCsr();
  const host = options.addr.slice(0, options.addr.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  const { certChainPem } = await signer.issue(csrPem, {
    nodeId: identity.nodeId,
    role: "manager",
    clusterId: cluster.id,
    now: options.clock.now(),
    hosts: ["127.0.0.1", "localhost", ...(host !== "" && host !== "0.0.0.0" ? [host] : [])],
  });
  await writeCertFiles(join(options.dataDir, NODE_CERT_DIR), { caPem: trustedRootsPem(rootCa), certChainPem, keyPem });
  const index = Math.max(1, header.raftIndex);
  const self = RaftMember.create({ raftId: identity.raftId, nodeId: identity.nodeId, addr: options.addr });
  const disk = await openRaftDisk(join(options.dataDir, "raft"), { sync: options.sync ?? true });
  try {
    await disk.persist({
      snapshot: {
        data: RaftSnapshotData.encode({ members: [self], store }).finish(),
        metadata: { index, term: 1, confState: { voters: [identity.raftId] } },
      },
      entries: [],
      hardState: { term: 1, vote: 0, commit: index },
      mustSync: true,
    });
  } finally {
    await disk.close();
  }
  // The identity last: a data dir without it is not taken for a manager's.
  await saveIdentity(options.dataDir, identity);
  options.logger.warn(
    {
      file: options.file,
      clusterId: header.clusterId,
      raftIndex: header.raftIndex,
      takenAt: header.createdAt?.toISOString(),
      services: header.services,
      tasks: header.tasks,
      nodes: header.nodes,
    },
    "restored a backup into a new data dir; starting as the only manager of the cluster",
  );
  return { header, identity };
}
