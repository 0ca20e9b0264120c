// The paging helpers: they walk the pages a manager gives (passing filters, page size and each
// token on), stop at the last page, read a manager from before paging as one page, refuse a token
// that does not advance, stop on abort, and sort the whole list as `service ps` and `node ls` show it.
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  MAX_LIST_PAGE_SIZE,
  Node,
  ShoalError,
  Task,
  listAllNodes,
  listAllTasks,
  taskPages,
  type ListNodesRequest,
  type ListTasksRequest,
  type ListTasksResponse,
  type TaskFilters,
} from "../src/index.js";

const FILTERS: TaskFilters = { idPrefixes: [], serviceIds: ["s1"], nodeIds: [], desiredStates: [] };

/** A manager's ListTasks over `tasks` (in id order), page by page; the requests it got. */
function pagedServer(tasks: readonly Task[]): {
  call: (req: ListTasksRequest) => Promise<ListTasksResponse>;
  requests: ListTasksRequest[];
} {
  const requests: ListTasksRequest[] = [];
  const call = (req: ListTasksRequest): Promise<ListTasksResponse> => {
    requests.push(req);
    const start = req.pageToken ? Number(req.pageToken) : 0;
    const end = start + (req.pageSize ?? tasks.length);
    return Promise.resolve({ tasks: tasks.slice(start, end), nextPageToken: end < tasks.length ? String(end) : "" });
  };
  return { call, requests };
}

function tasksOf(n: number): Task[] {
  // Ids in id order; slots in reverse, so slot order differs from id order.
  return Array.from({ length: n }, (_, i) => Task.fromPartial({ id: `t${i}`, serviceId: "s1", slot: n - i }));
}

describe("taskPages", () => {
  it("passes the filters, the page size and each next_page_token on, and stops at the last page", async () => {
    const { call, requests } = pagedServer(tasksOf(7));
    const pages: string[][] = [];
    for await (const page of taskPages(call, FILTERS, { pageSize: 3 })) pages.push(page.map((t) => t.id));
    expect(pages).toEqual([["t0", "t1", "t2"], ["t3", "t4", "t5"], ["t6"]]);
    expect(requests).toEqual([
      { filters: FILTERS, pageSize: 3, pageToken: "" },
      { filters: FILTERS, pageSize: 3, pageToken: "3" },
      { filters: FILTERS, pageSize: 3, pageToken: "6" },
    ]);
  });

  it("asks for the largest page by default", async () => {
    const { call, requests } = pagedServer(tasksOf(1));
    for await (const _ of taskPages(call, undefined)) void _;
    expect(requests[0]?.pageSize).toBe(MAX_LIST_PAGE_SIZE);
  });

  it("reads the answer of a manager from before paging (no token) as the only page", async () => {
    const tasks = tasksOf(4);
    const all = await listAllTasks(() => Promise.resolve({ tasks }), undefined, { pageSize: 2 });
    expect(all).toHaveLength(4);
  });

  it("fails instead of looping when the token does not advance", async () => {
    const stuck = (): Promise<ListTasksResponse> => Promise.resolve({ tasks: tasksOf(1), nextPageToken: "same" });
    const err: unknown = await listAllTasks(stuck, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShoalError);
    expect((err as ShoalError).code).toBe(ErrorCode.Internal);
  });

  it("stops between pages once the signal aborts", async () => {
    const ac = new AbortController();
    const { call, requests } = pagedServer(tasksOf(10));
    const walk = async (): Promise<void> => {
      for await (const _ of taskPages(call, undefined, { pageSize: 2, signal: ac.signal })) ac.abort(new Error("stop"));
    };
    await expect(walk()).rejects.toThrow("stop");
    expect(requests).toHaveLength(1);
  });
});

describe("listAllTasks and listAllNodes", () => {
  it("return every task across pages in slot order (as service ps lists them)", async () => {
    const { call } = pagedServer(tasksOf(9));
    const all = await listAllTasks(call, FILTERS, { pageSize: 4 });
    expect(all.map((t) => t.slot)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("return every node across pages by hostname", async () => {
    const nodes = ["c", "a", "d", "b", "e"].map((h, i) =>
      Node.fromPartial({ id: `n${i}`, description: { hostname: h } }),
    );
    const requests: ListNodesRequest[] = [];
    const all = await listAllNodes(
      (req) => {
        requests.push(req);
        const start = Number(req.pageToken || 0);
        const end = start + 2;
        return Promise.resolve({
          nodes: nodes.slice(start, end),
          nextPageToken: end < nodes.length ? String(end) : "",
        });
      },
      undefined,
      { pageSize: 2 },
    );
    expect(all.map((n) => n.description?.hostname)).toEqual(["a", "b", "c", "d", "e"]);
    expect(requests).toHaveLength(3);
  });
});
