// The commands' lists: read from the manager page by page with the service's filter, in slot order.
import { describe, expect, it } from "vitest";
import { Task, type ListTasksRequest } from "@shoal/shared";
import type { Control } from "../src/client.js";
import { serviceTasks } from "../src/list.js";

describe("serviceTasks", () => {
  it("reads every page of the service's tasks and returns them in slot order", async () => {
    const tasks = [3, 1, 2].map((slot) => Task.fromPartial({ id: `t${slot}`, serviceId: "s1", slot }));
    const requests: ListTasksRequest[] = [];
    const control = {
      call: (method: string, req: ListTasksRequest) => {
        expect(method).toBe("listTasks");
        requests.push(req);
        const start = Number(req.pageToken || 0);
        return Promise.resolve({ tasks: tasks.slice(start, start + 2), nextPageToken: start + 2 < 3 ? "2" : "" });
      },
    } as unknown as Pick<Control, "call">;
    const all = await serviceTasks(control, "s1");
    expect(all.map((t) => t.slot)).toEqual([1, 2, 3]);
    expect(requests.map((r) => [r.filters?.serviceIds, r.pageToken])).toEqual([
      [["s1"], ""],
      [["s1"], "2"],
    ]);
  });
});
