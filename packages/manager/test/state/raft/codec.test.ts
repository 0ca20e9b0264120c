import { describe, expect, it } from "vitest";
import { RaftMessage } from "@shoal/shared";
import { makeMessage, type Message } from "@shoal/raft";
import { messageFromWire, messageToWire } from "../../../src/state/raft/codec.js";

describe("raft codec", () => {
  it("carries every field of a message through the wire encoding", () => {
    const m: Message = makeMessage({
      type: "MsgApp",
      to: 2 ** 52 + 7,
      from: 3,
      term: 9,
      logTerm: 8,
      index: 100,
      commit: 99,
      entries: [
        { term: 9, index: 101, type: "normal", data: new Uint8Array([1, 2, 3]) },
        { term: 9, index: 102, type: "confChange", data: new Uint8Array([4]) },
      ],
      reject: true,
      rejectHint: 50,
      context: new Uint8Array([7, 7]),
      snapshot: { data: new Uint8Array([5]), metadata: { index: 90, term: 7, confState: { voters: [1, 2, 3] } } },
    });
    const wire = RaftMessage.decode(RaftMessage.encode(messageToWire(m)).finish());
    const back = messageFromWire(wire);
    expect({
      ...back,
      entries: back.entries.map((e) => ({ ...e, data: [...e.data] })),
      context: [...back.context],
    }).toEqual({
      ...m,
      entries: m.entries.map((e) => ({ ...e, data: [...e.data] })),
      context: [...m.context],
      snapshot: { ...m.snapshot, data: new Uint8Array([5]) },
    });
  });

  it("maps every message type both ways", () => {
    const types: Message["type"][] = [
      "MsgHup",
      "MsgBeat",
      "MsgProp",
      "MsgApp",
      "MsgAppResp",
      "MsgVote",
      "MsgVoteResp",
      "MsgSnap",
      "MsgHeartbeat",
      "MsgHeartbeatResp",
      "MsgUnreachable",
      "MsgSnapStatus",
      "MsgCheckQuorum",
      "MsgTransferLeader",
      "MsgTimeoutNow",
      "MsgReadIndex",
      "MsgReadIndexResp",
      "MsgPreVote",
      "MsgPreVoteResp",
    ];
    for (const type of types) expect(messageFromWire(messageToWire(makeMessage({ type }))).type).toBe(type);
    expect(() => messageFromWire({ ...messageToWire(makeMessage({ type: "MsgApp" })), type: 99 as never })).toThrow(
      /unknown raft message type 99/,
    );
  });
});
