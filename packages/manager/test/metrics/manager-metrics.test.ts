import { describe, expect, it } from "vitest";
import { ManualClock, Node, NodeState, RaftMember, Task, TaskState, silentLogger } from "@shoal/shared";
import { MemoryStore, type RaftView } from "@shoal/manager";
import { serveManagerMetrics } from "../../src/metrics/index.js";
import { settle } from "../orchestrator/helpers.js";

function fakeRaft(state: { leader: number }): RaftView {
  return {
    raftId: 2,
    leaderAddr: () => undefined,
    status: () => ({ term: 3, commit: 12, applied: 10, leader: state.leader, progress: new Map() }),
    get isLeader() {
      return state.leader === 1;
    },
    get leaderId() {
      return state.leader;
    },
    memberList: () => [1, 2, 3].map((raftId) => RaftMember.fromPartial({ raftId })),
  };
}

const value = (text: string, line: string): number => {
  const found = text.split("\n").find((l) => l.startsWith(line));
  return found === undefined ? NaN : Number(found.slice(found.lastIndexOf(" ") + 1));
};

describe("manager metrics", () => {
  it("serves raft, task, node, scheduling and heartbeat metrics at /metrics", async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryStore({ clock });
    const raft = { leader: 1 };
    const served = await serveManagerMetrics("127.0.0.1:0", {
      store,
      raft: () => fakeRaft(raft),
      clock,
      logger: silentLogger(),
      labels: { node_id: "m1" },
      sampleMs: 5,
    });
    try {
      await store.update((tx) => {
        tx.nodes.create(Node.fromPartial({ id: "n1", status: { state: NodeState.READY } }));
        tx.tasks.create(Task.fromPartial({ id: "t1", serviceId: "s1", slot: 1, status: { state: TaskState.PENDING } }));
      });
      clock.advance(250);
      await store.update((tx) => {
        const t = tx.tasks.get("t1")!;
        tx.tasks.update({ ...t, nodeId: "n1", status: { ...t.status!, state: TaskState.ASSIGNED } });
        const n = tx.nodes.get("n1")!;
        tx.nodes.update({ ...n, status: { state: NodeState.DOWN, message: "heartbeat failure", addr: "" } });
      });
      await settle(); // the metrics read the commits
      raft.leader = 2;
      clock.advance(5); // one sample

      const res = await fetch(`http://${served.address}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(value(text, 'shoal_raft_term{node_id="m1"}')).toBe(3);
      expect(value(text, 'shoal_raft_apply_lag{node_id="m1"}')).toBe(2);
      expect(value(text, 'shoal_raft_is_leader{node_id="m1"}')).toBe(0);
      expect(value(text, 'shoal_raft_leader_changes_total{node_id="m1"}')).toBe(2);
      expect(value(text, 'shoal_tasks{state="assigned",node_id="m1"}')).toBe(1);
      expect(value(text, 'shoal_nodes{status="down",availability="active",node_id="m1"}')).toBe(1);
      expect(value(text, 'shoal_scheduling_latency_seconds_count{node_id="m1"}')).toBe(1);
      expect(value(text, 'shoal_scheduling_latency_seconds_sum{node_id="m1"}')).toBeCloseTo(0.25);
      expect(value(text, 'shoal_dispatcher_heartbeat_failures_total{node_id="m1"}')).toBe(1);
      expect(text).toContain("shoal_manager_process_cpu_seconds_total");
      expect((await fetch(`http://${served.address}/other`)).status).toBe(404);
    } finally {
      await served.stop();
      await served.stop();
    }
  });
});
