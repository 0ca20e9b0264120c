import { NodeState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { ReadyFilter } from "../../../src/scheduler/filters/ready.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { makeNode, makeTask } from "../fixtures.js";

describe("ReadyFilter", () => {
  const f = new ReadyFilter();

  it("applies to every task and takes only READY nodes", () => {
    expect(f.setTask(makeTask("s", 1))).toBe(true);
    expect(f.check(new NodeInfo("a", makeNode("a")))).toBe(true);
    for (const state of [NodeState.UNKNOWN, NodeState.DOWN, NodeState.DISCONNECTED]) {
      expect(f.check(new NodeInfo("a", makeNode("a", { state })))).toBe(false);
    }
    expect(f.check(new NodeInfo("gone"))).toBe(false);
  });

  it("explains", () => {
    expect(f.explain(1)).toBe("node not ready on 1 node");
    expect(f.explain(3)).toBe("node not ready on 3 nodes");
  });
});
