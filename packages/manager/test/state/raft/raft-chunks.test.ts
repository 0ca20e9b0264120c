// Raft messages between managers in chunks: a snapshot far larger than the servers' 4 MB receive
// limit crosses a real gRPC stream in order with the messages around it; broken sequences are
// refused without taking the receiver down.
import { describe, expect, it } from "vitest";
import { RaftMessage, RaftTransportService, silentLogger, systemClock } from "@shoal/shared";
import type { Message } from "@shoal/raft";
import { ManagerServer } from "../../../src/server/manager-server.js";
import { messageToWire } from "../../../src/state/raft/codec.js";
import { ChunkAssembler, streamRequests } from "../../../src/state/raft/raft-chunks.js";
import { raftTransportHandlers } from "../../../src/state/raft/raft-server.js";
import type { RaftNode } from "../../../src/state/raft/raft-node.js";
import { MAX_RECEIVED_MESSAGE_BYTES, RaftTransport } from "../../../src/state/raft/transport.js";
import { CLUSTER_ID, addNode, material, testCluster } from "../../ca/fixtures.js";

function message(type: Message["type"], snapshotBytes = 0, index = 1): Message {
  const data = new Uint8Array(snapshotBytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) % 251;
  return {
    type,
    to: 2,
    from: 1,
    term: 3,
    logTerm: 3,
    index,
    entries: [],
    commit: 0,
    snapshot:
      type === "MsgSnap" ? { data, metadata: { index: 40, term: 3, confState: { voters: [1, 2] } } } : undefined,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
  } as Message;
}

describe("raft messages in chunks", () => {
  it("sends a small message whole and a large one as slices of its encoding", () => {
    const small = message("MsgHeartbeat");
    expect(streamRequests(small, messageToWire(small))).toEqual([
      expect.objectContaining({ message: expect.anything(), lastChunk: false }),
    ]);
    const big = message("MsgSnap", 2500);
    const requests = streamRequests(big, messageToWire(big), 1000);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests.every((r) => r.message === undefined && r.chunk.byteLength <= 1000)).toBe(true);
    expect(requests.map((r) => r.lastChunk)).toEqual(requests.map((_, i) => i === requests.length - 1));
    const assembler = new ChunkAssembler();
    const out = requests.map((r) => assembler.accept(r));
    expect(out.slice(0, -1).every((m) => m === undefined)).toBe(true);
    expect(RaftMessage.encode(out.at(-1)!).finish()).toEqual(RaftMessage.encode(messageToWire(big)).finish());
  });

  it("refuses a whole message inside a chunked one, and one over the size bound, then goes on", () => {
    const big = message("MsgSnap", 3000);
    const [first, second] = streamRequests(big, messageToWire(big), 1000);
    const small = message("MsgHeartbeat");
    const [whole] = streamRequests(small, messageToWire(small));
    const assembler = new ChunkAssembler(1500);
    expect(assembler.accept(first!)).toBeUndefined();
    expect(() => assembler.accept(whole!)).toThrow(/between the chunks of another/);
    expect(assembler.pendingBytes).toBe(0);
    expect(assembler.accept(first!)).toBeUndefined();
    expect(() => assembler.accept(second!)).toThrow(/exceeds 1500 bytes/);
    expect(assembler.accept(whole!)).toMatchObject({ term: 3 });
  });

  it("delivers a 12 MB snapshot between managers over gRPC, in order with the rest", async () => {
    const cluster = await testCluster();
    await cluster.store.update((tx) => {
      const c = tx.clusters.get(CLUSTER_ID)!;
      tx.clusters.update({ ...c, rootCa: cluster.rootCa() });
    });
    await addNode(cluster.store, "m1", "manager");
    const server = new ManagerServer({ store: cluster.store, isRaftMember: () => true, logger: silentLogger() });
    const stepped: Message[] = [];
    let arrived: () => void = () => undefined;
    const allArrived = new Promise<void>((resolve) => (arrived = resolve));
    const node = {
      step: (m: Message) => {
        stepped.push(m);
        if (stepped.length === 3) arrived();
      },
    } as unknown as RaftNode;
    server.addService(
      RaftTransportService,
      raftTransportHandlers(() => node, silentLogger()),
    );
    const address = await server.bind("127.0.0.1:0", await material(cluster.ca, "m2", "manager"));

    const snapshots: boolean[] = [];
    const transport = new RaftTransport({
      logger: silentLogger(),
      clock: systemClock,
      material: await material(cluster.ca, "m1", "manager"),
      reports: { reportUnreachable: () => undefined, reportSnapshot: (_id, ok) => void snapshots.push(ok) },
    });
    transport.setPeer(2, address);
    const size = 3 * MAX_RECEIVED_MESSAGE_BYTES;
    const snap = message("MsgSnap", size, 7);
    transport.send([message("MsgHeartbeat", 0, 6), snap, message("MsgApp", 0, 8)]);
    await allArrived;
    expect(stepped.map((m) => [m.type, m.index])).toEqual([
      ["MsgHeartbeat", 6],
      ["MsgSnap", 7],
      ["MsgApp", 8],
    ]);
    expect(Buffer.from(stepped[1]!.snapshot!.data).equals(Buffer.from(snap.snapshot!.data))).toBe(true);
    expect(snapshots).toEqual([true]);
    transport.close();
    await server.stop();
  });
});
