// A node's assignments stream carries the secrets and configs its tasks use: before the task, only
// to that node, once, and removed (by id) when its last task there ends or leaves.
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import {
  AssignmentAction,
  AssignmentsType,
  Config,
  Secret,
  Task,
  TaskState,
  silentLogger,
  type AssignmentChange,
  type AssignmentsRequest,
  type AssignmentsResponse,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { streamAssignments } from "../../src/dispatcher/assignments-stream.js";
import { MemoryStore } from "../../src/state/store/index.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

class FakeCall extends EventEmitter {
  readonly messages: AssignmentsResponse[] = [];
  write(m: AssignmentsResponse): boolean {
    this.messages.push(m);
    return true;
  }
  end(): void {}
}

function open(store: MemoryStore, nodeId: string): { call: FakeCall; stop: () => void } {
  const call = new FakeCall();
  const stop = streamAssignments(
    store,
    nodeId,
    call as unknown as grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>,
    silentLogger(),
  );
  return { call, stop };
}

function task(id: string, nodeId: string, secrets: string[], configs: string[] = [], state = TaskState.ASSIGNED): Task {
  return Task.fromPartial({
    id,
    nodeId,
    serviceId: "svc",
    desiredState: TaskState.RUNNING,
    status: { state },
    spec: {
      container: {
        image: "shoal-base:1",
        secrets: secrets.map((s) => ({ secretId: s, secretName: s, file: { name: s } })),
        configs: configs.map((c) => ({ configId: c, configName: c, file: { name: c } })),
      },
    },
  });
}

/** A change as a short word: "+secret:s1", "-secret:s1", "+task:t1", "-task:t1". */
function word(c: AssignmentChange): string {
  const sign = c.action === AssignmentAction.UPDATE ? "+" : "-";
  if (c.task) return `${sign}task:${c.task.id}`;
  if (c.secret) return `${sign}secret:${c.secret.id}`;
  return `${sign}config:${c.config!.id}`;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function storeWithSecrets(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.update((tx) => {
    tx.secrets.create(Secret.fromPartial({ id: "s1", spec: { annotations: { name: "s1" }, data: bytes("one") } }));
    tx.secrets.create(Secret.fromPartial({ id: "s2", spec: { annotations: { name: "s2" }, data: bytes("two") } }));
    tx.configs.create(Config.fromPartial({ id: "c1", spec: { annotations: { name: "c1" }, data: bytes("cfg") } }));
  });
  return store;
}

describe("assignments: secrets and configs", () => {
  it("sends a task's secrets (with data) before it in the complete set, once per node", async () => {
    const store = await storeWithSecrets();
    await store.update((tx) => {
      tx.tasks.create(task("t1", "n1", ["s1"], ["c1"]));
      tx.tasks.create(task("t2", "n1", ["s1"]));
      tx.tasks.create(task("t3", "n2", ["s2"]));
    });
    const { call, stop } = open(store, "n1");
    const [complete] = call.messages;
    expect(complete?.type).toBe(AssignmentsType.COMPLETE);
    expect(complete!.changes.map(word)).toEqual(["+secret:s1", "+config:c1", "+task:t1", "+task:t2"]);
    const sent = complete!.changes[0]!.secret!;
    expect(Buffer.from(sent.spec!.data).toString()).toBe("one");
    // n1 never gets s2: no task of n1 uses it.
    expect(JSON.stringify(call.messages)).not.toContain('"s2"');
    stop();
  });

  it("incremental: a new task's secret first, then the task; REMOVE by id when the last user goes", async () => {
    const store = await storeWithSecrets();
    const { call, stop } = open(store, "n1");
    const other = open(store, "n2");
    await store.update((tx) => tx.tasks.create(task("t1", "n1", ["s1", "s2"])));
    await flush();
    expect(call.messages[1]!.changes.map(word)).toEqual(["+secret:s1", "+secret:s2", "+task:t1"]);

    await store.update((tx) => tx.tasks.create(task("t2", "n1", ["s1"])));
    await flush();
    expect(call.messages[2]!.changes.map(word)).toEqual(["+task:t2"]); // s1 is there already

    // t1 ends: s2 goes (t1 stays in the set), s1 stays for t2.
    await store.update((tx) => {
      const t = tx.tasks.get("t1")!;
      t.status = { ...t.status!, state: TaskState.FAILED };
      tx.tasks.update(t);
    });
    await flush();
    expect(call.messages[3]!.changes.map(word)).toEqual(["-secret:s2"]);
    expect(call.messages[3]!.changes[0]!.secret).toEqual({ id: "s2", meta: undefined, spec: undefined });

    // t2 is removed from the store: its REMOVE, then s1's.
    await store.update((tx) => tx.tasks.delete("t2"));
    await flush();
    expect(call.messages[4]!.changes.map(word)).toEqual(["-task:t2", "-secret:s1"]);

    // The other node heard of none of it.
    expect(other.call.messages.flatMap((m) => m.changes)).toEqual([]);
    stop();
    other.stop();
  });

  it("a task moved off the node takes its secrets with it", async () => {
    const store = await storeWithSecrets();
    await store.update((tx) => tx.tasks.create(task("t1", "n1", [], ["c1"])));
    const { call, stop } = open(store, "n1");
    await store.update((tx) => {
      const t = tx.tasks.get("t1")!;
      t.desiredState = TaskState.SHUTDOWN;
      tx.tasks.update(t);
    });
    await flush();
    // Still dispatched and not ended: it keeps its config.
    expect(call.messages[1]!.changes.map(word)).toEqual(["+task:t1"]);
    await store.update((tx) => {
      const t = tx.tasks.get("t1")!;
      t.nodeId = "n2";
      tx.tasks.update(t);
    });
    await flush();
    expect(call.messages[2]!.changes.map(word)).toEqual(["-task:t1", "-config:c1"]);
    stop();
  });
});
