// Who this manager is: its node id (made once) and, once it is a member, its raft id. Kept in
// DATA_DIR/identity.json, written atomically.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, ShoalError, newId } from "@shoal/shared";

export interface ManagerIdentity {
  readonly nodeId: string;
  /** 0 until the manager founded or joined a cluster. */
  readonly raftId: number;
  /** The cluster's id: chosen before founding it (it names the CA), learnt when joining. */
  readonly clusterId?: string;
}

function file(dataDir: string): string {
  return join(dataDir, "identity.json");
}

export async function loadIdentity(dataDir: string): Promise<{ identity: ManagerIdentity; fresh: boolean }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    const parsed = JSON.parse(await readFile(file(dataDir), "utf8")) as Partial<ManagerIdentity>;
    if (typeof parsed.nodeId !== "string" || !Number.isSafeInteger(parsed.raftId)) {
      throw new ShoalError(ErrorCode.DataLoss, `${file(dataDir)}: nodeId must be a string and raftId an integer`);
    }
    const clusterId = typeof parsed.clusterId === "string" ? { clusterId: parsed.clusterId } : {};
    return { identity: { nodeId: parsed.nodeId, raftId: parsed.raftId!, ...clusterId }, fresh: false };
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const identity = { nodeId: newId(), raftId: 0, clusterId: newId() };
  await saveIdentity(dataDir, identity);
  return { identity, fresh: true };
}

export async function saveIdentity(dataDir: string, identity: ManagerIdentity): Promise<void> {
  const tmp = `${file(dataDir)}.tmp`;
  await writeFile(tmp, `${JSON.stringify(identity)}\n`, { mode: 0o600 });
  await rename(tmp, file(dataDir));
}
