// Paging of ListTasks and ListNodes, as Kubernetes' list (limit/continue) or etcd's range: a page
// holds matches in order of id after the last id of the previous page, which the page token
// carries.
//
// A walk finds the matches once, at its first page, without copying them (the store's scan), and
// keeps their ids in order (a cursor, in a small bounded cache per store); each page, the first
// too, copies only its own objects, read by id and checked against the filters again. A walk thus
// returns exactly once every object that exists, and matches, throughout it: objects removed or
// changed since the first page are read as they are now (or skipped), objects created since are
// not returned. A token whose cursor is gone (evicted, or the page asked of another manager)
// still works: the token's last id is enough to find the matches after it afresh.
import {
  DEFAULT_LIST_PAGE_SIZE,
  InvalidArgumentError,
  MAX_LIST_PAGE_BYTES,
  MAX_LIST_PAGE_SIZE,
  compareIds,
  newId,
} from "@shoal/shared";

/** What a list request asks for: `size` objects after the id `after` ("" from the start). */
export interface PageSpec {
  readonly size: number;
  readonly after: string;
  /** The cursor of the walk the token belongs to ("" on a first page). */
  readonly cursor: string;
}

/** The object kinds that list in pages; a token names its kind, so one is not fed to another list. */
export type PagedKind = "task" | "node";

interface PagedRequest {
  readonly pageSize?: number | undefined;
  readonly pageToken?: string | undefined;
}

const TOKEN = /^[A-Za-z0-9_-]{1,512}$/;
const CURSOR = /^[0-9a-z]{1,32}$/;
const MAX_ID_LENGTH = 256;
/**
 * Walks whose cursors a store's cache keeps; the least recently used one goes first. A cursor of
 * 100,000 ids holds 0.8 MB (the ids are the stored strings), so at most about 13 MB in all.
 */
export const MAX_CURSORS = 16;

/**
 * The page a request asks for, or undefined for a request with neither page_size nor page_token:
 * a client from before paging, which gets every match in one message as it did then.
 */
export function pageSpec(req: PagedRequest, kind: PagedKind): PageSpec | undefined {
  const token = req.pageToken ?? "";
  if (req.pageSize === undefined && token === "") return undefined;
  const size = req.pageSize ?? 0;
  if (!Number.isInteger(size) || size < 0) {
    throw new InvalidArgumentError(`must be a whole number of at least 0, not ${size}`, { field: "page_size" });
  }
  const { cursor, after } = token === "" ? { cursor: "", after: "" } : parseToken(token, kind);
  return { size: size === 0 ? DEFAULT_LIST_PAGE_SIZE : Math.min(size, MAX_LIST_PAGE_SIZE), after, cursor };
}

/** The token of the page after the one that ends with id `lastId`, in walk `cursor`. */
export function encodePageToken(kind: PagedKind, cursor: string, lastId: string): string {
  return Buffer.from(`${kind}:${cursor}:${lastId}`, "utf8").toString("base64url");
}

/** The cursor and last id a page token carries; INVALID_ARGUMENT for anything we did not give. */
function parseToken(token: string, kind: PagedKind): { cursor: string; after: string } {
  const bad = (why: string): InvalidArgumentError =>
    new InvalidArgumentError(`${why}; pass the next_page_token of the previous page unchanged`, {
      field: "page_token",
    });
  if (!TOKEN.test(token)) throw bad("not a page token");
  const text = Buffer.from(token, "base64url").toString("utf8");
  // Decoding base64url skips what it cannot read: a token that does not encode back was not ours.
  if (Buffer.from(text, "utf8").toString("base64url") !== token) throw bad("not a page token");
  const [tokenKind = "", cursor = "", ...rest] = text.split(":");
  const after = rest.join(":");
  if (tokenKind !== kind && rest.length > 0 && /^[a-z]+$/.test(tokenKind)) throw bad(`a token of a ${tokenKind} list`);
  if (tokenKind !== kind || !CURSOR.test(cursor) || after === "" || after.length > MAX_ID_LENGTH) {
    throw bad("not a page token");
  }
  return { cursor, after };
}

/** The ids of the walks in progress on one store, in order, each after its first page. */
class Cursors {
  private readonly walks = new Map<string, { readonly kind: PagedKind; readonly ids: readonly string[] }>();

  get(kind: PagedKind, cursor: string): readonly string[] | undefined {
    const walk = this.walks.get(cursor);
    if (walk === undefined || walk.kind !== kind) return undefined;
    this.walks.delete(cursor); // most recently used goes last
    this.walks.set(cursor, walk);
    return walk.ids;
  }

  add(kind: PagedKind, ids: readonly string[]): string {
    const cursor = newId();
    this.walks.set(cursor, { kind, ids });
    for (const oldest of this.walks.keys()) {
      if (this.walks.size <= MAX_CURSORS) break;
      this.walks.delete(oldest);
    }
    return cursor;
  }

  end(cursor: string): void {
    this.walks.delete(cursor);
  }
}

const cursorsByStore = new WeakMap<object, Cursors>();

/** How one list reads its objects, within one read transaction. */
export interface PageSource<T> {
  /** Every object that matches the request's filters: the store's own, not copied (scan). */
  matches(): readonly { readonly id: string }[];
  /** The object with this id if it exists and matches the filters now. */
  get(id: string): T | undefined;
  /** Its size on the wire. */
  encodedSize(obj: T): number;
}

/**
 * The page `spec` asks of `store`'s objects: at most `spec.size` after `spec.after` in order of
 * id, ending early once they encode to MAX_LIST_PAGE_BYTES (a page holds at least one object),
 * with the token of the next page ("" after the last). A page may come out empty when every
 * object left in the walk has gone.
 */
export function takePage<T extends { readonly id: string }>(
  store: object,
  kind: PagedKind,
  spec: PageSpec,
  source: PageSource<T>,
): { readonly items: T[]; readonly nextPageToken: string } {
  let cursors = cursorsByStore.get(store);
  if (cursors === undefined) cursorsByStore.set(store, (cursors = new Cursors()));
  const cached = spec.cursor === "" ? undefined : cursors.get(kind, spec.cursor);
  let ids: readonly string[];
  let start: number;
  let cursor = spec.cursor;
  if (cached !== undefined) {
    ids = cached;
    start = firstAfter(ids, spec.after);
  } else {
    const rest: string[] = [];
    for (const m of source.matches()) if (spec.after === "" || compareIds(m.id, spec.after) > 0) rest.push(m.id);
    ids = rest.sort(compareIds);
    start = 0;
    cursor = "";
  }
  const items: T[] = [];
  let bytes = 0;
  let i = start;
  for (; i < ids.length && items.length < spec.size; i++) {
    const obj = source.get(ids[i]!);
    if (obj === undefined) continue;
    bytes += source.encodedSize(obj);
    if (items.length > 0 && bytes > MAX_LIST_PAGE_BYTES) break;
    items.push(obj);
  }
  if (i >= ids.length) {
    if (cursor !== "") cursors.end(cursor);
    return { items, nextPageToken: "" };
  }
  if (cursor === "") cursor = cursors.add(kind, ids);
  // The last id read, taken or skipped: the next page starts after it.
  return { items, nextPageToken: encodePageToken(kind, cursor, ids[i - 1] ?? spec.after) };
}

/** The index of the first id in `ids` (sorted) after `after`. */
function firstAfter(ids: readonly string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(ids[mid]!, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
