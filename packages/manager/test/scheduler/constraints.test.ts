import { InvalidArgumentError, type PlacementPreference, NodeRole } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  constraintsMatch,
  nodeAttributes,
  nodeMatchesConstraints,
  nodeMatchesTaskSpec,
  parseConstraint,
  parseConstraints,
  parsePlacementPreferences,
  parseSpreadDescriptor,
  spreadValue,
} from "../../src/scheduler/constraints.js";
import { makeNode, makeTask } from "./fixtures.js";

const worker = makeNode("web-1", {
  id: "n1",
  labels: { zone: "eu-west", "com.example.tier": "Frontend" },
  engineLabels: { storage: "ssd" },
  arch: "x86_64",
});
const manager = makeNode("mgr-1", { id: "n2", role: NodeRole.MANAGER, os: "Linux", arch: "aarch64" });

const matches = (expr: string, node = worker): boolean =>
  constraintsMatch(parseConstraints([expr]), nodeAttributes(node));

function parseError(exprs: string[]): InvalidArgumentError {
  try {
    parseConstraints(exprs);
  } catch (err: unknown) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error("expected an InvalidArgumentError");
}

describe("parseConstraint", () => {
  it("reads key, operator and value, with spaces around the operator", () => {
    expect(parseConstraint("node.labels.zone==eu-west")).toMatchObject({
      key: "node.labels.zone",
      attribute: { kind: "label", label: "zone" },
      operator: "==",
      value: "eu-west",
    });
    expect(parseConstraint("  node.role  !=  manager ")).toMatchObject({
      key: "node.role",
      attribute: { kind: "role" },
      operator: "!=",
      value: "manager",
    });
    expect(parseConstraint("engine.labels.storage==ssd").attribute).toEqual({ kind: "engineLabel", label: "storage" });
  });

  it("lower-cases role, os and arch values and normalizes arch aliases", () => {
    expect(parseConstraint("node.role==MANAGER").value).toBe("manager");
    expect(parseConstraint("node.platform.os==Linux").value).toBe("linux");
    expect(parseConstraint("node.platform.arch==x86_64").value).toBe("amd64");
    expect(parseConstraint("node.platform.arch==AARCH64").value).toBe("arm64");
  });

  it("keeps label names and other values as written", () => {
    expect(parseConstraint("node.labels.Zone==EU").attribute).toEqual({ kind: "label", label: "Zone" });
    expect(parseConstraint("node.hostname==Web-1").value).toBe("Web-1");
  });

  it("accepts the fixed part of keys in any case", () => {
    expect(parseConstraint("Node.Labels.zone==eu").attribute).toEqual({ kind: "label", label: "zone" });
    expect(parseConstraint("NODE.ID==abc").attribute).toEqual({ kind: "id" });
  });
});

describe("parseConstraints errors", () => {
  it("names the field and lists the known keys for an unknown key", () => {
    const err = parseError(["node.role==worker", "node.foo==bar"]);
    expect(err.field).toBe("spec.task_template.placement.constraints[1]");
    expect(err.message).toContain('unknown key "node.foo"');
    expect(err.message).toContain("expected one of node.id, node.hostname, node.role");
    expect(err.message).toContain("node.labels.KEY");
    expect(err.message.startsWith("spec.task_template.placement.constraints[1]: ")).toBe(true);
  });

  it.each([
    ["node.role=manager", "missing operator"],
    ["node.role", "missing operator"],
    ["node.role==", "missing value"],
    ["==worker", "missing key"],
    ["node.labels.==x", "missing label name"],
    ["node.role==boss", 'invalid role "boss"'],
    ["node.labels.a==b==c", "more than one operator"],
    ["node labels.a==b", "invalid key"],
    ["constructor==x", 'unknown key "constructor"'],
    ["engine.id==x", 'unknown key "engine.id"'],
  ])("refuses %j: %s", (expr, what) => {
    const err = parseError([expr]);
    expect(err.field).toBe("spec.task_template.placement.constraints[0]");
    expect(err.message).toContain(what);
  });

  it("parses an empty list", () => {
    expect(parseConstraints([])).toEqual([]);
  });
});

