import { describe, expect, it } from "vitest";
import { makeMessage, type Message } from "@shoal/raft";
import { MemoryNetwork, type MemoryEndpoint } from "../../../src/state/raft/memory-network.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Endpoint implements MemoryEndpoint {
  readonly got: Message[] = [];
  readonly unreachable: number[] = [];
  readonly snapshots: [number, boolean][] = [];
  step(m: Message): void {
    this.got.push(m);
  }
  reportUnreachable(id: number): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: number, delivered: boolean): void {
    this.snapshots.push([id, delivered]);
  }
}

function pair() {
  const net = new MemoryNetwork();
  const [a, b] = [new Endpoint(), new Endpoint()];
  const ta = net.transport(1);
  ta.setPeer(2, "b:1");
  net.attach(1, a);
  net.attach(2, b);
  return { net, a, b, ta };
}

const msg = (type: Message["type"] = "MsgHeartbeat"): Message => makeMessage({ type, from: 1, to: 2, term: 1 });

describe("MemoryNetwork", () => {
  it("delivers a copy of each message in a later turn", async () => {
    const { a, b, ta } = pair();
    const m = msg();
    ta.send([m]);
    expect(b.got).toEqual([]);
    await turn();
    expect(b.got).toEqual([m]);
    expect(b.got[0]).not.toBe(m);
    expect(a.got).toEqual([]);
  });

  it("reports a peer it does not know as unreachable, and a snapshot to it as lost", () => {
    const { a, ta } = pair();
    ta.send([makeMessage({ type: "MsgSnap", from: 1, to: 3 })]);
    expect(a.unreachable).toEqual([3]);
    expect(a.snapshots).toEqual([[3, false]]);
  });

  it("drops messages from or to an isolated node until healed, and by a filter", async () => {
    const { net, a, b, ta } = pair();
    net.isolate(2);
    ta.send([msg(), msg("MsgSnap")]);
    await turn();
    expect(b.got).toEqual([]);
    expect(a.snapshots).toEqual([[2, false]]);
    net.heal();
    net.filter = (m) => m.type !== "MsgHeartbeat";
    ta.send([msg(), msg("MsgSnap")]);
    await turn();
    expect(b.got.map((m) => m.type)).toEqual(["MsgSnap"]);
    expect(a.snapshots).toEqual([
      [2, false],
      [2, true],
    ]);
    expect([net.delivered, net.dropped]).toEqual([1, 3]);
  });

  it("sends nothing once the transport is closed, nor to a peer removed or a node detached", async () => {
    const { net, b, ta } = pair();
    net.detach(2);
    ta.send([msg()]);
    await turn();
    net.attach(2, b);
    ta.removePeer(2);
    ta.send([msg()]);
    ta.setPeer(2, "b:1");
    ta.close();
    ta.send([msg()]);
    await turn();
    expect(b.got).toEqual([]);
    expect(net.pending).toBe(0);
  });
});
