// The checker's rules on small histories (no cluster needed).
import { describe, expect, it } from "vitest";
import { checkTasks, checkWrites } from "./checker.js";
import type { WriteRecord } from "./history.js";

function w(kind: WriteRecord["kind"], outcome: WriteRecord["outcome"], replicas?: number): WriteRecord {
  return { kind, service: "s-0", outcome, startedAt: 0, endedAt: 0, ...(replicas !== undefined ? { replicas } : {}) };
}

describe("checkWrites", () => {
  it("accepts the effect of the last acknowledged write", () => {
    expect(checkWrites([w("create", "acked", 1), w("scale", "acked", 2)], new Map([["s-0", 2]]))).toEqual([]);
    expect(checkWrites([w("create", "acked", 1), w("remove", "acked")], new Map())).toEqual([]);
  });

  it("finds an acknowledged write lost", () => {
    expect(checkWrites([w("create", "acked", 1), w("scale", "acked", 2)], new Map([["s-0", 1]]))).toHaveLength(1);
    expect(checkWrites([w("create", "acked", 1)], new Map())).toHaveLength(1);
  });

  it("finds a refused write applied, and names it", () => {
    const v = checkWrites([w("create", "acked", 1), w("remove", "refused")], new Map());
    expect(v).toHaveLength(1);
    expect(v[0]).toContain("a refused remove would explain it");
    expect(checkWrites([w("create", "refused", 1)], new Map([["s-0", 1]]))).toHaveLength(1);
  });

  it("lets an ambiguous write go either way, even one older than the last acknowledged", () => {
    const history = [w("create", "acked", 1), w("remove", "ambiguous"), w("scale", "acked", 2)];
    expect(checkWrites(history, new Map([["s-0", 2]]))).toEqual([]);
    expect(checkWrites(history, new Map())).toEqual([]);
    expect(checkWrites(history, new Map([["s-0", 1]]))).toHaveLength(1);
  });
});

describe("checkTasks", () => {
  const services = [{ id: "svc", name: "web", replicas: 2 }];
  const task = (id: string, slot: number, running = true) => ({ id, serviceId: "svc", slot, nodeId: "n", running });
  const container = (id: string, host: string, slot: string, taskId: string) => ({
    id,
    host,
    serviceId: "svc",
    slot,
    taskId,
  });

  it("accepts one running task and one container per slot", () => {
    const tasks = [task("t1", 1), task("t2", 2), task("t0", 1, false)];
    expect(checkTasks(services, tasks, [container("c1", "a1", "1", "t1"), container("c2", "a2", "2", "t2")])).toEqual(
      [],
    );
  });

  it("finds two running containers in one slot, and containers of removed services", () => {
    const tasks = [task("t1", 1), task("t2", 2)];
    const containers = [
      container("c1", "a1", "1", "t1"),
      container("c2", "a2", "2", "t2"),
      container("old", "a3", "1", "t0"),
      { id: "gone", host: "a1", serviceId: "removed", slot: "1", taskId: "tx" },
    ];
    const v = checkTasks(services, tasks, containers);
    expect(v.some((x) => x.includes("slot 1 has 2 running containers"))).toBe(true);
    expect(v.some((x) => x.includes("which does not exist"))).toBe(true);
  });

  it("finds a service short of its replicas in the task list", () => {
    expect(checkTasks(services, [task("t1", 1)], [container("c1", "a1", "1", "t1")])).toHaveLength(2);
  });
});
