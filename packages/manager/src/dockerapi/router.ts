// A tiny router for the Docker Engine API over Node's http module (no framework: a dozen routes
// with path parameters need nothing more). It strips the optional /vX.Y prefix, sets the headers
// every Docker response carries, and turns errors into Docker's {"message": ...} JSON with the
// status code the CLI expects; ShoalError codes become HTTP codes here and nowhere else.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, InvalidArgumentError, errorMessage, isShoalError, type Logger } from "@shoal/shared";
import { parseJsonBody } from "./json-shape.js";

export const API_VERSION = "1.41";
export const MIN_API_VERSION = "1.24";
/** Request bodies larger than this are refused with 413 (a service spec is a few kilobytes). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How much of a refused body is read and dropped so that its client sees the 413. */
const DISCARD_BUDGET_BYTES = 16 * MAX_BODY_BYTES;
/** A refused body's client that sends nothing for this long gets its 413 without further wait. */
const LINGER_IDLE_MS = 2000;
const VERSION_PREFIX = /^\/v(\d+)\.(\d+)(?=\/)/;

export interface DockerRequest {
  readonly method: string;
  /** The path without its version prefix. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The body parsed as JSON ({} when empty); bad JSON is a 400. */
  json(): Promise<unknown>;
  readonly raw: IncomingMessage;
  readonly res: ServerResponse;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
}

/** A handler's answer: JSON with a status, an empty body, or "streamed" when it wrote the response itself. */
export type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number } | "streamed";

export type Handler = (req: DockerRequest) => Promise<Reply> | Reply;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidArgument]: 400,
  // Docker 20.10 answers a failed precondition (e.g. removing a live node) with 400.
  [ErrorCode.FailedPrecondition]: 400,
  [ErrorCode.ResourceExhausted]: 500,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.AlreadyExists]: 409,
  [ErrorCode.SequenceConflict]: 409,
  [ErrorCode.PermissionDenied]: 403,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.NotLeader]: 503,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.DeadlineExceeded]: 503,
  [ErrorCode.Cancelled]: 499,
  [ErrorCode.DataLoss]: 500,
  [ErrorCode.Internal]: 500,
};

export function setDockerHeaders(res: ServerResponse): void {
  res.setHeader("Api-Version", API_VERSION);
  res.setHeader("Ostype", "linux");
  res.setHeader("Docker-Experimental", "false");
  res.setHeader("Server", "Shoal (linux)");
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // Exactly "application/json": with a charset the CLI prints error bodies raw.
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(private readonly logger: Logger) {}

  /** `pattern` segments: `:name` matches one segment, `*name` one or more (e.g. an image name). */
  on(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const source = pattern.replace(/[:*](\w+)/g, (m, name: string) => {
      names.push(name);
      return m.startsWith("*") ? "(.+)" : "([^/]+)";
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** Serves one HTTP request; never throws. */
  async handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    setDockerHeaders(res);
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    // HEAD is answered as GET without the body.
    const method = raw.method === "HEAD" ? "GET" : (raw.method ?? "GET");
    let path = raw.url ?? "/";
    try {
      const url = requestUrl(path);
      path = url.pathname.replace(VERSION_PREFIX, "");
      const match = this.match(method, path);
      if (!match) {
        sendJson(res, 404, { message: `page not found: ${raw.method} ${url.pathname}` });
        return;
      }
      let body: Promise<unknown> | undefined;
      const req: DockerRequest = {
        method,
        path,
        params: match.params,
        query: url.searchParams,
        json: () => (body ??= readBody(raw).then(parseJsonBody)),
        raw,
        res,
        signal: abort.signal,
      };
      const reply = await match.route.handler(req);
      if (reply === "streamed") return;
      if ("json" in reply) sendJson(res, reply.status, reply.json);
      else {
        res.writeHead(reply.status, { "Content-Length": 0 });
        res.end();
      }
    } catch (err: unknown) {
      const status = err instanceof BodyTooLargeError ? 413 : isShoalError(err) ? STATUS_BY_CODE[err.code] : 500;
      if (status === 413) {
        // Clients send the whole body before they read the answer: closing on unread data would
        // reset the connection and lose the 413. Read the rest (up to a budget), then close.
        await discardBody(raw, DISCARD_BUDGET_BYTES);
        res.setHeader("Connection", "close");
      }
      if (status >= 500) this.logger.warn({ err: errorMessage(err), path, method }, "docker api request failed");
      if (res.headersSent) res.destroy();
      else sendJson(res, status, { message: errorMessage(err) });
    }
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodePathSegment(m[i + 1]!)));
      return { route, params };
    }
    return undefined;
  }
}

/** A request body over MAX_BODY_BYTES: answered 413 Payload Too Large. */
class BodyTooLargeError extends InvalidArgumentError {
  constructor(size: string) {
    super(`${size} is larger than the limit of ${MAX_BODY_BYTES} bytes`, { field: "body" });
  }
}

/** The request target as a URL; malformed (a bad host in "//host/..."), an InvalidArgumentError. */
function requestUrl(target: string): URL {
  try {
    // The origin form ("/path?query") is a path even when it starts with "//".
    return target.startsWith("/") ? new URL(`http://docker${target}`) : new URL(target, "http://docker");
  } catch {
    throw new InvalidArgumentError(`malformed request target ${JSON.stringify(target)}`, { field: "path" });
  }
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidArgumentError(`malformed percent-encoding in ${JSON.stringify(segment)}`, { field: "path" });
  }
}

function readBody(raw: IncomingMessage): Promise<string> {
  // A declared length over the limit is refused before anything is read.
  const declared = Number(raw.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new BodyTooLargeError(`a body of ${declared} bytes`));
  // Read with listeners rather than an async iterator: leaving a `for await` early destroys the
  // request, and with it the connection the 413 is to be sent on.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else settle(() => reject(new BodyTooLargeError("the body")));
    };
    const onEnd = (): void => settle(() => resolve(Buffer.concat(chunks).toString("utf8")));
    const onError = (err: Error): void => settle(() => reject(err));
    const settle = (then: () => void): void => {
      raw.off("data", onData).off("end", onEnd).off("error", onError);
      then();
    };
    raw.on("data", onData).once("end", onEnd).once("error", onError);
  });
}

/**
 * Reads and drops what is left of a refused request body; resolves when the request has ended or
 * failed, when more than `budget` bytes came, or when nothing came for LINGER_IDLE_MS (a client
 * that declared more than it sends). Then the connection is closed, unread data or not.
 */
function discardBody(raw: IncomingMessage, budget: number): Promise<void> {
  if (raw.readableEnded || raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let left = budget;
    const onData = (chunk: Buffer): void => {
      left -= chunk.length;
      if (left < 0) done();
    };
    const done = (): void => {
      raw.off("data", onData).off("end", done).off("error", done).off("close", done).off("timeout", done);
      raw.setTimeout(0);
      resolve();
    };
    raw.on("data", onData).once("end", done).once("error", done).once("close", done);
    // The connection's own idle timeout (not a timer): it restarts with every byte received.
    raw.setTimeout(LINGER_IDLE_MS, done);
    raw.resume();
  });
}
