import { TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { createTaskTable } from "../../../src/state/store/tasks.js";
import { makeService, makeTask } from "./fixtures.js";

describe("tasks table", () => {
  const svc = makeService("web", "s1");
  const other = makeService("api", "s2");

  function filled() {
    const table = createTaskTable();
    table.put(makeTask(svc, 1, "n1", "aa1"));
    table.put(makeTask(svc, 2, "n2", "aa2"));
    table.put(makeTask(other, 1, "n1", "bb1"));
    const old = makeTask(svc, 1, "n2", "aa0"); // an ended task of slot 1
    old.desiredState = TaskState.SHUTDOWN;
    table.put(old);
    table.put(makeTask(other, 2, "", "bb2")); // not assigned yet
    return table;
  }
  const ids = (ts: { id: string }[]) => ts.map((t) => t.id).sort();

  it("finds by service, node, slot, desired state, id prefix and name prefix, and by several at once", () => {
    const table = filled();
    expect(ids(table.find({ serviceId: "s1" }))).toEqual(["aa0", "aa1", "aa2"]);
    expect(ids(table.find({ nodeId: "n1" }))).toEqual(["aa1", "bb1"]);
    expect(ids(table.find({ nodeId: "" }))).toEqual(["bb2"]);
    expect(ids(table.find({ slot: { serviceId: "s1", slot: 1 } }))).toEqual(["aa0", "aa1"]);
    expect(ids(table.find({ desiredState: TaskState.SHUTDOWN }))).toEqual(["aa0"]);
    expect(ids(table.find({ idPrefix: "bb" }))).toEqual(["bb1", "bb2"]);
    expect(ids(table.find({ namePrefix: "api." }))).toEqual(["bb1", "bb2"]);
    expect(ids(table.find({ serviceId: "s1", nodeId: "n2", desiredState: TaskState.RUNNING }))).toEqual(["aa2"]);
    expect(ids(table.find({ serviceId: "s9" }))).toEqual([]);
    expect(ids(table.find({}))).toHaveLength(5);
  });

  it("moves a task between index buckets when it changes", () => {
    const table = filled();
    const t = makeTask(other, 2, "n3", "bb2");
    t.desiredState = TaskState.REMOVE;
    table.put(t);
    expect(ids(table.find({ nodeId: "" }))).toEqual([]);
    expect(ids(table.find({ nodeId: "n3" }))).toEqual(["bb2"]);
    expect(ids(table.find({ desiredState: TaskState.REMOVE }))).toEqual(["bb2"]);
    expect(ids(table.find({ desiredState: TaskState.RUNNING }))).toEqual(["aa1", "aa2", "bb1"]);
    table.remove("bb2");
    expect(ids(table.find({ nodeId: "n3" }))).toEqual([]);
    expect(table.lookup("nodeId", "n3").size).toBe(0);
  });

  it("shares equal specs between tasks of a service, and only equal ones", () => {
    const table = filled();
    const a = table.get("aa1")!;
    const b = table.get("aa2")!;
    expect(a.spec).toBe(b.spec);
    expect(a.serviceAnnotations).toBe(b.serviceAnnotations);
    expect(table.get("bb1")!.spec).not.toBe(a.spec);
    const odd = makeTask(svc, 3, "n1", "aa3");
    odd.spec!.container!.image = "other:1";
    table.put(odd);
    expect(table.get("aa3")!.spec).not.toBe(a.spec);
    expect(table.get("aa3")!.spec?.container?.image).toBe("other:1");
  });
});
