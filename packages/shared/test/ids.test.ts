import { describe, expect, it } from "vitest";
import { ID_LENGTH, isId, newId, shortId } from "@shoal/shared";

describe("ids", () => {
  it("are 25 lowercase base-36 characters, as Swarm's", () => {
    const id = newId();
    expect(id).toHaveLength(ID_LENGTH);
    expect(isId(id)).toBe(true);
  });

  it("do not repeat", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId()));
    expect(ids.size).toBe(10_000);
  });

  it("come from the injected randomness", () => {
    expect(newId((n) => new Uint8Array(n))).toBe("0".repeat(25));
    expect(newId((n) => new Uint8Array(n).fill(255))).toBe("f5lxx1zz5pnorynqglhzmsp33");
  });

  it("shorten to 12 characters", () => {
    expect(shortId("abcdefghijklmnopqrstuvwxy")).toBe("abcdefghijkl");
    expect(isId("ABC")).toBe(false);
  });
});
