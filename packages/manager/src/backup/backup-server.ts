// The Backup gRPC service: a consistent copy of the store from a running cluster. The manager
// that answers first confirms with the leader that it has applied everything committed (read
// index: a follower answers as well as the leader), then captures its store at one applied index
// and streams the backup file (backup-file.ts) in chunks.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  ShoalError,
  VERSION,
  toServiceError,
  type BackupServer,
  type Clock,
  type CreateBackupRequest,
  type CreateBackupResponse,
} from "@shoal/shared";
import type { LinearizableReader } from "../state/raft/raft-view.js";
import type { MemoryStore } from "../state/store/index.js";
import { BACKUP_FORMAT_VERSION, backupPrefix, sha256 } from "./backup-file.js";

const CHUNK = 1024 * 1024;

export interface BackupServerOptions {
  readonly store: MemoryStore;
  /** Read index, so that the backup holds everything committed before the call. */
  readonly raft: () => LinearizableReader | undefined;
  readonly nodeId: string;
  /** Dates the backup (its header's createdAt). */
  readonly clock: Clock;
}

export function backupHandlers(options: BackupServerOptions): BackupServer {
  return {
    createBackup: (call: grpc.ServerWritableStream<CreateBackupRequest, CreateBackupResponse>) => {
      void serve(options, call);
    },
  };
}

async function serve(
  options: BackupServerOptions,
  call: grpc.ServerWritableStream<CreateBackupRequest, CreateBackupResponse>,
): Promise<void> {
  const abort = new AbortController();
  call.once("cancelled", () => abort.abort());
  try {
    const raft = options.raft();
    if (raft === undefined) throw new ShoalError(ErrorCode.Unavailable, "this manager is still starting");
    await raft.linearizableRead(abort.signal);
    const store = options.store;
    // One moment: the counts, the index and the capture that saveAsync takes at once.
    const counts = store.view((tx) => ({
      clusterId: tx.clusters.find()[0]?.id ?? "",
      services: tx.services.find().length,
      tasks: tx.tasks.find().length,
      nodes: tx.nodes.find().length,
    }));
    const index = store.appliedIndex;
    const bytes = await store.saveAsync({ signal: abort.signal });
    const header = {
      formatVersion: BACKUP_FORMAT_VERSION,
      clusterId: counts.clusterId,
      raftIndex: index,
      createdAt: new Date(options.clock.now()),
      nodeId: options.nodeId,
      shoalVersion: VERSION,
      storeSize: bytes.length,
      storeSha256: sha256(bytes),
      services: counts.services,
      tasks: counts.tasks,
      nodes: counts.nodes,
    };
    const write = async (message: CreateBackupResponse): Promise<void> => {
      if (!call.write(message)) await new Promise<void>((resolve) => call.once("drain", () => resolve()));
    };
    await write({ header, chunk: backupPrefix(header) });
    for (let at = 0; at < bytes.length && !abort.signal.aborted; at += CHUNK) {
      await write({ header: undefined, chunk: bytes.subarray(at, at + CHUNK) });
    }
    call.end();
  } catch (err: unknown) {
    if (!call.cancelled) call.destroy(toServiceError(err) as Error);
  }
}
