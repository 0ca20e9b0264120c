// The page's routes live in the URL's hash (#/nodes, #/services/ID, ...): the server serves one page.
import { signal } from "@preact/signals";

export type Route =
  | { readonly page: "nodes" }
  | { readonly page: "node"; readonly id: string }
  | { readonly page: "services" }
  | { readonly page: "service"; readonly id: string; readonly task?: string }
  | { readonly page: "events" };

export function parseRoute(hash: string): Route {
  const [page, id, task] = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (page === "services") {
    if (!id) return { page: "services" };
    return task ? { page: "service", id, task } : { page: "service", id };
  }
  if (page === "events") return { page: "events" };
  return id && page === "nodes" ? { page: "node", id } : { page: "nodes" };
}

export const route = signal<Route>(parseRoute(location.hash));
addEventListener("hashchange", () => (route.value = parseRoute(location.hash)));

export function go(path: string): void {
  location.hash = `#/${path}`;
}
