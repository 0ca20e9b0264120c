// Paging of ListTasks and ListNodes, as Kubernetes' list (limit/continue) or etcd's range: a page
// holds the matches in order of id after the last id of the previous page, which the page token
// carries. The token holds no snapshot: each page reads the store as it is then, so a walk
// returns exactly once every object that exists (and matches) throughout it; one created or
// removed during the walk may or may not appear. That keeps the manager stateless between pages
// (no cursor to expire or to hold memory) at the price of no single point-in-time view, which a
// client wanting one gets from a watch instead.
import {
  DEFAULT_LIST_PAGE_SIZE,
  InvalidArgumentError,
  MAX_LIST_PAGE_BYTES,
  MAX_LIST_PAGE_SIZE,
  compareIds,
} from "@shoal/shared";

/** What a list request asks for: `size` objects after the id `after` ("" from the start). */
export interface PageSpec {
  readonly size: number;
  readonly after: string;
}

/** The object kinds that list in pages; a token names its kind, so one is not fed to another list. */
export type PagedKind = "task" | "node";

interface PagedRequest {
  readonly pageSize?: number | undefined;
  readonly pageToken?: string | undefined;
}

const TOKEN = /^[A-Za-z0-9_-]{1,512}$/;
const MAX_ID_LENGTH = 256;

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
  return {
    size: size === 0 ? DEFAULT_LIST_PAGE_SIZE : Math.min(size, MAX_LIST_PAGE_SIZE),
    after: token === "" ? "" : tokenId(token, kind),
  };
}

/** The token of the page after the one that ends with id `lastId`. */
export function encodePageToken(kind: PagedKind, lastId: string): string {
  return Buffer.from(`${kind}:${lastId}`, "utf8").toString("base64url");
}

/** The id a page token carries; INVALID_ARGUMENT for anything next_page_token did not give. */
function tokenId(token: string, kind: PagedKind): string {
  const bad = (why: string): InvalidArgumentError =>
    new InvalidArgumentError(`${why}; pass the next_page_token of the previous page unchanged`, {
      field: "page_token",
    });
  if (!TOKEN.test(token)) throw bad("not a page token");
  const text = Buffer.from(token, "base64url").toString("utf8");
  // Decoding base64url skips what it cannot read: a token that does not encode back was not ours.
  if (Buffer.from(text, "utf8").toString("base64url") !== token) throw bad("not a page token");
  const colon = text.indexOf(":");
  const tokenKind = colon < 0 ? "" : text.slice(0, colon);
  if (tokenKind !== kind) throw bad(tokenKind === "" ? "not a page token" : `a token of a ${tokenKind} list`);
  const id = text.slice(colon + 1);
  if (id === "" || id.length > MAX_ID_LENGTH) throw bad("not a page token");
  return id;
}

/**
 * The page of `matches` (in any order) that `spec` asks for: at most `spec.size` objects after
 * `spec.after` in order of id, ending early once they encode (`encodedSize`) to
 * MAX_LIST_PAGE_BYTES, with the token of the next page ("" after the last).
 */
export function takePage<T extends { readonly id: string }>(
  kind: PagedKind,
  matches: readonly T[],
  spec: PageSpec,
  encodedSize: (obj: T) => number,
): { readonly items: T[]; readonly nextPageToken: string } {
  const rest = spec.after === "" ? [...matches] : matches.filter((m) => compareIds(m.id, spec.after) > 0);
  rest.sort((a, b) => compareIds(a.id, b.id));
  const items: T[] = [];
  let bytes = 0;
  for (const obj of rest) {
    if (items.length === spec.size) break;
    bytes += encodedSize(obj);
    if (items.length > 0 && bytes > MAX_LIST_PAGE_BYTES) break;
    items.push(obj);
  }
  const last = items[items.length - 1];
  return { items, nextPageToken: items.length < rest.length && last ? encodePageToken(kind, last.id) : "" };
}
