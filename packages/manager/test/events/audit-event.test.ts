// Exec and attach audit records, as the Raft log carries them, become EXEC events on every
// manager's event log: here a leader's store proposes and a follower's store, applying the same
// entries, has the event. The entry changes no object and is no part of a snapshot.
import { describe, expect, it } from "vitest";
import {
  EventAction,
  EventType,
  ManualClock,
  Service,
  silentLogger,
  type AuditRecord,
  type Event,
} from "@shoal/shared";
import { auditEvent } from "../../src/events/audit-event.js";
import { EventLog } from "../../src/events/index.js";
import { LocalProposer, MemoryStore } from "../../src/state/store/index.js";

const record: AuditRecord = {
  action: "exec",
  caller: "admin",
  taskId: "t1",
  serviceId: "svc",
  nodeId: "node-1",
  containerId: "c0ffee",
  cmd: ["sh", "-c", "echo hi"],
  time: new Date(5_000),
  taskName: "web.1",
};

describe("auditEvent", () => {
  it("is an EXEC CREATE event of the task, with who ran what where", () => {
    expect(auditEvent(record, 7, new Date(9_000))).toEqual({
      type: EventType.EXEC,
      action: EventAction.CREATE,
      id: "t1",
      name: "web.1",
      time: new Date(5_000),
      index: 7,
      changes: [],
      attributes: {
        operation: "exec",
        caller: "admin",
        task_id: "t1",
        service_id: "svc",
        node_id: "node-1",
        container_id: "c0ffee",
        cmd: "sh -c echo hi",
      },
    } satisfies Event);
  });
});

describe("audit records through the log", () => {
  it("reach a follower's event log as EXEC events, and change no object or snapshot", async () => {
    const clock = new ManualClock(1_000_000);
    const proposer = new LocalProposer();
    const leader = new MemoryStore({ clock, proposer });
    const follower = new MemoryStore({ clock, proposer });
    proposer.attach(leader);
    proposer.attach(follower);
    await leader.update((tx) =>
      tx.services.create(Service.fromPartial({ id: "svc", spec: { annotations: { name: "web" } } })),
    );
    const log = new EventLog({ store: follower, logger: silentLogger(), clock });
    log.start();
    const listener = log.listen({ types: [EventType.EXEC] });
    const before = follower.save();

    await leader.audit([record, { ...record, action: "attach", cmd: [], caller: "bob" }]);

    const batch = (await listener.next()) ?? [];
    expect(batch.map((e) => [e.type, e.name, e.attributes["operation"], e.attributes["caller"]])).toEqual([
      [EventType.EXEC, "web.1", "exec", "admin"],
      [EventType.EXEC, "web.1", "attach", "bob"],
    ]);
    expect(follower.appliedIndex).toBe(leader.appliedIndex);
    // Only the applied index moved: no object changed, and no record is in the snapshot.
    const after = follower.save();
    expect(Buffer.from(after).includes(Buffer.from("c0ffee"))).toBe(false);
    expect(after.length).toBe(before.length);
    await log.stop();
  });
});
