import { StoreActionKind } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { LocalProposer, type EntryApplier } from "../../../src/state/store/index.js";
import { makeNode } from "./fixtures.js";

describe("LocalProposer", () => {
  it("commits at once with increasing indexes and gives each applier its own decoded copy", async () => {
    const proposer = new LocalProposer({ startIndex: 10 });
    const got: Array<[string, number, unknown]> = [];
    const applier = (name: string): EntryApplier => ({
      appliedIndex: 0,
      applyEntry: (index, actions) => {
        got.push([name, index, actions[0]?.target?.value]);
        return true;
      },
    });
    proposer.attach(applier("a"));
    const detach = proposer.attach(applier("b"));
    const node = makeNode("h", "n1");
    const action = { kind: StoreActionKind.CREATE, target: { $case: "node" as const, value: node } };
    await expect(proposer.propose([action])).resolves.toEqual({ index: 11 });
    expect(got.map(([n, i]) => [n, i])).toEqual([
      ["a", 11],
      ["b", 11],
    ]);
    expect(got[0]![2]).toEqual(node);
    expect(got[0]![2]).not.toBe(node);
    expect(got[0]![2]).not.toBe(got[1]![2]);
    detach();
    await expect(proposer.propose([action])).resolves.toEqual({ index: 12 });
    expect(got).toHaveLength(3);
    expect(proposer.lastIndex).toBe(12);
    await expect(proposer.propose([action], AbortSignal.abort(new Error("stop")))).rejects.toThrow("stop");
    expect(proposer.lastIndex).toBe(12);
  });
});
