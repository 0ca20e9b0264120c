// Docker's JSON answers as the daemon sent them (bytes, not re-encoded): inspect and top are one
// document, stats a stream of newline-separated samples.
import type Docker from "dockerode";
import type { Readable } from "node:stream";
import { abortOption } from "../docker-errors.js";

/** The largest JSON document read into memory (an inspect or a top of a busy container is far smaller). */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

interface Modem {
  dial(options: Record<string, unknown>, callback: (err: unknown, res: Readable | null) => void): void;
}

/** A GET whose answer is read as a stream; Docker's errors come as dockerode's (statusCode, json). */
export function dockerGet(
  docker: Docker,
  path: string,
  query: Record<string, string | boolean>,
  signal: AbortSignal,
): Promise<Readable> {
  const modem = docker.modem as unknown as Modem;
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: `${path}?`,
        method: "GET",
        options: query,
        isStream: true,
        statusCodes: { 200: true, 404: "no such container", 409: "conflict", 500: "server error" },
        ...abortOption(signal),
      },
      (err, res) => (err || !res ? reject(err ?? new Error(`GET ${path}: no answer`)) : resolve(res)),
    );
  });
}

/** The whole body of a GET: one JSON document. */
export async function dockerDocument(
  docker: Docker,
  path: string,
  query: Record<string, string | boolean>,
  signal: AbortSignal,
): Promise<Buffer> {
  const res = await dockerGet(docker, path, query, signal);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DOCUMENT_BYTES) {
      res.destroy();
      throw new Error(`GET ${path}: the answer is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return trimNewline(Buffer.concat(chunks) as Buffer);
}

/** The lines of a streamed answer (stats), each without its newline; ends with the answer. */
export async function* dockerLines(res: Readable): AsyncIterable<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of res as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a)) {
      const line = pending.subarray(0, nl);
      pending = pending.subarray(nl + 1);
      if (line.length > 0) yield line;
    }
    if (pending.length > MAX_DOCUMENT_BYTES) throw new Error("a stats sample is too large");
  }
  if (pending.length > 0) yield pending;
}

function trimNewline(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0a ? b.subarray(0, b.length - 1) : b;
}
