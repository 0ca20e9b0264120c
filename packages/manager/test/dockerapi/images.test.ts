// POST /images/create over HTTP with a stand-in for the Control API's PullImage: the request it
// makes of the parameters and the X-Registry-Auth header, the progress JSON it streams, and the
// 400s naming what Shoal cannot honour.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ErrorCode,
  ManualClock,
  ShoalError,
  silentLogger,
  type PullImageRequest,
  type PullImageResponse,
} from "@shoal/shared";
import { dockerRoutes } from "../../src/dockerapi/docker-api-server.js";
import type { ControlCaller, ImagePullCaller } from "../../src/dockerapi/control-calls.js";
import { pullReference, registryAuth } from "../../src/dockerapi/images.js";

const node = { nodeId: "n1", hostname: "a" };
const requests: PullImageRequest[] = [];
/** What the stand-in streams next: messages, then an error if set. */
let script: { messages: PullImageResponse[]; error?: ShoalError } = { messages: [] };

const images: ImagePullCaller = {
  async *pullImage(request) {
    requests.push(request);
    await Promise.resolve();
    yield* script.messages;
    if (script.error) throw script.error;
  },
};

let server: Server;
let base = "";

beforeAll(async () => {
  const control = { call: () => Promise.reject(new Error("not used")) } as unknown as ControlCaller;
  const logs = { subscribe: async function* () {} };
  const router = dockerRoutes(
    { control, logs, images, nodeId: "m1", advertise: "", clock: new ManualClock(0), logger: silentLogger() },
    silentLogger(),
  );
  server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests.length = 0;
  script = { messages: [] };
});

const msg = (m: Partial<PullImageResponse>): PullImageResponse => ({
  nodes: [],
  node: undefined,
  lines: [],
  done: false,
  error: "",
  ...m,
});

async function create(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/v1.41/images/create?${query}`, { method: "POST", headers });
}

/** The JSON objects of a progress stream. */
async function objects(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  expect(text.endsWith("\r\n")).toBe(true);
  return text
    .split("\r\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("POST /images/create", () => {
  it("pulls fromImage:tag on the cluster and streams each node's progress as Docker's JSON", async () => {
    script.messages = [
      msg({ nodes: [node] }),
      msg({ node, lines: [{ status: "Pulling from app", id: "1", progress: "", current: 0, total: 0 }] }),
      msg({
        node,
        lines: [{ status: "Status: Downloaded newer image for app:1", id: "", progress: "", current: 0, total: 0 }],
        done: true,
      }),
    ];
    const auth = Buffer.from(JSON.stringify({ username: "u", password: "p", serveraddress: "r:5000" })).toString(
      "base64url",
    );
    const res = await create("fromImage=r%3A5000%2Fapp&tag=1&platform=linux%2Famd64", { "X-Registry-Auth": auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await objects(res)).toEqual([
      { status: "Pulling r:5000/app:1 on 1 node: a" },
      { status: "Pulling from app", id: "a: 1" },
      { status: "a: Status: Downloaded newer image for app:1" },
      { status: "Pulled r:5000/app:1 on 1 of 1 nodes" },
      { status: "Status: Downloaded newer image for r:5000/app:1" },
    ]);
    expect(requests).toEqual([
      {
        image: "r:5000/app:1",
        auth: { username: "u", password: "p", serverAddress: "r:5000", identityToken: "", registryToken: "" },
        platform: "linux/amd64",
        timeout: undefined,
      },
    ]);
  });

  it("ends with Docker's error object when a node failed, after every node's outcome", async () => {
    const b = { nodeId: "n2", hostname: "b" };
    script.messages = [
      msg({ nodes: [node, b] }),
      msg({ node, done: true, error: "pulling image app:1: manifest unknown" }),
      msg({ node: b, done: true }),
    ];
    const got = await objects(await create("fromImage=app&tag=1"));
    const message = "pull of app:1 failed on 1 of 2 nodes: a: pulling image app:1: manifest unknown";
    expect(got.slice(1)).toEqual([
      { status: "a: failed: pulling image app:1: manifest unknown" },
      { errorDetail: { message }, error: message },
    ]);
  });

  it("answers a refusal that comes before any progress with its status and message", async () => {
    script.error = new ShoalError(ErrorCode.FailedPrecondition, "no node is ready to pull the image");
    const refused = await create("fromImage=app&tag=1");
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ message: "no node is ready to pull the image" });
    script.error = new ShoalError(ErrorCode.NotLeader, "no leader is known now");
    expect((await create("fromImage=app&tag=1")).status).toBe(503);
    // Once streaming, an error is a line of the stream.
    script = { messages: [msg({ nodes: [node] })], error: new ShoalError(ErrorCode.Unavailable, "leader lost") };
    const got = await objects(await create("fromImage=app&tag=1"));
    expect(got.at(-1)).toMatchObject({ error: "pull of app:1 failed on 1 of 1 nodes: a: no answer; leader lost" });
  });

  it("refuses an import, every tag, and bad references with a 400 naming the parameter", async () => {
    const cases: [string, string][] = [
      ["fromSrc=-&repo=x", "fromSrc: importing an image is not supported: Shoal pulls images from a registry"],
      ["fromImage=app&tag=1&repo=x", "repo: is for importing an image, which Shoal does not support"],
      ["fromImage=app&tag=1&changes=CMD%20x", "changes: is for importing an image, which Shoal does not support"],
      ["tag=1", "fromImage: is required: the image to pull"],
      [
        "fromImage=app",
        "tag: is empty, which asks for every tag of the repository: Shoal pulls one tag or digest, give one",
      ],
      ["fromImage=App%2FX&tag=1", 'fromImage: "App/X" is not a valid image reference'],
      ["fromImage=app&tag=no%20tag", 'tag: "no tag" is not a valid tag or digest'],
    ];
    for (const [query, message] of cases) {
      const res = await create(query);
      expect(res.status, query).toBe(400);
      expect(await res.json(), query).toEqual({ message });
    }
    expect(requests).toEqual([]);
  });
});

describe("pullReference and registryAuth", () => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);
  const digest = `sha256:${"b".repeat(64)}`;

  it("joins fromImage and tag as docker pull sends them", () => {
    expect(pullReference(q("fromImage=busybox&tag=latest"))).toBe("busybox:latest");
    expect(pullReference(q(`fromImage=busybox&tag=${digest}`))).toBe(`busybox@${digest}`);
    expect(pullReference(q("fromImage=localhost:5000/busybox:1&tag=2"))).toBe("localhost:5000/busybox:2");
    expect(pullReference(q("fromImage=localhost:5000/busybox:1"))).toBe("localhost:5000/busybox:1");
    expect(pullReference(q(`fromImage=busybox@${digest}`))).toBe(`busybox@${digest}`);
    expect(() => pullReference(q(`fromImage=busybox@${digest}&tag=1`))).toThrow(/^tag: /);
  });

  it("reads Docker's AuthConfig: the auth field, tokens, and nothing from an empty or unreadable header", () => {
    const encode = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64");
    expect(registryAuth(encode({}))).toBeUndefined();
    expect(registryAuth("%%%")).toBeUndefined();
    expect(registryAuth(undefined)).toBeUndefined();
    expect(registryAuth(encode({ auth: Buffer.from("user:pa:ss").toString("base64") }))).toMatchObject({
      username: "user",
      password: "pa:ss",
    });
    expect(registryAuth(encode({ identitytoken: "tok", serveraddress: "r.io" }))).toEqual({
      username: "",
      password: "",
      serverAddress: "r.io",
      identityToken: "tok",
      registryToken: "",
    });
  });
});