describe("constraint matching", () => {
  it("matches each attribute", () => {
    expect(matches("node.id==n1")).toBe(true);
    expect(matches("node.id!=n1")).toBe(false);
    expect(matches("node.hostname==web-1")).toBe(true);
    expect(matches("node.role==worker")).toBe(true);
    expect(matches("node.role==manager", manager)).toBe(true);
    expect(matches("node.platform.os==linux", manager)).toBe(true);
    expect(matches("node.platform.arch==amd64")).toBe(true);
    expect(matches("node.platform.arch==arm64", manager)).toBe(true);
    expect(matches("node.labels.zone==eu-west")).toBe(true);
    expect(matches("engine.labels.storage==ssd")).toBe(true);
    expect(matches("engine.labels.storage!=ssd")).toBe(false);
  });

  it("compares hostnames and labels case-sensitively, role/os/arch not", () => {
    expect(matches("node.hostname==WEB-1")).toBe(false);
    expect(matches("node.labels.com.example.tier==frontend")).toBe(false);
    expect(matches("node.labels.com.example.tier==Frontend")).toBe(true);
    expect(matches("node.role==Worker")).toBe(true);
    expect(matches("node.platform.os==LINUX")).toBe(true);
  });

  it("reads a missing label as empty: == fails, != holds", () => {
    expect(matches("node.labels.rack==r1")).toBe(false);
    expect(matches("node.labels.rack!=r1")).toBe(true);
    expect(matches("node.labels.constructor!=x")).toBe(true);
    expect(matches("node.labels.toString==x")).toBe(false);
  });

  it("requires every constraint", () => {
    const cs = parseConstraints(["node.role==worker", "node.labels.zone==eu-west"]);
    expect(nodeMatchesConstraints(worker, cs)).toBe(true);
    expect(nodeMatchesConstraints(manager, cs)).toBe(false);
  });
});

describe("nodeMatchesTaskSpec", () => {
  it("checks a spec's constraints; none match everything, malformed ones nothing", () => {
    const spec = (constraints: string[]) => makeTask("s", 1, { constraints }).spec;
    expect(nodeMatchesTaskSpec(worker, spec([]))).toBe(true);
    expect(nodeMatchesTaskSpec(worker, undefined)).toBe(true);
    expect(nodeMatchesTaskSpec(worker, spec(["node.role==worker"]))).toBe(true);
    expect(nodeMatchesTaskSpec(manager, spec(["node.role==worker"]))).toBe(false);
    expect(nodeMatchesTaskSpec(worker, spec(["node.nope==1"]))).toBe(false);
  });
});

describe("placement preferences", () => {
  const spread = (d: string): PlacementPreference => ({
    preference: { $case: "spread", value: { spreadDescriptor: d } },
  });

  it("parses node and engine label descriptors: the prefix in any case, the key as written", () => {
    expect(parseSpreadDescriptor("node.labels.rack")).toEqual({
      descriptor: "node.labels.rack",
      source: "label",
      label: "rack",
    });
    expect(parseSpreadDescriptor("Engine.Labels.Disk")).toEqual({
      descriptor: "Engine.Labels.Disk",
      source: "engineLabel",
      label: "Disk",
    });
    expect(spreadValue(parseSpreadDescriptor("node.labels.zone")!, nodeAttributes(worker))).toBe("eu-west");
    expect(spreadValue(parseSpreadDescriptor("node.labels.zone")!, nodeAttributes(manager))).toBe("");
  });

  // SwarmKit checks no descriptor; its scheduler skips the ones that name no label.
  it("takes any other descriptor and any preference as given, and spreads over nothing for them", () => {
    expect(parseSpreadDescriptor("com.example.label")).toBeUndefined();
    expect(parseSpreadDescriptor("node.hostname")).toBeUndefined();
    expect(parseSpreadDescriptor("node.labels.")).toBeUndefined();
    expect(parseSpreadDescriptor(" node.labels.rack")).toBeUndefined();
    expect(
      parsePlacementPreferences([
        spread("com.example.label"),
        spread("node.labels.rack"),
        { preference: undefined },
        spread(""),
      ]),
    ).toEqual([{ descriptor: "node.labels.rack", source: "label", label: "rack" }]);
  });
});
