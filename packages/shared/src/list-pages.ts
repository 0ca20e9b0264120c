// Reading the task and node lists of the Control API page by page (ListTasks and ListNodes take
// page_size and page_token and answer with next_page_token, as Kubernetes' list takes limit and
// continue). A page is a few MB at most, so no caller needs an unlimited message size; a walk
// returns once every object that exists throughout it, in order of id.
import { ShoalError, ErrorCode } from "./errors.js";
import type {
  ListNodesRequest,
  ListNodesResponse,
  ListTasksRequest,
  ListTasksResponse,
  NodeFilters,
  TaskFilters,
} from "./gen/shoal/v1/control.js";
import type { Node, Task } from "./gen/shoal/v1/objects.js";

/** The page size the manager uses for a request that asks for none (page_size 0). */
export const DEFAULT_LIST_PAGE_SIZE = 1_000;
/** The largest page the manager gives: a request for more gets this many. */
export const MAX_LIST_PAGE_SIZE = 5_000;
/**
 * A page also ends once its objects encode to this many bytes (a task is typically 300-500 bytes,
 * but a service spec may be MBs), so that it stays under gRPC's 4 MB default receive limit. A page
 * always holds at least one object.
 */
export const MAX_LIST_PAGE_BYTES = 2 * 1024 * 1024;

export interface ListPagesOptions {
  /** Objects asked for per page; default MAX_LIST_PAGE_SIZE (the byte bound keeps pages small). */
  readonly pageSize?: number | undefined;
  /** Stops the walk between pages (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined;
}

/** One ListTasks call, e.g. `(req) => control.call("listTasks", req)`. */
export type ListTasksCall = (req: ListTasksRequest) => Promise<ListTasksResponse>;
/** One ListNodes call, e.g. `(req) => control.call("listNodes", req)`. */
export type ListNodesCall = (req: ListNodesRequest) => Promise<ListNodesResponse>;

/**
 * Yields the pages of a list one at a time. `call` gets page_size and the previous page's token;
 * the walk ends at a page without a next token. A manager from before paging ignores both fields
 * and answers with everything: one page.
 */
async function* pages<T>(
  call: (pageSize: number, pageToken: string) => Promise<{ items: T[]; next: string | undefined }>,
  options: ListPagesOptions,
): AsyncGenerator<T[], void, undefined> {
  const pageSize = options.pageSize ?? MAX_LIST_PAGE_SIZE;
  let token = "";
  for (;;) {
    options.signal?.throwIfAborted();
    const { items, next } = await call(pageSize, token);
    yield items;
    if (next === undefined || next === "") return;
    // A token that does not move would loop forever: a broken server, not a reason to hang.
    if (next === token) throw new ShoalError(ErrorCode.Internal, `the list did not advance past page token ${token}`);
    token = next;
  }
}

/** The pages of ListTasks with these filters, in order of task id. */
export function taskPages(
  call: ListTasksCall,
  filters: TaskFilters | undefined,
  options: ListPagesOptions = {},
): AsyncGenerator<Task[], void, undefined> {
  return pages(async (pageSize, pageToken) => {
    const res = await call({ filters, pageSize, pageToken });
    return { items: res.tasks, next: res.nextPageToken };
  }, options);
}

/** The pages of ListNodes with these filters, in order of node id. */
export function nodePages(
  call: ListNodesCall,
  filters: NodeFilters | undefined,
  options: ListPagesOptions = {},
): AsyncGenerator<Node[], void, undefined> {
  return pages(async (pageSize, pageToken) => {
    const res = await call({ filters, pageSize, pageToken });
    return { items: res.nodes, next: res.nextPageToken };
  }, options);
}

/**
 * Every task that matches `filters`, read page by page, ordered as ListTasks answered before
 * paging (by service, slot, then node), which is the order `service ps` shows.
 */
export async function listAllTasks(
  call: ListTasksCall,
  filters: TaskFilters | undefined,
  options: ListPagesOptions = {},
): Promise<Task[]> {
  const all: Task[] = [];
  for await (const page of taskPages(call, filters, options)) for (const t of page) all.push(t);
  return all.sort(compareTasksBySlot);
}

/** Every node that matches `filters`, read page by page, ordered by hostname (as before paging). */
export async function listAllNodes(
  call: ListNodesCall,
  filters: NodeFilters | undefined,
  options: ListPagesOptions = {},
): Promise<Node[]> {
  const all: Node[] = [];
  for await (const page of nodePages(call, filters, options)) for (const n of page) all.push(n);
  return all.sort(compareNodesByHostname);
}

/**
 * Tasks by service id, slot, then node id: a service's replicas in slot order. A slot's history
 * on one node goes oldest first, as the store's insertion order gave it before paging.
 */
export function compareTasksBySlot(a: Task, b: Task): number {
  return (
    a.serviceId.localeCompare(b.serviceId) ||
    a.slot - b.slot ||
    a.nodeId.localeCompare(b.nodeId) ||
    (a.meta?.createdAt?.getTime() ?? 0) - (b.meta?.createdAt?.getTime() ?? 0) ||
    compareIds(a.id, b.id)
  );
}

/** Ids in code-unit order: the order of pages (cheaper than localeCompare, and the same everywhere). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nodes by hostname. */
export function compareNodesByHostname(a: Node, b: Node): number {
  return (a.description?.hostname ?? "").localeCompare(b.description?.hostname ?? "");
}
