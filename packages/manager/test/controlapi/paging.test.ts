// Paging of ListTasks and ListNodes: pages in order of id, the token of the next one, filters
// applied before paging, a walk that returns each task that lives throughout it exactly once while
// others come and go, bad tokens refused by field, and the bounds on a page (count and bytes).
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIST_PAGE_SIZE,
  ErrorCode,
  MAX_LIST_PAGE_BYTES,
  MAX_LIST_PAGE_SIZE,
  Node,
  ShoalError,
  Task,
  TaskSpec,
  TaskState,
  ListTasksRequest,
  type TaskFilters,
} from "@shoal/shared";
import { listNodes } from "../../src/controlapi/nodes.js";
import { MAX_CURSORS, encodePageToken } from "../../src/controlapi/paging.js";
import { listTasks } from "../../src/controlapi/tasks.js";
import { MemoryStore } from "../../src/state/store/index.js";

function task(id: string, serviceId = "s1", slot = 1, extra: Partial<Task> = {}): Task {
  return Task.fromPartial({ id, serviceId, slot, desiredState: TaskState.RUNNING, ...extra });
}

async function storeWith(tasks: readonly Task[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.update((tx) => tasks.forEach((t) => tx.tasks.create(t)));
  return store;
}

/** Ids t000, t001, ... so that id order is easy to read. */
function ids(n: number, prefix = "t"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);
}

const NO_FILTERS: TaskFilters = { idPrefixes: [], serviceIds: [], nodeIds: [], desiredStates: [] };

/** Every page of a walk, with `between` run after each page but the last. */
async function walk(
  store: MemoryStore,
  req: Omit<ListTasksRequest, "pageToken">,
  between: (page: number) => Promise<void> = async () => undefined,
): Promise<string[][]> {
  const pages: string[][] = [];
  let pageToken = "";
  for (;;) {
    const res = listTasks(store, { ...req, pageToken });
    pages.push(res.tasks.map((t) => t.id));
    if (!res.nextPageToken) return pages;
    pageToken = res.nextPageToken;
    await between(pages.length);
  }
}

function failure(fn: () => unknown): ShoalError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShoalError) return err;
    throw err;
  }
  throw new Error("expected a ShoalError");
}

