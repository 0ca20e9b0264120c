import { ErrorCode, StoreActionKind, type StoreAction } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { applyActions } from "../../../src/state/store/apply.js";
import { encodeSnapshot } from "../../../src/state/store/snapshot.js";
import { createTables, type Tables } from "../../../src/state/store/tables.js";
import { makeNode, makeService, makeTask } from "./fixtures.js";

const create = (value: StoreAction["target"]): StoreAction => ({ kind: StoreActionKind.CREATE, target: value });
const update = (value: StoreAction["target"]): StoreAction => ({ kind: StoreActionKind.UPDATE, target: value });
const remove = (value: StoreAction["target"]): StoreAction => ({ kind: StoreActionKind.REMOVE, target: value });

function withVersion<T extends { meta: unknown }>(obj: T, index: number): T {
  obj.meta = { version: { index }, createdAt: undefined, updatedAt: undefined };
  return obj;
}

function seeded(): Tables {
  const tables = createTables();
  const svc = makeService("web", "s1");
  applyActions(tables, 1, [
    create({ $case: "service", value: svc }),
    create({ $case: "service", value: makeService("api", "s2") }),
    create({ $case: "task", value: makeTask(svc, 1, "n1", "t1") }),
    create({ $case: "node", value: makeNode("h1", "n1") }),
  ]);
  return tables;
}

describe("applyActions", () => {
  it("stamps every written object with the entry's index as its version", () => {
    const tables = seeded();
    expect(tables.services.get("s1")?.meta?.version?.index).toBe(1);
    const t1 = withVersion(makeTask(makeService("web", "s1"), 1, "n2", "t1"), 1);
    const changes = applyActions(tables, 5, [update({ $case: "task", value: t1 })]);
    expect(tables.tasks.get("t1")?.meta?.version?.index).toBe(5);
    expect(changes.map((c) => [c.kind, c.table, c.object.id, c.oldObject?.meta?.version?.index])).toEqual([
      ["update", "tasks", "t1", 1],
    ]);
    expect(tables.tasks.find({ nodeId: "n2" }).map((t) => t.id)).toEqual(["t1"]);
    expect(tables.tasks.find({ nodeId: "n1" })).toEqual([]);
  });

  it("rejects a whole entry when one action fails, leaving the tables as they were", () => {
    const cases: Array<[string, StoreAction, string]> = [
      ["create of an existing id", create({ $case: "node", value: makeNode("x", "n1") }), ErrorCode.AlreadyExists],
      [
        "update of a stale version",
        update({ $case: "service", value: withVersion(makeService("web", "s1"), 0) }),
        ErrorCode.SequenceConflict,
      ],
      [
        "update of a missing object",
        update({ $case: "node", value: withVersion(makeNode("x", "zz"), 1) }),
        ErrorCode.NotFound,
      ],
      [
        "remove of a missing object",
        remove({ $case: "node", value: withVersion(makeNode("x", "zz"), 1) }),
        ErrorCode.NotFound,
      ],
      ["a taken service name", create({ $case: "service", value: makeService("web", "s3") }), ErrorCode.AlreadyExists],
      ["an action without a target", { kind: StoreActionKind.CREATE, target: undefined }, ErrorCode.InvalidArgument],
      [
        "an action of no kind",
        { kind: StoreActionKind.UNSPECIFIED, target: { $case: "node", value: makeNode("y", "n5") } },
        ErrorCode.InvalidArgument,
      ],
    ];
    for (const [what, bad, code] of cases) {
      const tables = seeded();
      const before = encodeSnapshot(tables, 1);
      const good: StoreAction[] = [
        create({ $case: "node", value: makeNode("h2", "n2") }),
        update({ $case: "task", value: withVersion(makeTask(makeService("web", "s1"), 1, "n2", "t1"), 1) }),
        remove({ $case: "service", value: withVersion(makeService("api", "s2"), 1) }),
      ];
      expect(() => applyActions(tables, 2, [...good, bad]), what).toThrow(expect.objectContaining({ code }));
      expect(encodeSnapshot(tables, 1), what).toEqual(before);
      expect(
        tables.tasks.find({ nodeId: "n1" }).map((t) => t.id),
        what,
      ).toEqual(["t1"]);
      expect(
        tables.services.find({ name: "api" }).map((s) => s.id),
        what,
      ).toEqual(["s2"]);
    }
  });

  it("checks unique names on the entry's result, so two services can swap names", () => {
    const tables = seeded();
    const s1 = withVersion(makeService("api", "s1"), 1);
    const s2 = withVersion(makeService("web", "s2"), 1);
    applyActions(tables, 2, [update({ $case: "service", value: s1 }), update({ $case: "service", value: s2 })]);
    expect(tables.services.find({ name: "web" }).map((s) => s.id)).toEqual(["s2"]);
    expect(tables.services.find({ name: "api" }).map((s) => s.id)).toEqual(["s1"]);
  });

  it("keeps the objects of the actions as they are, stamped with their version", () => {
    const tables = createTables();
    const node = makeNode("h", "n1");
    applyActions(tables, 3, [create({ $case: "node", value: node })]);
    expect(tables.nodes.get("n1")).toBe(node);
    expect(node.meta?.version?.index).toBe(3);
  });
});
