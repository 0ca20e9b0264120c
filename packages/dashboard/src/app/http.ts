// The page's calls to the dashboard API (docs/dashboard.md): JSON requests, with the CSRF header
// on state-changing ones, and server-sent event streams.
import type { ApiError } from "../api.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("shoal_csrf="));
  return cookie ? decodeURIComponent(cookie.slice("shoal_csrf=".length)) : "";
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrfToken();
  }
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (method !== "GET") init.body = JSON.stringify(body ?? {});
  const response = await fetch(path, init);
  const text = await response.text();
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const error = JSON.parse(text) as ApiError;
      if (error.message) message = error.message;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new HttpError(response.status, message);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

export const api = {
  get: <T>(path: string): Promise<T> => request<T>("GET", path),
  post: (path: string, body: unknown): Promise<unknown> => request("POST", path, body),
  delete: (path: string): Promise<unknown> => request("DELETE", path, {}),
};

/**
 * Opens a server-sent event stream and hands each named event's JSON data to its handler. The
 * stream is not reopened by the browser on an error (a reopened logs stream would repeat its
 * tail): onEnd is told, and the caller decides. Returns the function that closes it.
 */
export function openStream(
  path: string,
  handlers: Record<string, (data: never) => void>,
  onEnd: () => void,
): () => void {
  const source = new EventSource(path);
  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => handle(JSON.parse((event as MessageEvent<string>).data) as never));
  }
  source.onerror = () => {
    source.close();
    onEnd();
  };
  return () => source.close();
}

/**
 * Runs fn once in the next animation frame, however often it is asked before then. A hidden tab
 * gets no frames: there it runs every HIDDEN_MS, so that queued changes do not pile up.
 */
export function perFrame(fn: () => void): () => void {
  let scheduled = false;
  const run = (): void => {
    scheduled = false;
    fn();
  };
  return () => {
    if (scheduled) return;
    scheduled = true;
    if (document.hidden) setTimeout(run, HIDDEN_MS);
    else requestAnimationFrame(run);
  };
}

const HIDDEN_MS = 500;
