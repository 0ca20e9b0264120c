import { describe, expect, it } from "vitest";
import { ReadOnly } from "../src/read-only.js";
import { makeMessage } from "../src/types.js";

const ctx = (s: string) => new TextEncoder().encode(s);
const req = (s: string, from = 0) =>
  makeMessage({ type: "MsgReadIndex", from, entries: [{ term: 0, index: 0, type: "normal", data: ctx(s) }] });

describe("ReadOnly", () => {
  it("queues requests, collects acks and releases a request with all those before it", () => {
    const ro = new ReadOnly();
    ro.addRequest(5, req("a"));
    ro.addRequest(6, req("b", 2));
    ro.addRequest(6, req("b", 2)); // duplicate context: ignored
    expect(ro.pendingCount).toBe(2);
    expect(ro.lastPendingRequestCtx()).toEqual(ctx("b"));
    expect([...(ro.recvAck(1, ctx("b")) ?? [])]).toEqual([1]);
    expect([...(ro.recvAck(3, ctx("b")) ?? [])]).toEqual([1, 3]);
    expect(ro.recvAck(3, ctx("zzz"))).toBeUndefined();
    const done = ro.advance(ctx("b"));
    expect(done.map((d) => d.index)).toEqual([5, 6]);
    expect(ro.pendingCount).toBe(0);
    expect(ro.lastPendingRequestCtx()).toBeUndefined();
    expect(ro.advance(ctx("b"))).toEqual([]);
  });
});
