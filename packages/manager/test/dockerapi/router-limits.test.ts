// The Docker API's HTTP edge under bad input found by the fuzz test (test/e2e/fuzz.test.ts): a
// body over the limit is a 413 (refused on its declared length before it is stored) that reaches a
// client still sending it, and a path with broken percent-encoding is a 400, not a 500.
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@shoal/shared";
import { MAX_BODY_BYTES, Router } from "../../src/dockerapi/router.js";

let server: Server;
let port = 0;

beforeAll(async () => {
  const router = new Router(silentLogger())
    .on("POST", "/echo", async (req) => ({ status: 200, json: await req.json() }))
    .on("GET", "/things/:id", (req) => ({ status: 200, json: { id: req.params["id"] } }));
  server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function send(
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    r.on("error", reject);
    r.end(body);
  });
}

describe("Docker API router limits", () => {
  it("takes a body up to the limit", async () => {
    const body = Buffer.from(JSON.stringify({ a: "x".repeat(1000) }));
    const res = await send("POST", "/echo", body, { "Content-Length": String(body.length) });
    expect(res.status).toBe(200);
  });

  it("refuses a declared length over the limit with 413 before reading the body", async () => {
    const res = await send("POST", "/echo", Buffer.from("{}"), { "Content-Length": String(MAX_BODY_BYTES + 1) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({
      message: `body: a body of ${MAX_BODY_BYTES + 1} bytes is larger than the limit of ${MAX_BODY_BYTES} bytes`,
    });
  });

  it("answers a whole body over the limit with 413 that the sending client reads", async () => {
    // The client sends every byte before it reads the answer, as the docker CLI and SDKs do.
    const body = Buffer.alloc(MAX_BODY_BYTES * 2, 0x20);
    for (let i = 0; i < 3; i++) {
      const res = await send("POST", "/echo", body, { "Content-Length": String(body.length) });
      expect(res.status).toBe(413);
      expect((JSON.parse(res.body) as { message: string }).message).toMatch(/larger than the limit/);
    }
  });

  it("answers a chunked body that grows over the limit with 413 that the client reads", async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = request({ host: "127.0.0.1", port, method: "POST", path: "/echo" }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      });
      r.on("error", reject);
      // Slowly, so that the limit is passed while the client is still sending.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const next = (): void => {
        if (sent > MAX_BODY_BYTES * 1.5) return void r.end();
        sent += chunk.length;
        r.write(chunk, () => setTimeout(next, 1));
      };
      next();
    });
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as { message: string }).message).toMatch(/^body: the body is larger than the limit/);
  });

  it("reads the rest of a refused body before it closes, so a client that sends it all still gets the 413", async () => {
    // A client that writes the whole body, slowly, before it reads anything: had the manager closed
    // the connection with the body unread, its writes would fail (EPIPE, reset) and the 413 be lost.
    const total = MAX_BODY_BYTES * 2;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      const received: Buffer[] = [];
      socket.on("data", (c: Buffer) => received.push(c));
      socket.on("error", reject);
      socket.on("close", () =>
        sent < total
          ? reject(new Error(`the manager closed the connection after ${sent} of ${total} bytes`))
          : resolve(Buffer.concat(received).toString("utf8")),
      );
      socket.write(`POST /echo HTTP/1.1\r\nHost: docker\r\nContent-Length: ${total}\r\n\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const next = (): void => {
        if (sent >= total) return;
        sent += chunk.length;
        socket.write(chunk, (err) => (err ? reject(err) : setTimeout(next, 2)));
      };
      next();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/larger than the limit/);
  });

  it("answers broken percent-encoding in a path parameter with 400", async () => {
    const res = await send("GET", "/things/%E0%A4%A");
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { message: string }).message).toMatch(/^path: malformed percent-encoding/);
    expect((await send("GET", "/things/a%2Fb")).body).toBe(JSON.stringify({ id: "a/b" }));
  });
});
