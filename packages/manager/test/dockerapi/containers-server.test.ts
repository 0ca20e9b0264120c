// The container and exec endpoints over HTTPS with client certificates, against a Containers
// service in memory: who may exec, the exec's life (create, resize before start, the hijacked
// stream with stdin and its half-close, the exit code in /exec/{id}/json), and errors as Docker's.
import { request as httpsRequest } from "node:https";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LogMessage,
  LogStream,
  ManualClock,
  Node,
  Task,
  TaskState,
  TlsMaterial,
  pki,
  silentLogger,
  type SubscribeLogsRequest,
  type TlsFiles,
} from "@shoal/shared";
import type { ControlCaller } from "../../src/dockerapi/control-calls.js";
import { DockerApiServer } from "../../src/dockerapi/docker-api-server.js";
import { FakeContainerCalls } from "./fake-container-calls.js";

const CLUSTER = "c1u5ter0000000000000000001";
const calls = new FakeContainerCalls();
const subscriptions: SubscribeLogsRequest[] = [];
let server: DockerApiServer;
let port = 0;
let admin: TlsFiles;
let manager: TlsFiles;

async function issue(ca: pki.CertificateAuthority, nodeId: string, role: pki.CertRole): Promise<TlsFiles> {
  const { keyPem, csrPem } = await pki.createKeyAndCsr();
  const { certChainPem } = await ca.issue(csrPem, {
    nodeId,
    role,
    clusterId: CLUSTER,
    now: Date.now(),
    hosts: ["127.0.0.1"],
  });
  return { caPem: ca.certPem, certChainPem, keyPem };
}

const tasks = [
  Task.fromPartial({
    id: "t1",
    serviceId: "s1",
    slot: 1,
    nodeId: "n2",
    serviceAnnotations: { name: "web" },
    spec: { container: { image: "busybox" } },
    status: { state: TaskState.RUNNING, containerStatus: { containerId: "c".repeat(64) } },
  }),
];

const control: ControlCaller = {
  call: (async (method: string) => {
    if (method === "listTasks") return { tasks };
    if (method === "listNodes") return { nodes: [Node.fromPartial({ id: "n2", description: { hostname: "h2" } })] };
    return {};
  }) as ControlCaller["call"],
};

beforeAll(async () => {
  const ca = await pki.CertificateAuthority.create({ clusterId: CLUSTER, now: Date.now() });
  manager = await issue(ca, "m1", "manager");
  admin = await issue(ca, "alice", "client");
  server = new DockerApiServer({
    listen: "127.0.0.1:0",
    managerAddr: "127.0.0.1:1",
    nodeId: "m1",
    advertise: "127.0.0.1",
    material: new TlsMaterial(manager),
    clock: new ManualClock(Date.parse("2026-12-07T12:00:00Z")),
    logger: silentLogger(),
    control,
    logs: {
      subscribe: async function* (request) {
        subscriptions.push(request);
        yield [LogMessage.fromPartial({ data: Buffer.from("a line\n"), stream: LogStream.STDOUT })];
      },
    },
    containers: calls,
  });
  await server.start();
  port = Number(server.address.split(":")[1]);
});

afterAll(async () => {
  await server.stop();
});

function call(
  method: string,
  path: string,
  body?: unknown,
  files: TlsFiles = admin,
): Promise<{ status: number; json: unknown; text: string }> {
  const text = body === undefined ? "" : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        ca: files.caPem,
        cert: files.certChainPem,
        key: files.keyPem,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (data += chunk));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(data.split("\n")[0]!);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text: data });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

/** A hijacked POST as the docker CLI sends it: the answer's head, then the socket. */
async function hijack(path: string, body: unknown): Promise<{ head: string; socket: TLSSocket; rest: Buffer }> {
  const socket = connect({ host: "127.0.0.1", port, ca: admin.caPem, cert: admin.certChainPem, key: admin.keyPem });
  await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  const text = JSON.stringify(body);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
  let got = Buffer.alloc(0);
  for (;;) {
    const chunk = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
    got = Buffer.concat([got, chunk]);
    const end = got.indexOf("\r\n\r\n");
    if (end >= 0) {
      socket.pause();
      return { head: got.subarray(0, end).toString(), socket, rest: got.subarray(end + 4) };
    }
  }
}

