import { TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { NodeSet } from "../../src/scheduler/node-set.js";
import { GiB, makeNode, makeTask, runningTask } from "./fixtures.js";

describe("NodeSet", () => {
  it("follows tasks through their states", () => {
    const set = NodeSet.from([makeNode("a"), makeNode("b")], []);
    const t = makeTask("web", 1, { nodeId: "a", state: TaskState.ASSIGNED, memoryBytes: GiB });
    expect(set.setTask(t)).toBe(true);
    expect(set.get("a")!.reservedMemory).toBe(GiB);
    t.status!.state = TaskState.RUNNING;
    expect(set.setTask(t)).toBe(false); // nothing the scheduler cares about changed
    t.status!.state = TaskState.FAILED;
    expect(set.setTask(t)).toBe(true);
    expect(set.get("a")!.reservedMemory).toBe(0);
    expect(set.get("a")!.recentFailures("web", t.status!.timestamp!.getTime())).toBe(1);
  });

  it("moves a task whose node changes", () => {
    const set = NodeSet.from([makeNode("a"), makeNode("b")], [runningTask("web", 1, "a")]);
    expect(set.setTask(runningTask("web", 1, "b"))).toBe(true);
    expect([set.get("a")!.taskCount, set.get("b")!.taskCount]).toEqual([0, 1]);
    expect(set.deleteTask("web.1")).toBe(true);
    expect(set.get("b")!.taskCount).toBe(0);
  });

  it("keeps counting tasks of a node that is gone until they go too", () => {
    const set = NodeSet.from([makeNode("a")], [runningTask("web", 1, "a")]);
    set.deleteNode("a");
    expect(set.get("a")).toBeUndefined();
    expect([...set.nodes()]).toEqual([]);
    set.setNode(makeNode("a"));
    expect(set.get("a")!.taskCount).toBe(1);
    set.deleteNode("a");
    set.deleteTask("web.1");
    set.setNode(makeNode("a"));
    expect(set.get("a")!.taskCount).toBe(0);
  });

  it("skips the tasks it is told to", () => {
    const set = NodeSet.from([makeNode("a")], [runningTask("web", 1, "a")], new Set(["web.1"]));
    expect(set.get("a")!.taskCount).toBe(0);
  });
});
