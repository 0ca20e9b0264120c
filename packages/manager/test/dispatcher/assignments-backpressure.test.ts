// A slow agent's assignments stream: when the call's buffer is full (write returns false), the
// stream waits for "drain" rather than buffering without bound; the store's changes wait in the
// subscription's bounded queue meanwhile and all arrive, in order, once the agent reads again.
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import {
  AssignmentsType,
  Task,
  TaskState,
  silentLogger,
  type AssignmentsRequest,
  type AssignmentsResponse,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { streamAssignments } from "../../src/dispatcher/assignments-stream.js";
import { MemoryStore } from "../../src/state/store/index.js";

class SlowCall extends EventEmitter {
  readonly messages: AssignmentsResponse[] = [];
  full = false;
  write(m: AssignmentsResponse): boolean {
    this.messages.push(m);
    return !this.full;
  }
  end(): void {}
}

const task = (id: string): Task =>
  Task.fromPartial({
    id,
    nodeId: "n1",
    serviceId: "svc",
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
  });

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("assignments: backpressure", () => {
  it("writes nothing more to a full call until it drains, then everything in order", async () => {
    const store = new MemoryStore();
    const call = new SlowCall();
    const stop = streamAssignments(
      store,
      "n1",
      call as unknown as grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>,
      silentLogger(),
    );
    call.full = true;
    await store.update((tx) => tx.tasks.create(task("t1")));
    await flush();
    expect(call.messages.map((m) => m.type)).toEqual([AssignmentsType.COMPLETE, AssignmentsType.INCREMENTAL]);
    for (const id of ["t2", "t3", "t4"]) await store.update((tx) => tx.tasks.create(task(id)));
    await flush();
    expect(call.messages).toHaveLength(2); // waiting for "drain"

    call.full = false;
    call.emit("drain");
    await flush();
    const ids = call.messages.slice(1).flatMap((m) => m.changes.map((c) => c.task?.id));
    expect(ids).toEqual(["t1", "t2", "t3", "t4"]);
    expect(call.messages.map((m) => m.appliesTo)).toEqual(["", "1", "2", "3", "4"]);
    stop();
  });
});