/** Everything the socket still sends, until the server ends it. */
function readAll(socket: TLSSocket, rest: Buffer): Promise<Buffer> {
  const chunks = [rest];
  return new Promise((resolve) => {
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("end", () => resolve(Buffer.concat(chunks)));
    socket.resume();
  });
}

/** Docker's multiplexed frames as [stream, text] pairs. */
function frames(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  for (let i = 0; i + 8 <= buf.length;) {
    const len = buf.readUInt32BE(i + 4);
    out.push([buf[i]!, buf.subarray(i + 8, i + 8 + len).toString()]);
    i += 8 + len;
  }
  return out;
}

describe("container endpoints", () => {
  it("lists task containers with the node's id and hostname", async () => {
    const res = await call("GET", "/v1.41/containers/json");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject([
      {
        Id: "c".repeat(64),
        Names: ["/web.1.t1"],
        Labels: { "com.docker.swarm.node.id": "n2", "com.shoal.node.hostname": "h2" },
      },
    ]);
  });

  it("answers inspect, top and stats from the node, and 404 as Docker for an unknown container", async () => {
    expect((await call("GET", "/v1.41/containers/web.1/json")).json).toMatchObject({ Name: "/web.1.t1" });
    expect((await call("GET", "/v1.41/containers/web.1/top?ps_args=aux")).json).toMatchObject({
      Titles: ["PID", "CMD"],
    });
    expect(calls.calls.at(-1)!.open.top).toEqual({ psArgs: "aux" });
    const one = await call("GET", "/v1.41/containers/web.1/stats?stream=0");
    expect(one.json).toMatchObject({ read: "sample 0" });
    const streamed = await call("GET", "/v1.41/containers/web.1/stats");
    expect(streamed.text).toBe(
      `${JSON.stringify({ id: "c".repeat(64), read: "sample 0" })}\n${JSON.stringify({ id: "c".repeat(64), read: "sample 1" })}\n`,
    );
    const missing = await call("GET", "/v1.41/containers/nope/json");
    expect(missing).toMatchObject({ status: 404, json: { message: "No such container: nope" } });
  });

  it("reads logs of the container's task from the log broker, and 404 as Docker for an unknown one", async () => {
    const res = await call("GET", "/v1.41/containers/web.1/logs?stdout=1&follow=1&tail=5");
    expect(res.status).toBe(200);
    expect(frames(Buffer.from(res.text))).toEqual([[1, "a line\n"]]);
    expect(subscriptions.at(-1)).toMatchObject({
      selector: { serviceIds: [], taskIds: ["t1"] },
      options: { follow: true, tail: 5, stdout: true, stderr: false },
    });
    const missing = await call("GET", "/v1.41/containers/nope/logs?stdout=1");
    expect(missing).toMatchObject({ status: 404, json: { message: "No such container: nope" } });
  });
});

describe("attach", () => {
  it("attaches over the hijacked connection, resizes it, and waits for the container's exit", async () => {
    const { head, socket, rest } = await hijack("/v1.41/containers/web.1/attach?stream=1&stdin=1&stdout=1", {});
    expect(head).toMatch(/^HTTP\/1.1 101 UPGRADED\r\n/);
    const output = readAll(socket, rest);
    expect((await call("POST", "/v1.41/containers/web.1/resize?h=20&w=80")).status).toBe(200);
    socket.end("typed");
    expect(frames(await output)).toEqual([[1, "typed"]]);
    const attach = calls.calls.find((c) => c.open.attach?.stdin)!;
    expect(attach.open).toMatchObject({
      caller: "alice",
      attach: { stdin: true, stdout: true, stderr: false, stream: true },
    });
    expect(attach.input.map((i) => i.$case)).toEqual(["resize", "stdin", "closeStdin"]);
    expect(await call("POST", "/v1.41/containers/web.1/wait")).toMatchObject({
      status: 200,
      json: { StatusCode: 7, Error: null },
    });
  });

  it("refuses a manager certificate before the upgrade", async () => {
    expect((await call("POST", "/v1.41/containers/web.1/wait", undefined, manager)).status).toBe(403);
  });
});

