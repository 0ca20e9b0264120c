// A manager's Docker Engine API endpoint, for tests: where it listens (from the manager's log) and
// one raw HTTP request to it, with any method, path, headers and body. With a client certificate
// directory (DIR/ca.pem, cert.pem, key.pem: SHOAL_TLS_DIR once the cluster is mutual TLS) the
// request goes over HTTPS with that certificate, checking the manager as "swarm-manager".
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { checkServerIdentity } from "node:tls";
import { waitUntil } from "./wait.js";

/** The address a manager started with `--docker-api` logged for its Docker API. */
export async function dockerApiAddress(log: string): Promise<string> {
  let addr = "";
  await waitUntil("the Docker API address in the manager's log", async () => {
    const m = /"address":"([^"]+)","msg":"serving the Docker Engine API"/.exec(await readFile(log, "utf8"));
    addr = m?.[1] ?? "";
    return addr !== "";
  });
  return addr;
}

export interface DockerApiRequest {
  readonly method: string;
  /** Path and query, sent as given (not encoded again). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
  /** A client certificate directory: HTTPS with it (default SHOAL_TLS_DIR, if set). */
  readonly certDir?: string | undefined;
}

export interface DockerApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Sends one request to the Docker API at `addr` (HOST:PORT) and reads the whole answer. */
export function dockerApiRequest(addr: string, req: DockerApiRequest): Promise<DockerApiResponse> {
  const colon = addr.lastIndexOf(":");
  const certDir = req.certDir ?? process.env["SHOAL_TLS_DIR"];
  const tls =
    certDir === undefined
      ? undefined
      : {
          ca: readFileSync(join(certDir, "ca.pem")),
          cert: readFileSync(join(certDir, "cert.pem")),
          key: readFileSync(join(certDir, "key.pem")),
          checkServerIdentity: (_host: string, cert: Parameters<typeof checkServerIdentity>[1]) =>
            checkServerIdentity("swarm-manager", cert),
        };
  return new Promise((resolve, reject) => {
    const r = (tls ? httpsRequest : request)(
      {
        ...tls,
        host: addr.slice(0, colon).replace(/^\[|\]$/g, ""),
        port: Number(addr.slice(colon + 1)),
        method: req.method,
        path: req.path,
        // A body goes with its length, as real clients send it (a GET's body would otherwise be unframed).
        headers:
          req.body === undefined
            ? req.headers
            : { "Content-Length": String(Buffer.byteLength(req.body)), ...req.headers },
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    r.on("timeout", () => r.destroy(new Error(`no answer from the Docker API at ${addr} in time`)));
    r.on("error", reject);
    r.end(req.body);
  });
}
