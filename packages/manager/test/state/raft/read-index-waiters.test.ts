import { describe, expect, it } from "vitest";
import { ErrorCode, ManualClock } from "@shoal/shared";
import { ReadIndexWaiters } from "../../../src/state/raft/read-index-waiters.js";
import { seededRandomBytes } from "../../../src/random-bytes.js";

function waiters(clock = new ManualClock()): { reads: ReadIndexWaiters; asked: Uint8Array[]; clock: ManualClock } {
  const asked: Uint8Array[] = [];
  return { reads: new ReadIndexWaiters({ clock, random: seededRandomBytes(7), timeoutMs: 1000 }), asked, clock };
}

describe("ReadIndexWaiters", () => {
  it("asks Raft under a context of its own, and resolves the read with the index of its answer", async () => {
    const { reads, asked } = waiters();
    const a = reads.wait((ctx) => asked.push(ctx));
    const b = reads.wait((ctx) => asked.push(ctx));
    expect(asked).toHaveLength(2);
    expect(asked[0]).not.toEqual(asked[1]);
    reads.answer([
      { index: 12, requestCtx: asked[1]! },
      { index: 11, requestCtx: asked[0]! },
      { index: 99, requestCtx: new Uint8Array([1]) },
    ]);
    expect(await a).toBe(11);
    expect(await b).toBe(12);
    expect(reads.size).toBe(0);
  });

  it("fails a read with no answer in time, by the clock", async () => {
    const { reads, clock } = waiters();
    const read = reads.wait(() => undefined);
    clock.advance(999);
    expect(reads.size).toBe(1);
    clock.advance(1);
    await expect(read).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(reads.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("asks again under the same context while unanswered (a request Raft dropped), then stops", async () => {
    const { reads, asked, clock } = waiters();
    const read = reads.wait((ctx) => asked.push(ctx));
    expect(asked).toHaveLength(1);
    clock.advance(499);
    expect(asked).toHaveLength(1);
    clock.advance(1);
    expect(asked).toHaveLength(2);
    expect(asked[1]).toEqual(asked[0]);
    reads.answer([{ index: 7, requestCtx: asked[1]! }]);
    expect(await read).toBe(7);
    clock.advance(2000);
    expect(asked).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it("cancels a read when its signal aborts, before or after asking", async () => {
    const { reads, clock } = waiters();
    const abort = new AbortController();
    const read = reads.wait(() => undefined, abort.signal);
    abort.abort();
    await expect(read).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    await expect(reads.wait(() => undefined, abort.signal)).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    expect(reads.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects every read waiting", async () => {
    const { reads, clock } = waiters();
    const read = reads.wait(() => undefined);
    reads.rejectAll(new Error("stopping"));
    await expect(read).rejects.toThrow("stopping");
    expect(clock.pendingTimers).toBe(0);
  });
});