describe("ListTasks in pages", () => {
  it("gives pages of page_size tasks in order of id, then a last page without a token", async () => {
    const all = ids(25);
    const store = await storeWith([...all].reverse().map((id) => task(id)));
    const pages = await walk(store, { filters: undefined, pageSize: 10 });
    expect(pages).toEqual([all.slice(0, 10), all.slice(10, 20), all.slice(20)]);
  });

  it("ends without a token when the last page is exactly full", async () => {
    const store = await storeWith(ids(20).map((id) => task(id)));
    const pages = await walk(store, { filters: undefined, pageSize: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10]);
  });

  it("applies the filters before paging", async () => {
    const tasks = ids(30).map((id, i) =>
      task(id, i % 2 === 0 ? "even" : "odd", i, {
        desiredState: i % 3 === 0 ? TaskState.SHUTDOWN : TaskState.RUNNING,
        nodeId: i % 5 === 0 ? "n5" : "n1",
      }),
    );
    const store = await storeWith(tasks);
    const expected = (f: (t: Task) => boolean): string[] => tasks.filter(f).map((t) => t.id);

    const even = await walk(store, { filters: { ...NO_FILTERS, serviceIds: ["even"] }, pageSize: 4 });
    expect(even.every((p) => p.length <= 4)).toBe(true);
    expect(even.flat()).toEqual(expected((t) => t.serviceId === "even"));

    const filters = { ...NO_FILTERS, serviceIds: ["odd"], desiredStates: [TaskState.RUNNING], nodeIds: ["n1"] };
    expect((await walk(store, { filters, pageSize: 3 })).flat()).toEqual(
      expected((t) => t.serviceId === "odd" && t.desiredState === TaskState.RUNNING && t.nodeId === "n1"),
    );

    const both = await walk(store, { filters: { ...NO_FILTERS, serviceIds: ["odd", "even"] }, pageSize: 7 });
    expect(both.flat()).toEqual(expected(() => true));
  });

  it("returns once every task that exists throughout a walk while others are added and removed", async () => {
    const initial = ids(40, "m");
    const store = await storeWith(initial.map((id) => task(id)));
    const removed = new Set<string>();
    const added: string[] = [];
    const pages = await walk(store, { filters: undefined, pageSize: 7 }, async (page) => {
      // Around the cursor: new ids before it (never seen), after it (may be seen), and removals
      // of tasks both already returned and still to come.
      const before = `a${page}`;
      const after = `z${page}`;
      const gone = [initial[page * 3]!, initial[39 - page]!].filter((id) => !removed.has(id));
      await store.update((tx) => {
        tx.tasks.create(task(before));
        tx.tasks.create(task(after));
        for (const id of gone) tx.tasks.delete(id);
      });
      added.push(before, after);
      gone.forEach((id) => removed.add(id));
    });
    const seen = pages.flat();
    expect(new Set(seen).size).toBe(seen.length); // nothing twice
    for (const id of initial.filter((i) => !removed.has(i))) expect(seen).toContain(id);
    // What was returned was there at that moment: only initial or added ids.
    for (const id of seen) expect([...initial, ...added]).toContain(id);
    // The walk lists what matched at its first page: tasks created since do not appear.
    expect(seen.some((id) => id.startsWith("a") || id.startsWith("z"))).toBe(false);
  });

  it("reads a task changed during a walk as it is now, and skips one that no longer matches", async () => {
    const store = await storeWith(ids(6).map((id) => task(id)));
    const filters = { ...NO_FILTERS, desiredStates: [TaskState.RUNNING] };
    const pages = await walk(store, { filters, pageSize: 2 }, async () => {
      await store.update((tx) => {
        for (const id of ["t0003", "t0004"]) {
          const t = tx.tasks.get(id);
          if (t?.desiredState === TaskState.RUNNING) {
            tx.tasks.update({ ...t, desiredState: id === "t0003" ? TaskState.SHUTDOWN : TaskState.RUNNING, slot: 9 });
          }
        }
      });
    });
    const seen = pages.flat();
    expect(seen).toEqual(["t0000", "t0001", "t0002", "t0004", "t0005"]);
    const slots = store.view((tx) => tx.tasks.get("t0004")!.slot);
    expect(slots).toBe(9);
  });

  it("continues a walk whose cursor is gone from the token's last id (another manager, or evicted)", async () => {
    const tasks = ids(9).map((id) => task(id));
    const store = await storeWith(tasks);
    const other = await storeWith(tasks); // a second manager with the same state
    const first = listTasks(store, { filters: undefined, pageSize: 4 });
    const second = listTasks(other, { filters: undefined, pageSize: 4, pageToken: first.nextPageToken! });
    expect(second.tasks.map((t) => t.id)).toEqual(ids(9).slice(4, 8));
    // Back on the first manager after more walks than it keeps cursors for.
    for (let i = 0; i <= MAX_CURSORS; i++) listTasks(store, { filters: undefined, pageSize: 1 });
    const third = listTasks(store, { filters: undefined, pageSize: 4, pageToken: second.nextPageToken! });
    expect([third.tasks.map((t) => t.id), third.nextPageToken]).toEqual([["t0008"], ""]);
  });

  it("refuses a token it did not give with INVALID_ARGUMENT naming page_token", async () => {
    const store = await storeWith(ids(3).map((id) => task(id)));
    const nodeToken = encodePageToken("node", "c1", "t0001");
    const emptyId = Buffer.from("task:").toString("base64url");
    const badCursor = Buffer.from("task:NO CURSOR:t0001").toString("base64url");
    for (const pageToken of ["garbage!", "x".repeat(600), nodeToken, emptyId, badCursor, "dGFzazp0MDAwMQ=", "Zm9v"]) {
      const err = failure(() => listTasks(store, { filters: undefined, pageToken }));
      expect(err.code, pageToken).toBe(ErrorCode.InvalidArgument);
      expect(err.message).toMatch(/^page_token: /);
    }
    expect(failure(() => listTasks(store, { filters: undefined, pageToken: nodeToken })).message).toMatch(
      /a token of a node list/,
    );
    const err = failure(() => listTasks(store, { filters: undefined, pageSize: -1 }));
    expect([err.code, err.message]).toEqual([ErrorCode.InvalidArgument, expect.stringMatching(/^page_size: /)]);
  });

  it("continues after a token's id even when that task is gone", async () => {
    const store = await storeWith(ids(5).map((id) => task(id)));
    const first = listTasks(store, { filters: undefined, pageSize: 2 });
    await store.update((tx) => tx.tasks.delete("t0001"));
    const second = listTasks(store, { filters: undefined, pageSize: 2, pageToken: first.nextPageToken! });
    expect(second.tasks.map((t) => t.id)).toEqual(["t0002", "t0003"]);
  });

  it("gives the default page for page_size 0 and at most the maximum for more", async () => {
    const store = await storeWith(ids(MAX_LIST_PAGE_SIZE + 10).map((id) => task(id)));
    expect(listTasks(store, { filters: undefined, pageSize: 0 }).tasks).toHaveLength(DEFAULT_LIST_PAGE_SIZE);
    const big = listTasks(store, { filters: undefined, pageSize: 1_000_000 });
    expect(big.tasks).toHaveLength(MAX_LIST_PAGE_SIZE);
    const rest = listTasks(store, { filters: undefined, pageToken: big.nextPageToken! });
    expect([rest.tasks.length, rest.nextPageToken]).toEqual([10, ""]);
  });

  it("ends a page before its tasks encode to more than MAX_LIST_PAGE_BYTES", async () => {
    // Tasks of about 300 KB each (a large spec): far fewer per page than page_size.
    const env = ["BIG=" + "x".repeat(300_000)];
    const store = await storeWith(
      ids(20).map((id) => task(id, "s1", 1, { spec: TaskSpec.fromPartial({ container: { env } }) })),
    );
    const pages = await walk(store, { filters: undefined, pageSize: 100 });
    expect(pages.flat()).toEqual(ids(20));
    for (const page of pages) {
      const tasks = store.view((tx) => page.map((id) => tx.tasks.get(id)!));
      expect(tasks.reduce((n, t) => n + Task.encode(t).finish().length, 0)).toBeLessThanOrEqual(MAX_LIST_PAGE_BYTES);
    }
    // A single task larger than the bound still comes, alone.
    const huge = await storeWith([
      task("h1", "s1", 1, { spec: TaskSpec.fromPartial({ container: { env: ["X=" + "y".repeat(3e6)] } }) }),
    ]);
    expect(listTasks(huge, { filters: undefined, pageSize: 10 }).tasks).toHaveLength(1);
  });

  it("answers a request without page fields with every task in slot order, as before paging", async () => {
    const tasks = [task("c", "s2", 1), task("b", "s1", 2), task("a", "s1", 1), task("d", "s1", 10)];
    const store = await storeWith(tasks);
    const res = listTasks(store, { filters: undefined });
    expect(res.tasks.map((t) => t.id)).toEqual(["a", "b", "d", "c"]);
    expect(res.nextPageToken).toBeUndefined();
  });
});

