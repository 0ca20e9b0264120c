import { InvalidArgumentError, NodeRole } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { ConstraintFilter } from "../../../src/scheduler/filters/constraints.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { makeNode, makeTask } from "../fixtures.js";

describe("ConstraintFilter", () => {
  const manager = new NodeInfo("m", makeNode("m", { role: NodeRole.MANAGER, labels: { zone: "a" } }));
  const worker = new NodeInfo("w", makeNode("w", { labels: { zone: "b" } }));

  it("does not apply to a task without constraints", () => {
    expect(new ConstraintFilter().setTask(makeTask("s", 1))).toBe(false);
  });

  it("takes the nodes that satisfy every constraint", () => {
    const f = new ConstraintFilter();
    expect(f.setTask(makeTask("s", 1, { constraints: ["node.role==worker", "node.labels.zone!=a"] }))).toBe(true);
    expect(f.check(worker)).toBe(true);
    expect(f.check(manager)).toBe(false);
    f.setTask(makeTask("s", 1, { constraints: ["node.labels.zone==a"] }));
    expect(f.check(worker)).toBe(false);
    expect(f.check(manager)).toBe(true);
  });

  it("throws InvalidArgumentError for a constraint that does not parse", () => {
    expect(() => new ConstraintFilter().setTask(makeTask("s", 1, { constraints: ["node.foo==1"] }))).toThrow(
      InvalidArgumentError,
    );
  });

  it("explains", () => {
    expect(new ConstraintFilter().explain(1)).toBe("scheduling constraints not satisfied on 1 node");
  });
});
