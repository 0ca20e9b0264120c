// Scripted scenarios whose full trace (every Ready, delivery and fault) is compared with a golden file in
// testdata/, in the manner of etcd's interaction tests: any change of behaviour shows up as a readable
// diff. Regenerate after an intended change with UPDATE_GOLDEN=1.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Network } from "./support/network.js";

const update = process.env["UPDATE_GOLDEN"] === "1";

interface Recorder {
  /** Start recording the network's events. */
  record(): void;
  /** A comment line in the trace. */
  note(text: string): void;
}

function golden(name: string, scenario: (net: Network, rec: Recorder) => void): void {
  const lines: string[] = [];
  const net = new Network({
    ids: [1, 2, 3],
    config: { preVote: true, checkQuorum: true },
    electionTick: 10,
    heartbeatTick: 3,
  });
  scenario(net, {
    record: () => {
      net.trace = (line) => lines.push(line);
    },
    note: (text) => lines.push(`# ${text}`),
  });
  const got = lines.join("\n") + "\n";
  const path = new URL(`./testdata/${name}.txt`, import.meta.url);
  if (update) writeFileSync(path, got);
  expect(got).toBe(readFileSync(path, "utf8"));
}

describe("interaction traces", () => {
  it("pre-vote election and first replication", () => {
    golden("election", (net, rec) => {
      rec.record();
      rec.note("node 1 campaigns");
      net.node(1).raw.campaign();
      net.deliverAll();
      rec.note("node 1 proposes 'a'");
      net.propose(1, "a");
      net.deliverAll();
    });
  });

  it("leader transfer to a lagging follower", () => {
    golden("transfer", (net, rec) => {
      net.node(1).raw.campaign();
      net.deliverAll();
      rec.record();
      rec.note("3 is isolated; 1 proposes 'x'");
      net.isolate(3);
      net.propose(1, "x");
      net.deliverAll();
      rec.note("healed; transfer leadership to 3");
      net.heal();
      net.node(1).raw.transferLeader(3);
      net.process(1);
      net.deliverAll();
      rec.note("3 is being probed (its last appends were lost): it catches up after the next heartbeat");
      for (let i = 0; i < 3; i++) net.advance();
      net.deliverAll();
      rec.note(`leader: ${net.leader()?.id}`);
    });
  });

  it("snapshot to a follower that fell behind the leader's log", () => {
    golden("snapshot", (net, rec) => {
      net.node(1).raw.campaign();
      net.deliverAll();
      net.isolate(3);
      for (const v of ["a", "b", "c"]) net.propose(1, v);
      net.deliverAll();
      net.compact(1);
      rec.record();
      rec.note("3 rejoins after 1 compacted its log up to its applied index");
      net.heal();
      for (let i = 0; i < 3; i++) net.advance();
      net.deliverAll();
      rec.note(`3 applied: ${net.node(3).items.join(",")}`);
    });
  });
});
