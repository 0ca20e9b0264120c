import { describe, expect, it } from "vitest";
import { ErrorCode, ManualClock, silentLogger, type ShoalError } from "@shoal/shared";
import { Leadership, transferTarget } from "../../../src/state/raft/leadership.js";

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function leadership(confirm: () => Promise<void> = () => Promise.resolve()) {
  const clock = new ManualClock();
  const told: boolean[] = [];
  const lost: Error[] = [];
  const l = new Leadership({
    self: 1,
    logger: silentLogger(),
    clock,
    confirm,
    onLost: (err) => lost.push(err),
    onLeadership: (isLeader) => told.push(isLeader),
  });
  return { l, clock, told, lost };
}

const progress = (entries: [number, number][]): Map<number, { match: number }> =>
  new Map(entries.map(([id, match]) => [id, { match }]));

describe("Leadership", () => {
  it("announces a new leadership once confirmed, and its loss at once, failing what waits on it", async () => {
    let confirmed: () => void = () => undefined;
    const { l, told, lost } = leadership(() => new Promise<void>((resolve) => (confirmed = resolve)));
    l.update(1, true, 2);
    expect([l.leader, l.isLeader]).toEqual([1, true]);
    await flush();
    expect(told).toEqual([]);
    confirmed();
    await flush();
    expect(told).toEqual([true]);
    l.update(3, false, 3);
    expect([l.leader, l.isLeader]).toEqual([3, false]);
    expect(told).toEqual([true, false]);
    expect(lost).toHaveLength(1);
    expect((lost[0] as ShoalError).code).toBe(ErrorCode.Unavailable);
    expect(lost[0]!.message).toMatch(/it may still be applied/);
  });

  it("retries the confirmation by the clock, and never announces a leadership already lost", async () => {
    let attempts = 0;
    const { l, clock, told } = leadership(() =>
      ++attempts < 3 ? Promise.reject(new Error("no quorum")) : Promise.resolve(),
    );
    l.update(1, true, 2);
    await flush();
    expect(attempts).toBe(1);
    clock.advance(100);
    await flush();
    expect(attempts).toBe(2);
    l.update(0, false, 3);
    clock.advance(100);
    await flush();
    expect(attempts).toBe(2);
    expect(told).toEqual([]);
  });

  it("hands leadership to the member with the most of the log and waits until it moved", async () => {
    const { l, clock } = leadership();
    l.update(1, true, 2);
    const asked: number[] = [];
    const node = {
      status: () => ({
        progress: progress([
          [1, 9],
          [2, 7],
          [3, 8],
        ]),
      }),
      transferLeader: (id: number) => asked.push(id),
    };
    let kicked = 0;
    const transfer = l.transfer(node, 1000, () => kicked++);
    expect(asked).toEqual([3]);
    expect(kicked).toBe(1);
    clock.advance(40);
    l.update(3, false, 3);
    clock.advance(20);
    expect(await transfer).toBe(true);
  });

  it("gives a transfer up after its timeout", async () => {
    const { l, clock } = leadership();
    l.update(1, true, 2);
    const node = {
      status: () => ({
        progress: progress([
          [1, 9],
          [2, 7],
        ]),
      }),
      transferLeader: () => undefined,
    };
    const transfer = l.transfer(node, 100, () => undefined);
    for (let i = 0; i < 6; i++) {
      clock.advance(20);
      await flush();
    }
    expect(await transfer).toBe(false);
  });

  it("picks no transfer target without another member", () => {
    expect(transferTarget(progress([[1, 5]]), 1)).toBeUndefined();
    expect(transferTarget(undefined, 1)).toBeUndefined();
    expect(
      transferTarget(
        progress([
          [1, 5],
          [2, 0],
        ]),
        1,
      ),
    ).toBe(2);
  });
});
