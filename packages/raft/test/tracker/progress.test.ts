import { describe, expect, it } from "vitest";
import { Inflights } from "../../src/tracker/inflights.js";
import { Progress } from "../../src/tracker/progress.js";

function progress(match: number, next: number, state: Progress["state"] = "probe", inflight = 256): Progress {
  const p = new Progress(match, next, new Inflights(inflight));
  if (state === "replicate") p.becomeReplicate();
  p.next = next;
  if (state === "snapshot") p.becomeSnapshot(10);
  return p;
}

describe("Progress", () => {
  it("probe: pauses after one message until an answer or a heartbeat response", () => {
    const p = progress(0, 1);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 1, 10);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(1); // probing does not advance next optimistically
    p.maybeUpdate(1);
    expect(p.isPaused()).toBe(false);
  });

  it("replicate: advances next optimistically and pauses when the window is full", () => {
    const p = progress(5, 6, "replicate", 2);
    p.sentEntries(2, 7, 10);
    expect(p.next).toBe(8);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 8, 10);
    expect(p.isPaused()).toBe(true);
    p.maybeUpdate(7);
    p.inflights.freeLE(7);
    expect(p.isPaused()).toBe(false);
  });

  it("snapshot: always paused", () => {
    expect(progress(0, 1, "snapshot").isPaused()).toBe(true);
  });

  it("maybeUpdate moves match forward only and reports whether it did", () => {
    const p = progress(3, 5);
    expect(p.maybeUpdate(2)).toBe(false);
    expect([p.match, p.next]).toEqual([3, 5]);
    expect(p.maybeUpdate(3)).toBe(false);
    expect(p.maybeUpdate(4)).toBe(true);
    expect([p.match, p.next]).toEqual([4, 5]);
    expect(p.maybeUpdate(6)).toBe(true);
    expect([p.match, p.next]).toEqual([6, 7]);
  });

  it("maybeDecrTo in replicate: stale rejections of matched indexes are ignored, others go back to match+1", () => {
    const p = progress(5, 10, "replicate");
    expect(p.maybeDecrTo(5, 5)).toBe(false);
    expect(p.maybeDecrTo(4, 4)).toBe(false);
    expect(p.maybeDecrTo(9, 9)).toBe(true);
    expect(p.next).toBe(6);
  });

  it("maybeDecrTo in probe: only the latest probe's rejection counts, and it follows the hint", () => {
    const p = progress(0, 10);
    expect(p.maybeDecrTo(5, 5)).toBe(false); // not next-1: stale
    expect(p.maybeDecrTo(9, 9)).toBe(true);
    expect(p.next).toBe(9);
    expect(p.maybeDecrTo(8, 3)).toBe(true);
    expect(p.next).toBe(4); // hint + 1
    expect(p.maybeDecrTo(3, 100)).toBe(true);
    expect(p.next).toBe(3); // never above the rejected index
    const q = progress(2, 5);
    expect(q.maybeDecrTo(4, 0)).toBe(true);
    expect(q.next).toBe(3); // never below match + 1
  });

  it("leaving a snapshot resumes after the snapshot (or the match, if further)", () => {
    const p = progress(1, 2);
    p.becomeSnapshot(10);
    p.becomeProbe();
    expect(p.next).toBe(11);
    const q = progress(1, 2);
    q.becomeSnapshot(10);
    q.maybeUpdate(12);
    q.becomeProbe();
    expect(q.next).toBe(13);
    const r = progress(1, 2);
    r.becomeSnapshot(10);
    r.pendingSnapshot = 0; // failed
    r.becomeProbe();
    expect(r.next).toBe(2);
  });
});
