import { describe, expect, it } from "vitest";
import { silentLogger } from "@shoal/shared";
import { LeaderComponents } from "../../src/lifecycle/leader-components.js";
import { FakeComponent } from "./fake-component.js";

function setup(fail?: Error): { journal: string[]; made: FakeComponent[]; leader: LeaderComponents } {
  const journal: string[] = [];
  const made: FakeComponent[] = [];
  const factory =
    (name: string, behaviour = {}) =>
    () => {
      const c = new FakeComponent(name, journal, behaviour);
      made.push(c);
      return c;
    };
  const leader = new LeaderComponents(
    [factory("orchestrator"), factory("scheduler", fail ? { fail } : {})],
    silentLogger(),
  );
  return { journal, made, leader };
}

describe("LeaderComponents", () => {
  it("starts nothing until leadership comes", async () => {
    const { journal, leader } = setup();
    await leader.run();
    expect(journal).toEqual([]);
  });

  it("makes fresh components for each term, starts them in order and stops them in reverse", async () => {
    const { journal, made, leader } = setup();
    await leader.setLeader(true);
    await leader.setLeader(true);
    expect(journal).toEqual(["run orchestrator", "up orchestrator", "run scheduler", "up scheduler"]);
    await leader.setLeader(false);
    expect(journal.slice(4)).toEqual(["stop scheduler (aborted)", "stop orchestrator (aborted)"]);
    await leader.setLeader(true);
    expect(made).toHaveLength(4);
    expect(made[2]).not.toBe(made[0]);
  });

  it("serializes leadership changes", async () => {
    const { journal, leader } = setup();
    void leader.setLeader(true);
    void leader.setLeader(false);
    await leader.setLeader(true);
    expect(journal.filter((l) => l.startsWith("stop"))).toHaveLength(2);
    expect(journal.filter((l) => l.startsWith("up"))).toHaveLength(4);
  });

  it("stop() ends the term and keeps later leadership from starting another; idempotent", async () => {
    const { journal, made, leader } = setup();
    await leader.setLeader(true);
    await leader.stop();
    await leader.stop();
    await leader.setLeader(true);
    expect(made).toHaveLength(2);
    expect(made.map((c) => c.stops)).toEqual([1, 1]);
    expect(journal.at(-1)).toBe("stop orchestrator (aborted)");
  });

  it("a term that fails to start is stopped, and the next leadership tries again", async () => {
    const { made, leader } = setup(new Error("no"));
    await leader.setLeader(true);
    expect(made.map((c) => c.stops)).toEqual([1, 1]);
    await leader.setLeader(true);
    expect(made).toHaveLength(4);
  });
});
