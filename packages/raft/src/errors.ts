// Errors raised by the Raft core and its storage. Each has a stable `code` so the manager can map it to a
// status at its edge without matching on messages.

export type RaftErrorCode =
  | "ERR_RAFT_COMPACTED"
  | "ERR_RAFT_UNAVAILABLE"
  | "ERR_RAFT_SNAP_OUT_OF_DATE"
  | "ERR_RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE"
  | "ERR_RAFT_PROPOSAL_DROPPED"
  | "ERR_RAFT_STEP_LOCAL_MSG"
  | "ERR_RAFT_STEP_PEER_NOT_FOUND"
  | "ERR_RAFT_INVALID_CONFIG"
  | "ERR_RAFT_READY_NOT_ADVANCED"
  | "ERR_RAFT_INVARIANT";

export class RaftError extends Error {
  readonly code: RaftErrorCode;

  constructor(code: RaftErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The requested index is older than the storage's first index: it was compacted into a snapshot. */
export class CompactedError extends RaftError {
  constructor() {
    super("ERR_RAFT_COMPACTED", "requested index is unavailable due to compaction");
  }
}

/** The requested index is newer than anything the storage holds. */
export class UnavailableError extends RaftError {
  constructor() {
    super("ERR_RAFT_UNAVAILABLE", "requested entry at index is unavailable");
  }
}

/** A snapshot older than the one already held was applied or requested. */
export class SnapOutOfDateError extends RaftError {
  constructor() {
    super("ERR_RAFT_SNAP_OUT_OF_DATE", "requested index is older than the existing snapshot");
  }
}

/** The storage is building a snapshot; the leader retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super("ERR_RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE", "snapshot is temporarily unavailable");
  }
}

export type ProposalDropReason =
  | "no-leader" // follower or candidate that knows no leader
  | "not-leader" // candidate, or forwarding disabled
  | "leader-transfer" // the leader is handing over leadership
  | "not-member" // the leader was removed from the configuration
  | "conf-change-pending" // a previous membership change is not applied yet
  | "empty"; // nothing to propose

/** A proposal (or read request) was not accepted; the caller may retry, typically once a leader is known. */
export class ProposalDroppedError extends RaftError {
  readonly reason: ProposalDropReason;

  constructor(reason: ProposalDropReason) {
    super("ERR_RAFT_PROPOSAL_DROPPED", `raft proposal dropped: ${reason}`);
    this.reason = reason;
  }
}

/** A message type that is only ever stepped locally (MsgHup, MsgBeat, ...) arrived through step(). */
export class StepLocalMessageError extends RaftError {
  constructor(readonly messageType: string) {
    super("ERR_RAFT_STEP_LOCAL_MSG", `cannot step local message ${messageType} from the network`);
  }
}

/** A response came from a node that is not in the configuration. */
export class StepPeerNotFoundError extends RaftError {
  constructor(readonly peer: number) {
    super("ERR_RAFT_STEP_PEER_NOT_FOUND", `response from unknown peer ${peer}`);
  }
}

export class InvalidConfigError extends RaftError {
  constructor(message: string) {
    super("ERR_RAFT_INVALID_CONFIG", message);
  }
}

/** ready() was called again before advance() acknowledged the previous Ready. */
export class ReadyNotAdvancedError extends RaftError {
  constructor() {
    super("ERR_RAFT_READY_NOT_ADVANCED", "ready() called before advance() of the previous Ready");
  }
}

/** An internal invariant does not hold: storage lost acknowledged data, or a bug. Not recoverable. */
export class RaftInvariantError extends RaftError {
  constructor(message: string) {
    super("ERR_RAFT_INVARIANT", message);
  }
}
