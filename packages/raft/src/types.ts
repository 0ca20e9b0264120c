// The data that crosses the Raft core's boundary: log entries, messages, persistent state and snapshots.
// Everything is a plain object so the manager can map it one-to-one to protobuf. Ids, terms and indexes
// are numbers (exact up to 2^53, far beyond what a cluster will ever reach).

/** Node id 0 means "nobody": no leader known, no vote cast. */
export const NONE = 0;

export type EntryType = "normal" | "confChange";

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to Raft for normal entries; an encoded ConfChange for confChange entries. */
  readonly data: Uint8Array;
}

export type MessageType =
  // Local messages: stepped by the node into itself, never sent over the network.
  | "MsgHup" // start an election (campaign)
  | "MsgBeat" // leader: send heartbeats now
  | "MsgCheckQuorum" // leader: step down unless a quorum was recently active
  | "MsgUnreachable" // transport: the peer in `from` could not be reached
  | "MsgSnapStatus" // transport: a snapshot to the peer in `from` was sent (reject=false) or failed (reject=true)
  | "MsgForgetLeader" // follower: forget the current leader (it is known to be gone), as etcd's ForgetLeader
  // Messages that may be both local and forwarded to the leader.
  | "MsgProp" // proposal of entries
  | "MsgReadIndex" // linearizable read request; entries[0].data is the request context
  | "MsgTransferLeader" // ask the leader to hand leadership to the node in `from`
  // Network messages.
  | "MsgApp"
  | "MsgAppResp"
  | "MsgVote"
  | "MsgVoteResp"
  | "MsgPreVote"
  | "MsgPreVoteResp"
  | "MsgSnap"
  | "MsgHeartbeat"
  | "MsgHeartbeatResp"
  | "MsgTimeoutNow"
  | "MsgReadIndexResp";

export interface ConfState {
  /** The voting members, in ascending order. */
  voters: number[];
}

export interface SnapshotMetadata {
  /** Index and term of the last entry the snapshot covers. */
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export interface Message {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  /** MsgApp: term of the entry at `index`. Vote requests: term of the candidate's last entry.
   *  Rejected MsgAppResp: term of the follower's entry at `rejectHint` (0 when unknown). */
  logTerm: number;
  /** MsgApp: index of the entry preceding `entries`. Vote requests: the candidate's last index.
   *  MsgAppResp: the last index known to match (or the rejected index when `reject`). */
  index: number;
  entries: Entry[];
  commit: number;
  /** Only on MsgSnap. */
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

/** What must be persisted (with fsync) before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

export type StateRole = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state worth reporting to the application; never persisted. */
export interface SoftState {
  lead: number;
  role: StateRole;
}

export type ConfChangeType = "addNode" | "removeNode";

export interface ConfChange {
  type: ConfChangeType;
  nodeId: number;
  /** Opaque to Raft (for instance the new member's address). */
  context: Uint8Array;
}

/** The answer to a readIndex(ctx) request: reads that observe the state machine once `index` is applied
 *  are linearizable. `requestCtx` is the context given to readIndex. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

const EMPTY_BYTES = new Uint8Array(0);

/** A message with every field at its zero value except those given. */
export function makeMessage(fields: Partial<Message> & Pick<Message, "type">): Message {
  const m: Message = {
    type: fields.type,
    to: fields.to ?? NONE,
    from: fields.from ?? NONE,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? EMPTY_BYTES,
  };
  if (fields.snapshot !== undefined) m.snapshot = fields.snapshot;
  return m;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index: 0, term: 0, confState: { voters: [] } } };
}

export function isEmptySnapshot(s: Snapshot): boolean {
  return s.metadata.index === 0;
}

const LOCAL_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  "MsgHup",
  "MsgBeat",
  "MsgCheckQuorum",
  "MsgUnreachable",
  "MsgSnapStatus",
]);

const RESPONSE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  "MsgAppResp",
  "MsgVoteResp",
  "MsgPreVoteResp",
  "MsgHeartbeatResp",
  "MsgUnreachable",
  "MsgSnapStatus",
]);

/** Messages a node only ever steps into itself; one arriving from the network is a bug or an attack. */
export function isLocalMessage(type: MessageType): boolean {
  return LOCAL_TYPES.has(type);
}

/** Messages that answer a request the leader sent (or report on one). */
export function isResponseMessage(type: MessageType): boolean {
  return RESPONSE_TYPES.has(type);
}

export function voteResponseType(type: "MsgVote" | "MsgPreVote"): "MsgVoteResp" | "MsgPreVoteResp" {
  return type === "MsgVote" ? "MsgVoteResp" : "MsgPreVoteResp";
}
