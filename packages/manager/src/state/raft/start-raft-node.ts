// A manager's Raft node with its real parts: the data dir's disk (write-ahead log and snapshots,
// sealed with the data keys), the gRPC transport over mutual TLS, the system clock and crypto
// randomness. Tests build a RaftNode from in-memory twins instead.
import { componentLogger, systemClock, type Clock, type TlsMaterial } from "@shoal/shared";
import { openRaftDisk, type KeyRing } from "@shoal/raft";
import { cryptoRandomBytes } from "../../random-bytes.js";
import type { PeerReports } from "./peer-transport.js";
import { RaftNode, type RaftNodeSettings } from "./raft-node.js";
import { toRaftLogger } from "./raft-logger.js";
import { RaftTransport } from "./transport.js";

export interface StartRaftNodeOptions extends RaftNodeSettings {
  /** This manager's certificate, for mutual TLS with the other managers. */
  readonly material: TlsMaterial;
  /** The Raft files' directory (<data dir>/raft). */
  readonly dataDir: string;
  /** fsync the log; default true. */
  readonly sync?: boolean;
  /** Data keys of the Raft files (encryption at rest, see encryption/raft-keys.ts); clear without. */
  readonly dataKeys?: KeyRing;
  /** A snapshot replaced the data under older data keys: those not in `inUse` may be forgotten. */
  onDataKeysReleased?(inUse: ReadonlySet<string>): void;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** Opens the disk, connects the transport, and resolves with the node started. */
export async function startRaftNode(options: StartRaftNodeOptions): Promise<RaftNode> {
  const { material, dataDir, sync, dataKeys, onDataKeysReleased, clock = systemClock, ...settings } = options;
  const disk = await openRaftDisk(dataDir, {
    logger: toRaftLogger(componentLogger(options.logger, "raft", { raftId: options.raftId })),
    sync: sync ?? true,
    ...(dataKeys === undefined ? {} : { keys: dataKeys }),
    ...(onDataKeysReleased === undefined ? {} : { onKeysReleased: (inUse) => onDataKeysReleased(inUse) }),
  });
  // The transport reports delivery to the node, made just after it (it reports nothing before).
  const reports: PeerReports = {
    reportUnreachable: (id) => node.reportUnreachable(id),
    reportSnapshot: (id, delivered) => node.reportSnapshot(id, delivered),
    reportPeerGone: (id) => node.reportPeerGone(id),
  };
  const transport = new RaftTransport({ logger: options.logger, material, reports, clock });
  const node = new RaftNode({ ...settings, disk, transport, clock, random: cryptoRandomBytes });
  try {
    await node.start();
  } catch (err: unknown) {
    await node.stop();
    throw err;
  }
  return node;
}
