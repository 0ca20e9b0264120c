import { describe, expect, it } from "vitest";
import {
  Backoff,
  ErrorCode,
  ManualClock,
  ShoalError,
  silentLogger,
  type JoinRequest,
  type JoinResponse,
  type TlsMaterial,
} from "@shoal/shared";
import { joinCluster, type MembershipJoiner } from "../../../src/state/raft/join-cluster.js";

const ANSWER: JoinResponse = {
  raftId: 0xabc,
  members: [{ raftId: 1, nodeId: "n1", addr: "10.0.0.1:4242" }],
  removedMembers: [],
};

/** Answers each call with the next outcome: an error code to fail with, or the answer. */
class FakeJoiner implements MembershipJoiner {
  readonly calls: { req: JoinRequest; timeoutMs: number; at: number }[] = [];
  closed = false;
  constructor(
    private readonly clock: ManualClock,
    private readonly outcomes: (ErrorCode | JoinResponse)[],
  ) {}
  join(req: JoinRequest, timeoutMs: number): Promise<JoinResponse> {
    this.calls.push({ req, timeoutMs, at: this.clock.now() });
    const next = this.outcomes.shift() ?? ErrorCode.Unavailable;
    return typeof next === "string" ? Promise.reject(new ShoalError(next, `refused: ${next}`)) : Promise.resolve(next);
  }
  close(): void {
    this.closed = true;
  }
}

function setup(outcomes: (ErrorCode | JoinResponse)[]): {
  clock: ManualClock;
  joiner: FakeJoiner;
  controller: AbortController;
  join: () => Promise<JoinResponse>;
} {
  const clock = new ManualClock(1_000_000);
  const joiner = new FakeJoiner(clock, outcomes);
  const controller = new AbortController();
  const join = (): Promise<JoinResponse> =>
    joinCluster({
      target: "10.0.0.1:4242",
      nodeId: "me",
      addr: "10.0.0.9:4242",
      material: {} as TlsMaterial,
      clock,
      signal: controller.signal,
      logger: silentLogger(),
      // No jitter: delays of 200, 400, 800, 1600, then 2000 ms.
      backoff: new Backoff({ initialMs: 200, maxMs: 2000, random: () => 0.5 }),
      joiner,
    });
  return { clock, joiner, controller, join };
}

/** Lets the loop reach its next sleep (or end). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("joinCluster", () => {
  it("asks once and answers with the members when a leader admits it", async () => {
    const { joiner, join, clock } = setup([ANSWER]);
    await expect(join()).resolves.toEqual(ANSWER);
    expect(joiner.calls).toEqual([
      { req: { addr: "10.0.0.9:4242", nodeId: "me", joinToken: "" }, timeoutMs: 20_000, at: clock.now() },
    ]);
    expect(joiner.closed).toBe(true);
  });

  it("retries with backoff while the cluster has no leader", async () => {
    const { clock, joiner, join } = setup([
      ErrorCode.Unavailable,
      ErrorCode.NotLeader,
      ErrorCode.DeadlineExceeded,
      ANSWER,
    ]);
    const joined = join();
    for (const delay of [200, 400, 800]) {
      await turn();
      clock.advance(delay - 1);
      expect(joiner.calls).toHaveLength([200, 400, 800].indexOf(delay) + 1);
      clock.advance(1);
    }
    await expect(joined).resolves.toEqual(ANSWER);
    expect(joiner.calls.map((c) => c.at - 1_000_000)).toEqual([0, 200, 600, 1400]);
  });

  it("fails at once on an error that waiting does not cure, with its code", async () => {
    const { joiner, join } = setup([ErrorCode.PermissionDenied]);
    const err = await join().then(
      () => expect.unreachable(),
      (e: unknown) => e as ShoalError,
    );
    expect(err).toBeInstanceOf(ShoalError);
    expect(err.code).toBe(ErrorCode.PermissionDenied);
    expect(err.message).toBe("cannot join the cluster through 10.0.0.1:4242: refused: PERMISSION_DENIED");
    expect(joiner.calls).toHaveLength(1);
    expect(joiner.closed).toBe(true);
  });

  it("gives up once 60 s have passed without a leader", async () => {
    const { clock, joiner, join } = setup([]);
    const joined = join().then(
      () => expect.unreachable(),
      (e: unknown) => e as ShoalError,
    );
    while (clock.now() - 1_000_000 <= 60_000) {
      await turn();
      clock.advance(2000);
    }
    const err = await joined;
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toMatch(/^cannot join the cluster through 10\.0\.0\.1:4242: refused/);
    expect(joiner.calls.at(-1)!.at - 1_000_000).toBeGreaterThan(60_000);
    expect(joiner.closed).toBe(true);
  });

  it("stops retrying when its signal aborts", async () => {
    const { clock, joiner, controller, join } = setup([]);
    const joined = join();
    await turn();
    controller.abort(new Error("manager stopping"));
    await expect(joined).rejects.toThrow("manager stopping");
    clock.advance(10_000);
    expect(joiner.calls).toHaveLength(1);
    expect(joiner.closed).toBe(true);
  });
});
