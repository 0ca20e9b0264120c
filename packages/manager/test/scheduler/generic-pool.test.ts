import { discreteResource, namedResource } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { GenericPool, genericWants, sameResources } from "../../src/scheduler/generic-pool.js";
import { gpuUnits } from "./generic-fixtures.js";

describe("GenericPool", () => {
  it("claims free named units in the order the node advertises them", () => {
    const pool = new GenericPool();
    pool.setCapacity(gpuUnits("g0", "g1", "g2"));
    expect(pool.available("gpu")).toBe(3);
    const first = pool.claim([{ kind: "gpu", count: 2 }])!;
    expect(first).toEqual(gpuUnits("g0", "g1"));
    pool.hold(first, 1);
    expect(pool.available("gpu")).toBe(1);
    expect(pool.claim([{ kind: "gpu", count: 1 }])).toEqual(gpuUnits("g2"));
    expect(pool.claim([{ kind: "gpu", count: 2 }])).toBeUndefined();
    pool.hold(gpuUnits("g0"), -1);
    expect(pool.claim([{ kind: "gpu", count: 2 }])).toEqual(gpuUnits("g0", "g2"));
  });

  it("counts discrete kinds and gives a part of the count", () => {
    const pool = new GenericPool();
    pool.setCapacity([discreteResource("ssd", 4)]);
    const claimed = pool.claim([{ kind: "ssd", count: 3 }])!;
    expect(claimed).toEqual([discreteResource("ssd", 3)]);
    pool.hold(claimed, 1);
    expect(pool.available("ssd")).toBe(1);
    expect(pool.fits([{ kind: "ssd", count: 2 }])).toBe(false);
    expect(pool.fits([{ kind: "gpu", count: 1 }])).toBe(false); // a kind the node lacks
    pool.hold(claimed, -1);
    expect(pool.available("ssd")).toBe(4);
  });

  it("keeps what tasks hold when the node advertises something else", () => {
    const pool = new GenericPool();
    pool.setCapacity(gpuUnits("g0", "g1"));
    pool.hold(gpuUnits("g1"), 1);
    pool.setCapacity(gpuUnits("g1", "g2", "g3"));
    expect(pool.available("gpu")).toBe(2);
    expect(pool.claim([{ kind: "gpu", count: 2 }])).toEqual(gpuUnits("g2", "g3"));
  });
});

describe("genericWants", () => {
  it("sums the counts per kind and ignores named entries and zero counts", () => {
    expect(
      genericWants([
        discreteResource("gpu", 1),
        discreteResource("ssd", 0),
        namedResource("fpga", "F1"),
        discreteResource("gpu", 1),
      ]),
    ).toEqual([{ kind: "gpu", count: 2 }]);
  });

  it("compares lists of given resources", () => {
    expect(sameResources(gpuUnits("a"), gpuUnits("a"))).toBe(true);
    expect(sameResources(gpuUnits("a"), gpuUnits("b"))).toBe(false);
    expect(sameResources([discreteResource("gpu", 1)], gpuUnits("1"))).toBe(false);
  });
});
