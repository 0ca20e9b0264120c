// `docker pull` against a manager pulls the image on every ready node: one manager serving the
// Docker API and two agent hosts, each with its own dockerd. POST /images/create of an image in
// the run's registry streams each host's progress and ends when both have it (checked with
// `docker image inspect` on each host's dockerd); a missing image fails on both, named per host;
// and the stock docker CLI exits 0, or 1 with the error, as it does against Docker. GET
// /images/{name}/json (what docker-py's images.pull calls next) answers the image as the hosts'
// engines have it, or Docker's 404.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./harness/index.js";
import { startAgents } from "./support/agents.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress, dockerApiRequest } from "./support/docker-api.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import type { ShoalProcess } from "./support/shoal-process.js";

const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";

let harness: Harness;
let root = "";
let manager: ShoalProcess | undefined;
const control = new TestControl();
let api = "";

beforeAll(async () => {
  harness = await createHarness({ hosts: ["p1", "p2"] });
  root = await mkdtemp(join(tmpdir(), "shoal-image-pull-"));
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: () => `${harness.gateway}:4790`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  api = await dockerApiAddress(join(root, "m0.log"));
  const token = (await joinTokens(control, m!.addr)).worker;
  await startAgents(harness.hosts, { control, managers: [m!.addr], token });
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"] && root !== "") await rm(root, { recursive: true, force: true });
});

/** The JSON objects of a progress stream. */
function objects(body: string): Record<string, unknown>[] {
  return body
    .split("\r\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function pull(fromImage: string, tag: string): ReturnType<typeof dockerApiRequest> {
  const query = `fromImage=${encodeURIComponent(fromImage)}&tag=${encodeURIComponent(tag)}`;
  return dockerApiRequest(api, {
    method: "POST",
    path: `/v1.41/images/create?${query}`,
    // What the docker CLI sends without credentials: "{}".
    headers: { "X-Registry-Auth": Buffer.from("{}").toString("base64url") },
    certDir: testClientCertDir(),
    timeoutMs: 90_000,
  });
}

function inspectImage(name: string): ReturnType<typeof dockerApiRequest> {
  return dockerApiRequest(api, { method: "GET", path: `/v1.41/images/${name}/json`, certDir: testClientCertDir() });
}

function docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    DOCKER_HOST: `tcp://${api}`,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  };
  return new Promise((resolve) => {
    execFile(DOCKER, args, { timeout: 90_000, env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("docker pull against a manager", () => {
  it("pulls the image on every ready node, streaming each node's progress", async () => {
    const image = await harness.pushImage("shoal-base:1", "shoal-pull:1");
    const repo = image.slice(0, image.lastIndexOf(":"));
    for (const host of harness.hosts) {
      expect((await host.docker(["image", "inspect", image], { check: false })).exitCode).not.toBe(0);
    }
    const res = await pull(repo, "1");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const lines = objects(res.body);
    expect(lines[0]).toEqual({ status: `Pulling ${image} on 2 nodes: p1, p2` });
    for (const host of ["p1", "p2"]) {
      expect(lines).toContainEqual({ status: `${host}: Status: Downloaded newer image for ${image}` });
      expect(lines.some((l) => String(l["status"]).startsWith(`${host}: Digest: sha256:`))).toBe(true);
    }
    expect(lines.slice(-2)).toEqual([
      { status: `Pulled ${image} on 2 of 2 nodes` },
      { status: `Status: Downloaded newer image for ${image}` },
    ]);
    expect(lines.some((l) => "error" in l)).toBe(false);
    for (const host of harness.hosts) {
      const inspect = await host.docker(["image", "inspect", "--format", "{{index .RepoTags 0}}", image]);
      expect(inspect.stdout.trim()).toBe(image);
    }
    // What docker-py's images.pull does next: inspect the image, answered as the hosts' engines have it.
    const inspected = await inspectImage(image);
    expect(inspected.status).toBe(200);
    const body = JSON.parse(inspected.body) as Record<string, unknown>;
    const id = await harness.hosts[0]!.docker(["image", "inspect", "--format", "{{.Id}}", image]);
    expect(body["Id"]).toBe(id.stdout.trim());
    expect(body["RepoTags"]).toContain(image);
  });

  it("answers Docker's 404 for an image no node has", async () => {
    const name = `${harness.registry}/shoal-never-pulled:1`;
    const res = await inspectImage(name);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ message: `No such image: ${name}` });
  });

  it("reports a missing image as failed on every node, and ends with Docker's error", async () => {
    const repo = `${harness.registry}/shoal-nosuch`;
    const res = await pull(repo, "1");
    expect(res.status).toBe(200);
    const lines = objects(res.body);
    for (const host of ["p1", "p2"]) {
      expect(lines.some((l) => String(l["status"]).startsWith(`${host}: failed: pulling image ${repo}:1: `))).toBe(
        true,
      );
    }
    const last = lines.at(-1)!;
    expect(String(last["error"])).toMatch(new RegExp(`^pull of ${repo}:1 failed on 2 of 2 nodes: p1: .*; p2: `));
    expect(last["errorDetail"]).toEqual({ message: last["error"] });
  });

  it("refuses an import with a 400 naming fromSrc", async () => {
    const res = await dockerApiRequest(api, {
      method: "POST",
      path: "/v1.41/images/create?fromSrc=-&repo=x",
      certDir: testClientCertDir(),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      message: "fromSrc: importing an image is not supported: Shoal pulls images from a registry",
    });
  });

  it("serves the stock docker CLI: exit 0 with every node's lines, exit 1 with the error", async () => {
    const image = await harness.pushImage("shoal-base:1", "shoal-pull:2");
    const ok = await docker(["pull", image]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`Pulling ${image} on 2 nodes: p1, p2`);
    expect(ok.stdout).toContain(`p1: Status: Downloaded newer image for ${image}`);
    expect(ok.stdout).toContain(`p2: Status: Downloaded newer image for ${image}`);
    for (const host of harness.hosts) {
      expect((await host.docker(["image", "inspect", image], { check: false })).exitCode).toBe(0);
    }
    const missing = await docker(["pull", `${harness.registry}/shoal-nosuch:2`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`pull of ${harness.registry}/shoal-nosuch:2 failed on 2 of 2 nodes`);
  });
});
