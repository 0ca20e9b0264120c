import { describe, expect, it } from "vitest";
import { nodeMatchesTaskSpec } from "../../../src/scheduler/constraints.js";
import { PlatformFilter } from "../../../src/scheduler/filters/platforms.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { makeNode, makeTask } from "../fixtures.js";
import { genericTask } from "../generic-fixtures.js";

const node = (os: string, arch: string): NodeInfo =>
  new NodeInfo(`${os}-${arch}`, makeNode(`${os}-${arch}`, { os, arch }));

describe("PlatformFilter", () => {
  it("applies only to tasks that list platforms", () => {
    expect(new PlatformFilter().setTask(makeTask("web", 1))).toBe(false);
  });

  it("matches a node of one of the platforms; an empty field matches any", () => {
    const f = new PlatformFilter();
    f.setTask(genericTask("web", 1, {}, { platforms: [{ os: "linux", architecture: "arm64" }] }));
    expect(f.check(node("linux", "aarch64"))).toBe(true);
    expect(f.check(node("linux", "arm64"))).toBe(true);
    expect(f.check(node("linux", "x86_64"))).toBe(false);
    expect(f.check(node("windows", "arm64"))).toBe(false);
    f.setTask(
      genericTask(
        "web",
        1,
        {},
        {
          platforms: [
            { os: "", architecture: "AMD64" },
            { os: "windows", architecture: "" },
          ],
        },
      ),
    );
    expect(f.check(node("linux", "x86_64"))).toBe(true);
    expect(f.check(node("windows", "arm64"))).toBe(true);
    expect(f.check(node("linux", "arm64"))).toBe(false);
    expect(f.explain(3)).toBe("unsupported platform on 3 nodes");
  });

  it("keeps a global service's tasks off nodes of other platforms (the orchestrators' node matcher)", () => {
    const spec = genericTask("agent", 0, {}, { platforms: [{ os: "linux", architecture: "arm64" }] }).spec;
    expect(nodeMatchesTaskSpec(makeNode("a", { arch: "aarch64" }), spec)).toBe(true);
    expect(nodeMatchesTaskSpec(makeNode("b", { arch: "x86_64" }), spec)).toBe(false);
    expect(nodeMatchesTaskSpec(makeNode("b", { arch: "x86_64" }), makeTask("any", 0).spec)).toBe(true);
  });
});
