// One PullImage call's messages: the nodes first, lines held in a bounded queue for a slow reader,
// outcomes never dropped, and the end once every node has answered or the reader stops.
import { describe, expect, it } from "vitest";
import type { PullImageResponse } from "@shoal/shared";
import { MAX_QUEUED_LINES, PullRun } from "../../src/dispatcher/pull-run.js";

const nodes = [
  { nodeId: "n1", hostname: "a" },
  { nodeId: "n2", hostname: "b" },
];
const line = { status: "Downloading", id: "l1", progress: "", current: 1, total: 2 };

async function read(run: PullRun): Promise<PullImageResponse[]> {
  const out: PullImageResponse[] = [];
  for await (const m of run) out.push(m);
  return out;
}

describe("PullRun", () => {
  it("lists the nodes first, drops lines over its bound but no outcome, and ends after the last node", async () => {
    const ended: string[] = [];
    const run = new PullRun("p1", nodes, (r) => ended.push(r.id));
    for (let i = 0; i <= MAX_QUEUED_LINES; i++) expect(run.lines("n1", [line])).toBe(true);
    expect(run.dropped).toBe(1);
    expect(run.lines("nobody", [line])).toBe(false);
    expect(run.finish("n1", "")).toBe(true);
    expect(run.finish("n1", "again")).toBe(false);
    expect(ended).toEqual([]);
    expect(run.finish("n2", "manifest unknown", [line])).toBe(true);
    expect(ended).toEqual(["p1"]);
    const got = await read(run);
    expect(got[0]).toMatchObject({ nodes, done: false });
    expect(got.filter((m) => !m.done && m.node !== undefined)).toHaveLength(MAX_QUEUED_LINES);
    expect(got.slice(-2).map((m) => [m.node?.hostname, m.done, m.error])).toEqual([
      ["a", true, ""],
      ["b", true, "manifest unknown"],
    ]);
    expect(run.lines("n2", [line])).toBe(false);
  });

  it("ends when the reader stops reading, and finishAll answers for every node left", async () => {
    const run = new PullRun("p2", nodes, () => undefined);
    for await (const m of run) {
      expect(m.nodes).toHaveLength(2);
      break;
    }
    expect(run.isEnded).toBe(true);
    expect(run.finish("n1", "")).toBe(false);

    const other = new PullRun("p3", nodes, () => undefined);
    const reading = read(other);
    other.finish("n2", "");
    other.finishAll("the leader changed");
    const got = await reading;
    expect(got.filter((m) => m.done).map((m) => [m.node?.nodeId, m.error])).toEqual([
      ["n2", ""],
      ["n1", "the leader changed"],
    ]);
  });
});
