// The Docker API reads the Control API's task list page by page: GET /tasks with more tasks than
// one page holds answers with each of them once, in the order ListTasks gave before paging.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_LIST_PAGE_SIZE, Task, TaskState, type ListTasksRequest } from "@shoal/shared";
import type { MemoryStore } from "../../src/state/store/index.js";
import { clusterStore, request, serveRoutes, storeControl, type StoreControl } from "./store-control.js";

const COUNT = MAX_LIST_PAGE_SIZE + 7;

let store: MemoryStore;
let control: StoreControl;
let server: { base: string; close(): Promise<void> };

beforeEach(async () => {
  store = await clusterStore();
  await store.update((tx) => {
    for (let slot = 1; slot <= COUNT; slot++) {
      const id = `t${String((slot * 7919) % 100_003).padStart(6, "0")}`; // ids in another order than slots
      tx.tasks.create(Task.fromPartial({ id, serviceId: "s1", slot, desiredState: TaskState.RUNNING }));
    }
  });
  control = storeControl(store);
  server = await serveRoutes(control);
});
afterEach(() => server.close());

describe("GET /tasks over more than one page", () => {
  it("answers with every task once, in slot order, from several ListTasks pages", async () => {
    const res = await request(server.base, "GET", "/v1.41/tasks");
    expect(res.status).toBe(200);
    const slots = (res.json as { Slot: number }[]).map((t) => t.Slot);
    expect(slots).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    const pages = control.calls.filter((c) => c.method === "listTasks").map((c) => c.request as ListTasksRequest);
    expect(pages.map((p) => p.pageToken === "")).toEqual([true, false]);
  });
});
