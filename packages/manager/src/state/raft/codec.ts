// Raft's plain objects <-> the wire messages of proto/shoal/v1/raft.proto. The core stays free of
// protobuf; this is the one place that knows both shapes.
import { RaftEntryType, RaftMessageType, type RaftEntry, type RaftMessage, type RaftSnapshot } from "@shoal/shared";
import type { Entry, Message, MessageType, Snapshot } from "@shoal/raft";

/** MsgForgetLeader is stepped by a node into itself only, and has no wire form. */
const typeToWire: Record<Exclude<MessageType, "MsgForgetLeader">, RaftMessageType> = {
  MsgHup: RaftMessageType.HUP,
  MsgBeat: RaftMessageType.BEAT,
  MsgProp: RaftMessageType.PROP,
  MsgApp: RaftMessageType.APP,
  MsgAppResp: RaftMessageType.APP_RESP,
  MsgVote: RaftMessageType.VOTE,
  MsgVoteResp: RaftMessageType.VOTE_RESP,
  MsgSnap: RaftMessageType.SNAP,
  MsgHeartbeat: RaftMessageType.HEARTBEAT,
  MsgHeartbeatResp: RaftMessageType.HEARTBEAT_RESP,
  MsgUnreachable: RaftMessageType.UNREACHABLE,
  MsgSnapStatus: RaftMessageType.SNAP_STATUS,
  MsgCheckQuorum: RaftMessageType.CHECK_QUORUM,
  MsgTransferLeader: RaftMessageType.TRANSFER_LEADER,
  MsgTimeoutNow: RaftMessageType.TIMEOUT_NOW,
  MsgReadIndex: RaftMessageType.READ_INDEX,
  MsgReadIndexResp: RaftMessageType.READ_INDEX_RESP,
  MsgPreVote: RaftMessageType.PRE_VOTE,
  MsgPreVoteResp: RaftMessageType.PRE_VOTE_RESP,
};
const typeFromWire = new Map<RaftMessageType, MessageType>(
  Object.entries(typeToWire).map(([k, v]) => [v, k as MessageType]),
);

export class RaftCodecError extends Error {}

export function entryToWire(e: Entry): RaftEntry {
  return {
    term: e.term,
    index: e.index,
    type: e.type === "confChange" ? RaftEntryType.CONF_CHANGE : RaftEntryType.NORMAL,
    data: e.data,
  };
}

export function entryFromWire(e: RaftEntry): Entry {
  return {
    term: e.term,
    index: e.index,
    type: e.type === RaftEntryType.CONF_CHANGE ? "confChange" : "normal",
    data: e.data,
  };
}

export function snapshotToWire(s: Snapshot): RaftSnapshot {
  return {
    data: s.data,
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: { voters: s.metadata.confState.voters, learners: [] },
    },
  };
}

export function snapshotFromWire(s: RaftSnapshot): Snapshot {
  const md = s.metadata;
  return {
    data: s.data,
    metadata: { index: md?.index ?? 0, term: md?.term ?? 0, confState: { voters: [...(md?.confState?.voters ?? [])] } },
  };
}

export function messageToWire(m: Message): RaftMessage {
  if (m.type === "MsgForgetLeader") throw new RaftCodecError("MsgForgetLeader is local: it is never sent");
  return {
    type: typeToWire[m.type],
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(entryToWire),
    commit: m.commit,
    snapshot: m.snapshot ? snapshotToWire(m.snapshot) : undefined,
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context,
  };
}

/** Throws RaftCodecError for a message type this version does not know. */
export function messageFromWire(w: RaftMessage): Message {
  const type = typeFromWire.get(w.type);
  if (type === undefined) throw new RaftCodecError(`unknown raft message type ${w.type}`);
  const m: Message = {
    type,
    to: w.to,
    from: w.from,
    term: w.term,
    logTerm: w.logTerm,
    index: w.index,
    entries: w.entries.map(entryFromWire),
    commit: w.commit,
    reject: w.reject,
    rejectHint: w.rejectHint,
    context: w.context,
  };
  if (w.snapshot) m.snapshot = snapshotFromWire(w.snapshot);
  return m;
}
