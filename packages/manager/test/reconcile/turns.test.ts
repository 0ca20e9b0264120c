import { describe, expect, it } from "vitest";
import { TurnQueue } from "../../src/reconcile/turns.js";

describe("TurnQueue", () => {
  it("resolves callers in order, each in a turn of its own", async () => {
    const turns = new TurnQueue();
    const log: string[] = [];
    const caller = async (name: string): Promise<void> => {
      await turns.next();
      log.push(name);
      // Queued for the next check phase: with plain setImmediate every caller would run first.
      setImmediate(() => log.push(`${name}'s immediate`));
    };
    await Promise.all([caller("a"), caller("b"), caller("c")]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).toEqual(["a", "a's immediate", "b", "b's immediate", "c", "c's immediate"]);
    expect(turns.waiting).toBe(0);
  });

  it("serves I/O between two callers", async () => {
    const turns = new TurnQueue();
    const log: string[] = [];
    const first = turns.next().then(() => {
      // A timer due at once fires in the timers phase of the next turn, before the next caller.
      setTimeout(() => log.push("timer"), 0);
      const end = Date.now() + 5; // let the timer become due
      while (Date.now() < end);
      log.push("first");
    });
    const second = turns.next().then(() => log.push("second"));
    await Promise.all([first, second]);
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    expect(log.slice(0, 3)).toEqual(["first", "timer", "second"]);
  });
});
