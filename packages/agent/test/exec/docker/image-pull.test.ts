// Pulling through dockerode against a stand-in daemon (plain HTTP on the loopback): the request
// Docker gets (fromImage, tag, platform, X-Registry-Auth), the progress lines handed on, and the
// ways a pull fails (an error line in a 200 stream, an HTTP error); and an inspect, as Docker sent it.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryAuth, silentLogger } from "@shoal/shared";
import { DockerExecutor, ImagePullError, type PullProgress } from "@shoal/agent";
import { dockerAuthConfig, progressLine } from "../../../src/exec/docker/image-pull.js";

interface Seen {
  readonly url: URL;
  readonly auth: unknown;
}

let server: Server;
let executor: DockerExecutor;
const seen: Seen[] = [];
/** What the stand-in answers to POST /images/create, by image (fromImage). */
const answers = new Map<string, { status: number; lines: unknown[] }>();
/** What the stand-in answers to GET /images/{name}/json, by name. */
const images = new Map<string, unknown>([["app:1", { Id: "sha256:a1", RepoTags: ["app:1"], Config: { Env: [] } }]]);

function authOf(req: IncomingMessage): unknown {
  const header = req.headers["x-registry-auth"];
  return typeof header === "string" ? JSON.parse(Buffer.from(header, "base64url").toString("utf8")) : undefined;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://docker");
    const inspect = /^(?:\/v[\d.]+)?\/images\/(.+)\/json$/.exec(url.pathname);
    if (req.method === "GET" && inspect !== null) {
      const image = images.get(decodeURIComponent(inspect[1]!));
      res.writeHead(image === undefined ? 404 : 200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(image ?? { message: `No such image: ${inspect[1]}` }));
      return;
    }
    seen.push({ url, auth: authOf(req) });
    const answer = answers.get(url.searchParams.get("fromImage") ?? "") ?? { status: 200, lines: [] };
    if (answer.status !== 200) {
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: "pull access denied for nosuch, repository does not exist" }));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    for (const line of answer.lines) res.write(`${JSON.stringify(line)}\r\n`);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  executor = new DockerExecutor({ logger: silentLogger(), host: `tcp://127.0.0.1:${port}` });
});

afterAll(async () => {
  await executor.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("pulling an image through Docker", () => {
  it("asks for the image's tag with the credentials and platform given, and hands on each line", async () => {
    answers.set("registry:5000/app", {
      status: 200,
      lines: [
        { status: "Pulling from app", id: "1.2" },
        {
          status: "Downloading",
          id: "abc",
          progress: "[=>  ] 1kB/4kB",
          progressDetail: { current: 1024, total: 4096 },
        },
        { status: "Digest: sha256:0123" },
        { status: "Status: Downloaded newer image for registry:5000/app:1.2" },
      ],
    });
    const lines: PullProgress[] = [];
    seen.length = 0;
    await executor.pull("registry:5000/app:1.2", {
      auth: RegistryAuth.fromPartial({ username: "u", password: "p", serverAddress: "registry:5000" }),
      platform: "linux/arm64",
      onProgress: (line) => lines.push(line),
    });
    expect(seen).toHaveLength(1);
    const { url, auth } = seen[0]!;
    expect(url.pathname).toMatch(/\/images\/create$/);
    expect(url.searchParams.get("fromImage")).toBe("registry:5000/app");
    expect(url.searchParams.get("tag")).toBe("1.2");
    expect(url.searchParams.get("platform")).toBe("linux/arm64");
    expect(auth).toEqual({ username: "u", password: "p", serveraddress: "registry:5000" });
    expect(lines).toEqual([
      { status: "Pulling from app", id: "1.2", progress: "", current: 0, total: 0 },
      { status: "Downloading", id: "abc", progress: "[=>  ] 1kB/4kB", current: 1024, total: 4096 },
      { status: "Digest: sha256:0123", id: "", progress: "", current: 0, total: 0 },
      {
        status: "Status: Downloaded newer image for registry:5000/app:1.2",
        id: "",
        progress: "",
        current: 0,
        total: 0,
      },
    ]);
  });

  it("sends no credentials when none are given, and pulls by digest", async () => {
    seen.length = 0;
    const digest = `sha256:${"a".repeat(64)}`;
    await executor.pull(`busybox@${digest}`);
    expect(seen[0]!.auth).toBeUndefined();
    expect(seen[0]!.url.searchParams.get("fromImage")).toBe("busybox");
    expect(seen[0]!.url.searchParams.get("tag")).toBe(digest);
    expect(seen[0]!.url.searchParams.has("platform")).toBe(false);
  });

  it("fails with Docker's message from an error line of a 200 stream", async () => {
    answers.set("broken", {
      status: 200,
      lines: [
        { status: "Pulling from library/broken", id: "latest" },
        { errorDetail: { message: "manifest for broken:latest not found" }, error: "manifest unknown" },
      ],
    });
    const err = await executor.pull("broken:latest").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as ImagePullError).message).toBe("pulling image broken:latest: manifest for broken:latest not found");
  });

  it("fails with the daemon's message on an HTTP error", async () => {
    answers.set("nosuch", { status: 404, lines: [] });
    const err = await executor.pull("nosuch:1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as ImagePullError).message).toContain("pull access denied for nosuch");
  });
});

describe("dockerAuthConfig and progressLine", () => {
  it("keeps only the credentials that are set, under Docker's names", () => {
    expect(dockerAuthConfig(RegistryAuth.fromPartial({ identityToken: "tok", serverAddress: "r.io" }))).toEqual({
      identitytoken: "tok",
      serveraddress: "r.io",
    });
    expect(dockerAuthConfig(RegistryAuth.fromPartial({ registryToken: "bearer" }))).toEqual({
      registrytoken: "bearer",
    });
  });

  it("reads a progress object defensively", () => {
    expect(progressLine({ id: "x" })).toBeUndefined();
    expect(progressLine({ status: "Extracting", id: 3, progressDetail: { current: -1, total: 2.5 } })).toEqual({
      status: "Extracting",
      id: "",
      progress: "",
      current: 0,
      total: 2,
    });
  });
});

describe("inspecting an image through Docker", () => {
  it("gives the daemon's object as it is, and undefined for no such image", async () => {
    expect(await executor.inspectImage("app:1")).toEqual({ Id: "sha256:a1", RepoTags: ["app:1"], Config: { Env: [] } });
    expect(await executor.inspectImage("nosuch:1")).toBeUndefined();
  });
});