describe("page fields on the wire", () => {
  it("tells a request from before paging from one that asks for the default page (page_size 0)", async () => {
    const store = await storeWith(ids(DEFAULT_LIST_PAGE_SIZE + 1).map((id) => task(id)));
    const wire = (req: ListTasksRequest): ListTasksRequest =>
      ListTasksRequest.decode(ListTasksRequest.encode(req).finish());
    expect(ListTasksRequest.encode({ filters: undefined }).finish()).toHaveLength(0);
    expect(listTasks(store, wire({ filters: undefined })).tasks).toHaveLength(DEFAULT_LIST_PAGE_SIZE + 1);
    expect(listTasks(store, wire({ filters: undefined, pageSize: 0 })).tasks).toHaveLength(DEFAULT_LIST_PAGE_SIZE);
  });
});

describe("ListNodes in pages", () => {
  it("gives the nodes in order of id, page by page, with the filters applied", async () => {
    const store = new MemoryStore();
    const nodeIds = ids(12, "n");
    await store.update((tx) =>
      [...nodeIds].reverse().forEach((id, i) =>
        tx.nodes.create(
          Node.fromPartial({
            id,
            description: { hostname: `h${i}` },
            spec: { annotations: { labels: { i: `${i % 2}` } } },
          }),
        ),
      ),
    );
    const seen: string[] = [];
    let pageToken = "";
    do {
      const res = listNodes(store, { filters: undefined, pageSize: 5, pageToken });
      expect(res.nodes.length).toBeLessThanOrEqual(5);
      seen.push(...res.nodes.map((n) => n.id));
      pageToken = res.nextPageToken ?? "";
    } while (pageToken !== "");
    expect(seen).toEqual(nodeIds);

    const labelled = listNodes(store, {
      filters: { names: [], namePrefixes: [], idPrefixes: [], labels: { i: "0" }, roles: [] },
      pageSize: 100,
    });
    expect(labelled.nodes).toHaveLength(6);
    expect(labelled.nextPageToken).toBe("");

    const taskToken = encodePageToken("task", "c1", "n0001");
    expect(failure(() => listNodes(store, { filters: undefined, pageToken: taskToken })).message).toMatch(
      /^page_token: a token of a task list/,
    );
    // Without page fields: all of them, by hostname.
    const legacy = listNodes(store, { filters: undefined });
    expect(legacy.nodes.map((n) => n.description?.hostname)).toEqual(
      [...Array(12).keys()].map((i) => `h${i}`).sort((a, b) => a.localeCompare(b)),
    );
  });
});
