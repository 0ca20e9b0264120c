// shoal cluster backup FILE: a consistent copy of the cluster's store from a running cluster,
// written atomically (a temporary file, fsynced, then renamed over FILE). Restore it into a new
// cluster with `shoal manager --force-new-cluster --restore FILE --data-dir NEW`.
import { open, rename, rm } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import type { Command } from "commander";
import {
  BackupClient,
  ErrorCode,
  ShoalError,
  fromServiceError,
  type BackupHeader,
  type CreateBackupResponse,
} from "@shoal/shared";
import { MANAGER_HELP, managerAddresses } from "../client.js";
import { clientTls } from "../tls.js";

/** Streams the backup from the first manager that answers into `write`; returns its header. */
async function fetchBackup(
  addrs: readonly string[],
  write: (chunk: Uint8Array) => Promise<void>,
): Promise<BackupHeader> {
  let lastError: unknown;
  for (const addr of addrs) {
    const tls = await clientTls();
    const client = new BackupClient(addr, tls.credentials, tls.options);
    let header: BackupHeader | undefined;
    try {
      const call = client.createBackup({}, { deadline: Date.now() + 10 * 60_000 });
      for await (const res of call as AsyncIterable<CreateBackupResponse>) {
        header ??= res.header;
        await write(res.chunk);
      }
      if (header === undefined) throw new ShoalError(ErrorCode.Unavailable, `${addr} sent no backup`);
      return header;
    } catch (err: unknown) {
      lastError = fromServiceError(err);
      // Another manager may serve it if this one sent nothing.
      if (header !== undefined || (lastError as ShoalError).code !== ErrorCode.Unavailable) throw lastError;
    } finally {
      client.close();
    }
  }
  throw lastError;
}

export function registerBackupCommand(program: Command): void {
  const cluster = program.commands.find((c) => c.name() === "cluster");
  if (cluster === undefined) throw new Error("the cluster command is registered first");
  cluster
    .command("backup")
    .description(
      "write a consistent copy of the cluster's state (services, tasks, nodes, cluster settings and tokens) to FILE",
    )
    .argument("<file>", "where to write the backup (replaced atomically)")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (file: string, flags: { manager?: string }) => {
      const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
      const out = await open(tmp, "wx", 0o600);
      let header: BackupHeader;
      try {
        header = await fetchBackup(managerAddresses(flags.manager), async (chunk) => {
          await out.write(chunk);
        });
        await out.sync();
        await out.close();
        await rename(tmp, file);
      } catch (err: unknown) {
        await out.close().catch(() => undefined);
        await rm(tmp, { force: true });
        throw err;
      }
      process.stdout.write(
        `Backup of cluster ${header.clusterId} at raft index ${header.raftIndex} written to ${file}: ` +
          `${header.services} services, ${header.tasks} tasks, ${header.nodes} nodes ` +
          `(${header.storeSize} bytes, taken by ${header.nodeId} at ${header.createdAt?.toISOString() ?? "?"})\n`,
      );
    });
}
