// Scripted scenarios on an in-memory network of RawNodes (test/support/network.ts): every node persists
// only what its Readies ask for, and the safety checker watches every Ready.
import { describe, expect, it } from "vitest";
import { Network } from "./support/network.js";

const five = [1, 2, 3, 4, 5];

function advance(net: Network, ticks: number): void {
  for (let i = 0; i < ticks; i++) net.advance();
}

function proposeAll(net: Network, id: number, items: string[]): void {
  for (const item of items) expect(net.propose(id, item)).toBe(true);
  net.deliverAll();
}

describe("network scenarios", () => {
  it("elects a leader and replicates to every node", () => {
    for (const bootstrap of ["storage", "log"] as const) {
      const net = new Network({ ids: [1, 2, 3], bootstrap });
      const lead = net.electLeader();
      proposeAll(net, lead, ["a", "b"]);
      for (const n of net.nodes.values()) expect(n.items).toEqual(["a", "b"]);
    }
  });

  it("a partitioned leader steps down and the majority elects a new one", () => {
    const net = new Network({ ids: five, config: { checkQuorum: true, preVote: true } });
    const old = net.electLeader();
    proposeAll(net, old, ["before"]);
    const minority = [old, five.find((id) => id !== old) as number];
    const majority = five.filter((id) => !minority.includes(id));
    net.partition(minority, majority);
    // The old leader still takes proposals, which cannot commit without a majority.
    expect(net.propose(old, "lost")).toBe(true);
    advance(net, 40);
    // Check-quorum made it step down (it may be pre-campaigning by now, in vain).
    expect(net.node(old).raw.basicStatus().softState.role).not.toBe("leader");
    const fresh = net.electLeader(200, majority);
    expect(majority).toContain(fresh);
    proposeAll(net, fresh, ["after"]);
    for (const id of majority) expect(net.node(id).items).toEqual(["before", "after"]);
    for (const id of minority) expect(net.node(id).items).toEqual(["before"]);
  });

  it("a healed old leader rejoins as a follower, with its uncommitted entries replaced", () => {
    const net = new Network({ ids: five, config: { checkQuorum: true, preVote: true } });
    const old = net.electLeader();
    proposeAll(net, old, ["x"]);
    net.isolate(old);
    expect(net.propose(old, "never committed")).toBe(true);
    advance(net, 40);
    const others = five.filter((id) => id !== old);
    const fresh = net.electLeader(200, others);
    proposeAll(net, fresh, ["y"]);
    net.heal();
    net.electLeader();
    advance(net, 5);
    net.deliverAll();
    const st = net.node(old).raw.basicStatus();
    expect(st.softState.role).toBe("follower");
    expect(st.softState.lead).toBe(net.leader()?.id);
    // Same log everywhere: the fingerprint of the whole log prefix matches the leader's.
    const leader = net.node(net.leader()?.id as number);
    const last = leader.storage.lastIndex();
    expect(net.node(old).storage.lastIndex()).toBe(last);
    expect(net.node(old).chain[last]).toBe(leader.chain[last]);
    expect(net.node(old).items).toEqual(["x", "y"]);
  });

  it("a lagging follower catches up through a snapshot once the leader compacted its log", () => {
    const net = new Network({ ids: [1, 2, 3] });
    const lead = net.electLeader();
    const lagging = [1, 2, 3].find((id) => id !== lead) as number;
    net.isolate(lagging);
    const items = Array.from({ length: 20 }, (_, i) => `e${i}`);
    proposeAll(net, lead, items);
    for (const id of [1, 2, 3]) if (id !== lagging) expect(net.compact(id)).toBe(true);
    expect(net.node(lead).storage.firstIndex()).toBeGreaterThan(net.node(lagging).storage.lastIndex() + 1);
    net.heal();
    const snaps: number[] = [];
    net.trace = (line) => {
      if (line.includes("MsgSnap")) snaps.push(1);
    };
    advance(net, 5);
    net.deliverAll();
    expect(snaps.length).toBeGreaterThan(0);
    const n = net.node(lagging);
    expect(n.storage.snapshot().metadata.index).toBeGreaterThan(0);
    expect(n.items).toEqual(items);
    // And it keeps replicating from the log afterwards.
    proposeAll(net, lead, ["after snapshot"]);
    expect(n.items[n.items.length - 1]).toBe("after snapshot");
  });

  it("a crashed node restarts from what it persisted and catches up", () => {
    const net = new Network({ ids: [1, 2, 3] });
    const lead = net.electLeader();
    const follower = [1, 2, 3].find((id) => id !== lead) as number;
    proposeAll(net, lead, ["a"]);
    net.crash(follower);
    proposeAll(net, lead, ["b"]);
    net.restart(follower);
    const st = net.node(follower).raw.basicStatus();
    expect(st.hardState.term).toBe(net.node(lead).raw.basicStatus().hardState.term);
    advance(net, 3);
    net.deliverAll();
    expect(net.node(follower).items).toEqual(["a", "b"]);
  });

  it("a crashed leader's committed entries survive under the next leader", () => {
    const net = new Network({ ids: [1, 2, 3] });
    const lead = net.electLeader();
    proposeAll(net, lead, ["a", "b"]);
    net.crash(lead);
    const fresh = net.electLeader(
      200,
      [1, 2, 3].filter((id) => id !== lead),
    );
    proposeAll(net, fresh, ["c"]);
    net.restart(lead);
    net.electLeader();
    advance(net, 3);
    net.deliverAll();
    for (const n of net.nodes.values()) expect(n.items).toEqual(["a", "b", "c"]);
  });

  it("lost, duplicated, delayed and reordered messages do not break agreement", () => {
    const net = new Network({ ids: five, seed: 7 });
    const lead = net.electLeader();
    net.lossRate = 0.1;
    net.duplicateRate = 0.2;
    net.reorder = true;
    net.maxLatency = 3;
    for (let i = 0; i < 30; i++) {
      const l = net.leader();
      if (l !== undefined) net.propose(l.id, `v${i}`);
      net.advance();
    }
    // A delayed burst: hold every append for a while, then let them arrive late.
    net.holdIf = (m) => m.type === "MsgApp";
    advance(net, 3);
    net.holdIf = undefined;
    net.release();
    net.lossRate = 0;
    net.duplicateRate = 0;
    net.maxLatency = 0;
    const l = net.electLeader();
    proposeAll(net, l, ["final"]);
    advance(net, 5);
    net.deliverAll();
    const reference = net.node(l).items;
    expect(reference[reference.length - 1]).toBe("final");
    for (const n of net.nodes.values()) expect(n.items).toEqual(reference);
    expect(lead).toBeGreaterThan(0);
  });

  it("a cut link between two followers does not matter; a cut between leader and follower heals", () => {
    const net = new Network({ ids: [1, 2, 3], config: { checkQuorum: true, preVote: true } });
    const lead = net.electLeader();
    const [f1, f2] = [1, 2, 3].filter((id) => id !== lead) as [number, number];
    net.cutLink(f1, f2);
    proposeAll(net, lead, ["a"]);
    net.cutLink(lead, f1);
    proposeAll(net, lead, ["b"]);
    expect(net.node(f1).items).toEqual(["a"]);
    net.heal();
    advance(net, 3);
    net.deliverAll();
    for (const n of net.nodes.values()) expect(n.items).toEqual(["a", "b"]);
  });

  it("a new member joins through a conf change, catches up from the log and takes part in the quorum", () => {
    const net = new Network({ ids: [1, 2, 3], bootstrap: "log" });
    const lead = net.electLeader();
    proposeAll(net, lead, ["a"]);
    const joiner = net.addEmptyNode(4);
    net.node(lead).raw.proposeConfChange({ type: "addNode", nodeId: 4, context: new Uint8Array(0) });
    net.process(lead);
    net.deliverAll();
    advance(net, 3);
    net.deliverAll();
    expect(joiner.confState.voters).toEqual([1, 2, 3, 4]);
    expect(joiner.items).toEqual(["a"]);
    // With 4 voters, 3 acknowledgements are needed: with two nodes down, nothing commits.
    const down = [1, 2, 3].filter((id) => id !== lead).slice(0, 2);
    for (const id of down) net.crash(id);
    net.propose(lead, "needs 3 of 4");
    net.deliverAll();
    expect(net.node(lead).items).toEqual(["a"]);
    net.restart(down[0] as number);
    advance(net, 3);
    net.deliverAll();
    expect(net.node(lead).items).toEqual(["a", "needs 3 of 4"]);
  });

  it("a removed leader steps down and the remaining members carry on", () => {
    const net = new Network({ ids: [1, 2, 3], bootstrap: "log" });
    const lead = net.electLeader();
    net.node(lead).raw.proposeConfChange({ type: "removeNode", nodeId: lead, context: new Uint8Array(0) });
    net.process(lead);
    net.deliverAll();
    advance(net, 30);
    net.deliverAll();
    const rest = [1, 2, 3].filter((id) => id !== lead);
    const fresh = net.leaderAmong(rest.map((id) => net.node(id)));
    expect(fresh).toBeDefined();
    expect(net.node(lead).raw.basicStatus().softState.role).toBe("follower");
    proposeAll(net, fresh?.id as number, ["without the old leader"]);
    for (const id of rest) expect(net.node(id).items).toEqual(["without the old leader"]);
    expect(net.node(fresh?.id as number).confState.voters).toEqual(rest);
  });
});
