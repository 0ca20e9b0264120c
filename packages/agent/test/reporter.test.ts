import { TaskState, TaskStatus, silentLogger, type TaskStatusUpdate } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { StatusReporter, type StatusSender } from "../src/reporter.js";

const status = (state: TaskState, message = ""): TaskStatus => TaskStatus.fromPartial({ state, message });

function reporter(maxBatch?: number): StatusReporter {
  return new StatusReporter({
    logger: silentLogger(),
    backoff: { initialMs: 1, maxMs: 5 },
    ...(maxBatch !== undefined ? { maxBatch } : {}),
  });
}

/** A sender that records each batch; `fail` makes the next calls reject. */
function recorder(): { send: StatusSender; batches: TaskStatusUpdate[][]; fail: number } {
  const r = {
    batches: [] as TaskStatusUpdate[][],
    fail: 0,
    send: async (updates: TaskStatusUpdate[]): Promise<void> => {
      r.batches.push(updates);
      if (r.fail > 0) {
        r.fail--;
        throw new Error("unavailable");
      }
    },
  };
  return r;
}

const sent = (batch: TaskStatusUpdate[] | undefined): [string, TaskState | undefined][] =>
  (batch ?? []).map((u) => [u.taskId, u.status?.state]);

describe("StatusReporter", () => {
  it("coalesces: only the latest status of each task is sent", async () => {
    const rep = reporter();
    const rec = recorder();
    rep.report("a", status(TaskState.ACCEPTED));
    rep.report("a", status(TaskState.PREPARING));
    rep.report("b", status(TaskState.ACCEPTED));
    rep.report("a", status(TaskState.STARTING));
    rep.connect(rec.send, new AbortController().signal);
    await rep.flushed();
    expect(rec.batches.map(sent)).toEqual([
      [
        ["a", TaskState.STARTING],
        ["b", TaskState.ACCEPTED],
      ],
    ]);
    rep.stop();
  });

  it("coalesces what is reported while a batch is in flight", async () => {
    const rep = reporter();
    const batches: TaskStatusUpdate[][] = [];
    let release: () => void = () => undefined;
    const send: StatusSender = (updates) => {
      batches.push(updates);
      return new Promise<void>((resolve) => (release = resolve));
    };
    rep.connect(send, new AbortController().signal);
    rep.report("a", status(TaskState.ACCEPTED));
    await expect.poll(() => batches.length).toBe(1);
    rep.report("a", status(TaskState.PREPARING));
    rep.report("a", status(TaskState.STARTING));
    rep.report("a", status(TaskState.RUNNING));
    release();
    await expect.poll(() => batches.length).toBe(2);
    release();
    await rep.flushed();
    expect(batches.map(sent)).toEqual([[["a", TaskState.ACCEPTED]], [["a", TaskState.RUNNING]]]);
    rep.stop();
  });

  it("retries a failed send with backoff and loses nothing", async () => {
    const rep = reporter();
    const rec = recorder();
    rec.fail = 2;
    rep.connect(rec.send, new AbortController().signal);
    rep.report("a", status(TaskState.RUNNING));
    rep.report("b", status(TaskState.RUNNING));
    await expect.poll(() => rec.batches.length).toBeGreaterThanOrEqual(1);
    rep.report("b", status(TaskState.FAILED));
    await rep.flushed();
    expect(rep.failed).toBe(2);
    expect(rep.pendingCount).toBe(0);
    expect(sent(rec.batches.at(-1))).toEqual([
      ["a", TaskState.RUNNING],
      ["b", TaskState.FAILED],
    ]);
    rep.stop();
  });

  it("keeps statuses while disconnected and sends every known one again on (re)connect", async () => {
    const rep = reporter();
    const first = recorder();
    const session1 = new AbortController();
    rep.connect(first.send, session1.signal);
    rep.report("a", status(TaskState.RUNNING));
    rep.report("b", status(TaskState.RUNNING));
    await rep.flushed();
    expect(first.batches).toHaveLength(1);

    session1.abort(); // the session is lost
    expect(rep.connected).toBe(false);
    rep.report("b", status(TaskState.COMPLETE));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(first.batches).toHaveLength(1);

    const second = recorder();
    rep.connect(second.send, new AbortController().signal);
    await rep.flushed();
    expect(second.batches).toHaveLength(1);
    expect(sent(second.batches[0]).sort()).toEqual([
      ["a", TaskState.RUNNING],
      ["b", TaskState.COMPLETE],
    ]);
    rep.stop();
  });

  it("a send that fails because its session ended waits for the next session", async () => {
    const rep = reporter();
    const session1 = new AbortController();
    const send1: StatusSender = (_updates, signal) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("cancelled"))));
    rep.connect(send1, session1.signal);
    rep.report("a", status(TaskState.RUNNING));
    await new Promise((resolve) => setTimeout(resolve, 5));
    session1.abort();
    const second = recorder();
    rep.connect(second.send, new AbortController().signal);
    await rep.flushed();
    expect(second.batches.map(sent)).toEqual([[["a", TaskState.RUNNING]]]);
    rep.stop();
  });

  it("ignores a status older than the one held, and forgets tasks", async () => {
    const rep = reporter();
    const rec = recorder();
    rep.report("a", status(TaskState.RUNNING));
    rep.report("a", status(TaskState.STARTING));
    rep.report("b", status(TaskState.RUNNING));
    rep.forget("b");
    expect(rep.status("a")?.state).toBe(TaskState.RUNNING);
    rep.connect(rec.send, new AbortController().signal);
    await rep.flushed();
    expect(rec.batches.map(sent)).toEqual([[["a", TaskState.RUNNING]]]);
    rep.stop();
  });

  it("sends at most maxBatch updates per call", async () => {
    const rep = reporter(2);
    const rec = recorder();
    for (const id of ["a", "b", "c", "d", "e"]) rep.report(id, status(TaskState.RUNNING));
    rep.connect(rec.send, new AbortController().signal);
    await rep.flushed();
    expect(rec.batches.map((b) => b.map((u) => u.taskId))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    rep.stop();
  });

  it("stops idempotently and sends nothing after", async () => {
    const rep = reporter();
    const rec = recorder();
    rep.connect(rec.send, new AbortController().signal);
    rep.stop();
    rep.stop();
    rep.report("a", status(TaskState.RUNNING));
    await rep.flushed();
    expect(rec.batches).toEqual([]);
  });
});
