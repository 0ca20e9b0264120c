// Parameters of one Raft node. Times are counted in ticks: the driver calls tick() at a fixed interval.
import { NO_LIMIT } from "./entry-size.js";
import { InvalidConfigError } from "./errors.js";
import type { RaftLogger } from "./logger.js";
import { silentLogger } from "./logger.js";
import type { RandomSource } from "./random.js";
import { seededRandom } from "./random.js";
import type { Storage } from "./storage.js";
import { NONE } from "./types.js";

export interface Config {
  /** This node's id (non-zero). */
  id: number;
  /** The persisted log; Raft only reads it. */
  storage: Storage;
  /** A follower that hears nothing from a leader for a randomized [electionTick, 2 * electionTick) ticks
   *  starts an election. Should be about 10 * heartbeatTick. */
  electionTick: number;
  /** A leader sends heartbeats every heartbeatTick ticks. */
  heartbeatTick: number;
  /** Last applied index when restarting (typically the index of the snapshot the state machine was
   *  restored from); committed entries after it are handed out again. Default: storage.firstIndex() - 1,
   *  which is below the snapshot index if the storage keeps entries before its snapshot. */
  applied?: number;
  /** Byte budget of the entries in one MsgApp (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Byte budget of the committed entries in one Ready. Default: unlimited. */
  maxCommittedSizePerReady?: number;
  /** MsgApps in flight per follower in the replicate state (pipelining window). Default 256. */
  maxInflightMsgs?: number;
  /** Bytes in flight per follower in the replicate state; 0 for no limit. Default 0. */
  maxInflightBytes?: number;
  /** A leader steps down when a quorum was not active in the last election timeout, and followers that
   *  heard from a leader within the election timeout ignore vote requests (leader lease). Default true. */
  checkQuorum?: boolean;
  /** Run a pre-vote round (thesis 9.6) before bumping the term. Default true. */
  preVote?: boolean;
  /** Followers drop proposals instead of forwarding them to the leader. Default false. */
  disableProposalForwarding?: boolean;
  /** Randomness for election timeouts. Default: a generator seeded with the node id. */
  random?: RandomSource;
  logger?: RaftLogger;
}

export type ResolvedConfig = Required<Omit<Config, "applied">> & { applied: number };

export function resolveConfig(c: Config): ResolvedConfig {
  if (!Number.isSafeInteger(c.id) || c.id === NONE || c.id < 0) {
    throw new InvalidConfigError("cannot use none as id");
  }
  if (!Number.isSafeInteger(c.heartbeatTick) || c.heartbeatTick <= 0) {
    throw new InvalidConfigError("heartbeat tick must be greater than 0");
  }
  if (!Number.isSafeInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new InvalidConfigError("election tick must be greater than heartbeat tick");
  }
  const maxInflightMsgs = c.maxInflightMsgs ?? 256;
  if (!Number.isSafeInteger(maxInflightMsgs) || maxInflightMsgs <= 0) {
    throw new InvalidConfigError("max inflight messages must be greater than 0");
  }
  const maxSizePerMsg = c.maxSizePerMsg ?? 1024 * 1024;
  const maxInflightBytes = c.maxInflightBytes ?? 0;
  if (maxInflightBytes !== 0 && maxInflightBytes < maxSizePerMsg) {
    throw new InvalidConfigError("max inflight bytes must be >= max message size");
  }
  return {
    id: c.id,
    storage: c.storage,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    applied: c.applied ?? 0,
    maxSizePerMsg,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady ?? NO_LIMIT,
    maxInflightMsgs,
    maxInflightBytes,
    checkQuorum: c.checkQuorum ?? true,
    preVote: c.preVote ?? true,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    random: c.random ?? seededRandom(c.id),
    logger: c.logger ?? silentLogger,
  };
}