describe("exec", () => {
  it("refuses a manager certificate with 403, and a command-less exec with 400", async () => {
    const res = await call("POST", "/v1.41/containers/web.1/exec", { Cmd: ["true"] }, manager);
    expect(res).toMatchObject({ status: 403, json: { message: "exec and attach need an admin client certificate" } });
    expect((await call("POST", "/v1.41/containers/web.1/exec", { Cmd: [] })).status).toBe(400);
    expect((await call("POST", "/v1.41/containers/nope/exec", { Cmd: ["true"] })).json).toEqual({
      message: "No such container: nope",
    });
  });

  it("runs an exec over the hijacked connection: stdin in, output framed, half-close, exit code", async () => {
    const created = await call("POST", "/v1.41/containers/web.1/exec", {
      Cmd: ["cat"],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    expect(created.status).toBe(201);
    const id = (created.json as { Id: string }).Id;
    // The CLI may resize before the call is open: the size goes with the open.
    expect((await call("POST", `/v1.41/exec/${id}/resize?h=30&w=100`)).status).toBe(200);
    const { head, socket, rest } = await hijack(`/v1.41/exec/${id}/start`, { Detach: false, Tty: false });
    expect(head).toMatch(/^HTTP\/1.1 101 UPGRADED\r\n/);
    const output = readAll(socket, rest);
    socket.write("hello\n");
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.end();
    expect(frames(await output)).toEqual([[1, "hello\n"]]);
    const exec = calls.calls.at(-1)!;
    expect(exec.open).toMatchObject({
      container: "c".repeat(64),
      caller: "alice",
      size: { height: 30, width: 100 },
      exec: { cmd: ["cat"], attachStdin: true },
    });
    expect(exec.input.map((i) => i.$case)).toEqual(["stdin", "closeStdin"]);
    const inspected = await call("GET", `/v1.41/exec/${id}/json`);
    expect(inspected.json).toMatchObject({ ID: id, Running: false, ExitCode: 7, ContainerID: "c".repeat(64) });
    // An exec runs once.
    const again = await hijack(`/v1.41/exec/${id}/start`, { Detach: false });
    expect(again.head).toMatch(/^HTTP\/1.1 409 /);
    again.socket.destroy();
  });

  it("streams a TTY exec raw, and refuses a detached start with 400", async () => {
    const created = await call("POST", "/v1.41/containers/web.1/exec", { Cmd: ["sh"], AttachStdin: true, Tty: true });
    const id = (created.json as { Id: string }).Id;
    const detached = await hijack(`/v1.41/exec/${id}/start`, { Detach: true });
    expect(detached.head).toMatch(/^HTTP\/1.1 400 /);
    detached.socket.destroy();
    const { socket, rest } = await hijack(`/v1.41/exec/${id}/start`, { Detach: false, Tty: true });
    const output = readAll(socket, rest);
    socket.end("echo hi\r");
    expect((await output).toString()).toBe("echo hi\r");
  });

  it("answers 404 for an unknown exec", async () => {
    expect(await call("GET", "/v1.41/exec/unknown/json")).toMatchObject({
      status: 404,
      json: { message: "No such exec instance: unknown" },
    });
  });
});

describe("stop", () => {
  it("ends the hijacked connections too, and their calls", async () => {
    const created = await call("POST", "/v1.41/containers/web.1/exec", { Cmd: ["cat"], AttachStdin: true });
    const { socket, rest } = await hijack(`/v1.41/exec/${(created.json as { Id: string }).Id}/start`, {});
    const closed = new Promise((resolve) => socket.once("close", resolve));
    void readAll(socket, rest);
    await server.stop();
    await closed;
    expect(calls.calls.at(-1)!.cancelled).toBe(true);
  });
});
