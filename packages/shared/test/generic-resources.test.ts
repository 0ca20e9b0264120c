import { describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  discreteResource,
  formatResource,
  namedResource,
  parseGenericResources,
} from "@shoal/shared";

describe("parseGenericResources", () => {
  it("reads a single whole number as a count", () => {
    expect(parseGenericResources(["gpu=2"], "f")).toEqual([discreteResource("gpu", 2)]);
  });

  it("reads other values as named units, one per term, kinds in order", () => {
    expect(parseGenericResources(["gpu=GPU-a", "fpga=F1", "gpu=GPU-b", " gpu = GPU-a "], "f")).toEqual([
      namedResource("gpu", "GPU-a"),
      namedResource("gpu", "GPU-b"),
      namedResource("fpga", "F1"),
    ]);
  });

  it("refuses bad terms, naming the field", () => {
    for (const term of ["gpu", "gpu=1=2", "=1", "gpu=", "g pu=1", "gpu=-1", "gpu=a,b", "gpu=a b"]) {
      let err: unknown;
      try {
        parseGenericResources([term], "--generic-resource");
      } catch (e: unknown) {
        err = e;
      }
      expect(err, term).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).field).toBe("--generic-resource");
    }
  });

  it("refuses a kind with a count and named units, or two counts", () => {
    expect(() => parseGenericResources(["gpu=1", "gpu=GPU-a"], "f")).toThrow(/mixes/);
    expect(() => parseGenericResources(["gpu=1", "gpu=2"], "f")).toThrow(/mixes/);
  });

  it("formats a resource as KIND=VALUE", () => {
    expect(formatResource(discreteResource("gpu", 3))).toBe("gpu=3");
    expect(formatResource(namedResource("gpu", "GPU-a"))).toBe("gpu=GPU-a");
  });
});
