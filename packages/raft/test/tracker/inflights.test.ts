import { describe, expect, it } from "vitest";
import { Inflights } from "../../src/tracker/inflights.js";

describe("Inflights", () => {
  it("fills up to its capacity, wrapping around the ring", () => {
    const f = new Inflights(4);
    for (let i = 1; i <= 3; i++) f.add(i, 10);
    f.freeLE(2);
    expect(f.length).toBe(1);
    f.add(4, 10);
    f.add(5, 10);
    f.add(6, 10); // wraps
    expect(f.full()).toBe(true);
    expect(() => f.add(7, 10)).toThrow(/full/);
    f.freeLE(5);
    expect(f.length).toBe(1);
    expect(f.full()).toBe(false);
  });

  it("frees everything up to an index, and the first one alone", () => {
    const f = new Inflights(10);
    for (let i = 0; i < 10; i++) f.add(i, 1);
    f.freeLE(4);
    expect(f.length).toBe(5);
    f.freeLE(8);
    expect(f.length).toBe(1);
    f.freeLE(3); // stale: nothing
    expect(f.length).toBe(1);
    f.freeFirstOne();
    expect(f.length).toBe(0);
    f.freeFirstOne();
    expect(f.length).toBe(0);
  });

  it("is full when the byte budget is used up", () => {
    const f = new Inflights(10, 100);
    f.add(1, 60);
    expect(f.full()).toBe(false);
    f.add(2, 40);
    expect(f.full()).toBe(true);
    expect(f.inflightBytes).toBe(100);
    f.freeLE(1);
    expect(f.full()).toBe(false);
    expect(f.inflightBytes).toBe(40);
  });

  it("clones with content and limits", () => {
    const f = new Inflights(3, 50);
    f.add(1, 20);
    f.add(2, 20);
    const c = f.clone();
    f.reset();
    expect(c.length).toBe(2);
    expect(c.inflightBytes).toBe(40);
    c.add(3, 5);
    expect(c.full()).toBe(true);
  });
});
