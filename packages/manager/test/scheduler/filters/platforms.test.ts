import { describe, expect, it } from "vitest";
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
});
