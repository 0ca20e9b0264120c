import { describe, expect, it } from "vitest";
import { NetworkDataPlaneFilter } from "../../../src/scheduler/filters/network-data-plane.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { makeNode, makeTask } from "../fixtures.js";

describe("NetworkDataPlaneFilter", () => {
  const f = new NetworkDataPlaneFilter();

  it("applies to a task with networks and takes only nodes whose agent drives the data plane", () => {
    expect(f.setTask(makeTask("s", 1))).toBe(false);
    const joined = makeTask("s", 2);
    joined.networks = [{ networkId: "n", addresses: ["10.0.1.2/24"], aliases: [] }];
    expect(f.setTask(joined)).toBe(true);
    const wired = makeNode("a");
    wired.description!.networkDataPlane = true;
    expect(f.check(new NodeInfo("a", wired))).toBe(true);
    expect(f.check(new NodeInfo("b", makeNode("b")))).toBe(false);
    expect(f.check(new NodeInfo("gone"))).toBe(false);
  });

  it("explains", () => {
    expect(f.explain(1)).toBe("no network data plane on 1 node");
    expect(f.explain(2)).toBe("no network data plane on 2 nodes");
  });
});
