import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { InvalidConfigError } from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";

const base = { id: 1, storage: new MemoryStorage(), electionTick: 10, heartbeatTick: 1 };

describe("config", () => {
  it("defaults to pre-vote and check-quorum on", () => {
    const c = resolveConfig(base);
    expect(c.preVote).toBe(true);
    expect(c.checkQuorum).toBe(true);
    expect(c.maxInflightMsgs).toBe(256);
  });

  it("rejects invalid settings", () => {
    expect(() => resolveConfig({ ...base, id: 0 })).toThrow(InvalidConfigError);
    expect(() => resolveConfig({ ...base, heartbeatTick: 0 })).toThrow(InvalidConfigError);
    expect(() => resolveConfig({ ...base, electionTick: 1 })).toThrow(InvalidConfigError);
    expect(() => resolveConfig({ ...base, maxInflightMsgs: 0 })).toThrow(InvalidConfigError);
    expect(() => resolveConfig({ ...base, maxSizePerMsg: 100, maxInflightBytes: 10 })).toThrow(InvalidConfigError);
  });
});
