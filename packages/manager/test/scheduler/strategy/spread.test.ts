import { describe, expect, it } from "vitest";
import { parseSpreadDescriptor } from "../../../src/scheduler/constraints.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { SpreadStrategy } from "../../../src/scheduler/strategy/spread.js";
import { taskUsage } from "../../../src/scheduler/task-rules.js";
import { makeNode, makeTask } from "../fixtures.js";

function infos(...specs: Array<[string, Record<string, string>?]>): NodeInfo[] {
  return specs.map(([name, labels]) => new NodeInfo(name, makeNode(name, labels === undefined ? {} : { labels })));
}

/** Places `n` tasks of "web" through the strategy, as the pipeline does; returns the node of each. */
function place(s: SpreadStrategy, n: number, fits: (info: NodeInfo) => boolean = () => true): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = s.best();
    if (c === undefined) break;
    c.info.addTask(`web.new${i}`, taskUsage(makeTask("web", 100 + i)), true);
    s.placed(c, fits(c.info));
    out.push(c.info.id);
  }
  return out;
}

describe("SpreadStrategy", () => {
  it("prefers the fewest tasks of the service, then the fewest tasks", () => {
    const [a, b, c] = infos(["a"], ["b"], ["c"]);
    a!.addTask("web.1", taskUsage(makeTask("web", 1)), true);
    b!.addTask("db.1", taskUsage(makeTask("db", 1)), true);
    b!.addTask("db.2", taskUsage(makeTask("db", 2)), true);
    const s = new SpreadStrategy({ serviceId: "web", spread: [], seed: 1, candidates: [a!, b!, c!], nodes: [] });
    expect(place(s, 3)).toEqual(["c", "b", "c"]);
  });

  it("breaks ties by the seeded shuffle: reproducible, and different seeds differ", () => {
    const nodes = infos(...Array.from({ length: 30 }, (_, i): [string] => [`n${i}`]));
    const firstFor = (seed: number): string =>
      new SpreadStrategy({ serviceId: "web", spread: [], seed, candidates: nodes, nodes: [] }).best()!.info.id;
    expect(firstFor(7)).toBe(firstFor(7));
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8].map(firstFor)).size).toBeGreaterThan(3);
  });

  it("drops a node that no longer fits", () => {
    const nodes = infos(["a"], ["b"]);
    const s = new SpreadStrategy({ serviceId: "web", spread: [], seed: 3, candidates: nodes, nodes: [] });
    expect(place(s, 5, () => false).sort()).toEqual(["a", "b"]);
    expect(s.best()).toBeUndefined();
  });

  it("balances the branches of a preference, then the nodes within", () => {
    const nodes = infos(["a", { zone: "z1" }], ["b", { zone: "z1" }], ["c", { zone: "z2" }], ["d"]);
    const spread = [parseSpreadDescriptor("node.labels.zone")!];
    const s = new SpreadStrategy({ serviceId: "web", spread, seed: 9, candidates: nodes, nodes });
    const placed = place(s, 6);
    const count = (id: string): number => placed.filter((p) => p === id).length;
    expect(count("a") + count("b")).toBe(2);
    expect(count("c")).toBe(2);
    expect(count("d")).toBe(2);
    expect(count("a")).toBe(1);
  });

  it("counts tasks on non-candidate nodes for their branch", () => {
    const nodes = infos(["a", { zone: "z1" }], ["b", { zone: "z2" }], ["full", { zone: "z2" }]);
    nodes[2]!.addTask("web.1", taskUsage(makeTask("web", 1)), true);
    const spread = [parseSpreadDescriptor("node.labels.zone")!];
    const s = new SpreadStrategy({ serviceId: "web", spread, seed: 1, candidates: nodes.slice(0, 2), nodes });
    // z1 has no task and z2 one: a first; then the branches are even at 2 and 2.
    const placed = place(s, 3);
    expect(placed[0]).toBe("a");
    expect([...placed].sort()).toEqual(["a", "a", "b"]);
  });
});
