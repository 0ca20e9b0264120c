// Bad input at a live manager, property-based (fast-check): random and malformed requests at the
// Control API (gRPC) and at the Docker Engine API endpoint (HTTP). Each request must be refused
// with a clear error (a status that names what was wrong: INVALID_ARGUMENT, NOT_FOUND, ...; HTTP
// 400/404/409/413 with a message) or be accepted consistently (what was created can be read
// back); the manager must keep running (it answers GetInfo) and a refused request must leave the
// store as it was (services, nodes and the cluster compared before and after). Oversized
// messages are refused by the servers' size limits.
//
// Bounded for CI: a fixed seed and a few hundred cases per property. SHOAL_FUZZ_SEED=N picks
// another seed, SHOAL_FUZZ_RUNS=N another count; a failure prints the seed and the shrunk case.
// SHOAL_FUZZ_TRACE=FILE appends every Control request sent to FILE (to find what a hang followed).
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { appendFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlService, ServiceSpec } from "@shoal/shared";
import { TestControl } from "./support/control-client.js";
import { dockerApiAddress, dockerApiRequest, type DockerApiResponse } from "./support/docker-api.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import {
  WRITES,
  controlCase,
  rawBytes,
  type ControlCase,
  type ControlMethod,
  type KnownIds,
} from "./fuzz/control-requests.js";
import { dockerCase, mayWrite, type DockerCase } from "./fuzz/docker-requests.js";

const SEED = Number(process.env["SHOAL_FUZZ_SEED"] ?? 20_251_129);
const RUNS = Number(process.env["SHOAL_FUZZ_RUNS"] ?? 300);
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

/** The limits the servers are meant to have (packages/manager: control request limit, Docker API body limit). */
const CONTROL_LIMIT_BYTES = 4 * 1024 * 1024;
const DOCKER_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** Statuses that refuse a request with a reason the caller can act on. */
const CLEAR_REFUSALS = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.ABORTED, // a stale version: a sequence conflict
]);
const HTTP_OK = new Set([200, 201, 204]);
const HTTP_REFUSALS = new Set([400, 404, 409, 413]);

/**
 * fc.assert with a short report: the seed, the path to replay, the case cut to a readable length
 * (some hold megabytes), and the failure.
 */
async function check<T>(property: fc.IAsyncProperty<T>): Promise<void> {
  const out = await fc.check(property, params);
  if (!out.failed) return;
  const shown = fc.stringify(out.counterexample).slice(0, 1500);
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    `property failed (seed ${out.seed}, path "${out.counterexamplePath ?? ""}"; rerun with SHOAL_FUZZ_SEED=${out.seed}) after ${out.numRuns} cases\n` +
      `case: ${shown}\nfailure: ${cause.slice(0, 1500)}`,
  );
}

let root = "";
let manager: ClusterManager | undefined;
let addr = "";
let dockerAddr = "";
let ids: KnownIds;
const control = new TestControl();

type Outcome =
  | { readonly ok: true; readonly response: Buffer }
  | { readonly ok: false; readonly code: number; readonly details: string };

/** One Control call with the request's bytes as given, over the support client's connection. */
function rawCall(method: ControlMethod, bytes: Buffer, timeoutMs = 10_000): Promise<Outcome> {
  const client = control.client(addr);
  const identity = (b: Buffer): Buffer => b;
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      ControlService[method].path,
      identity,
      identity,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, res) =>
        resolve(
          err ? { ok: false, code: err.code, details: err.details } : { ok: true, response: res ?? Buffer.alloc(0) },
        ),
    ),
  );
}

/** The request encoded as protobuf, or undefined when protobuf cannot carry one of its values. */
function encode(c: ControlCase): Buffer | undefined {
  try {
    return (ControlService[c.method].requestSerialize as (v: unknown) => Buffer)(c.request);
  } catch {
    return undefined;
  }
}

/** The state a refused request must not change: services, nodes and the cluster. */
async function dump(): Promise<string> {
  const [s, n, c] = await Promise.all([
    control.call(addr, "listServices", { filters: undefined, includeStatus: false }),
    control.call(addr, "listNodes", { filters: undefined }),
    control.call(addr, "getCluster", { clusterId: "" }),
  ]);
  return JSON.stringify({ services: s.services, nodes: n.nodes, cluster: c.cluster });
}

async function alive(): Promise<void> {
  expect(manager!.proc.running, "the manager process is running").toBe(true);
  const info = await control.call(addr, "getInfo", {}, 5000);
  expect(info.isLeader).toBe(true);
}

function describeOutcome(o: Outcome): string {
  return o.ok ? "accepted" : `${grpc.status[o.code]}: ${o.details}`;
}

/** A refusal must be one of the clear statuses and say what was wrong. */
function expectClearRefusal(o: Extract<Outcome, { ok: false }>, what: string): void {
  expect(CLEAR_REFUSALS.has(o.code), `${what} refused with ${describeOutcome(o)}`).toBe(true);
  expect(o.details.trim(), `${what}: the refusal has a message`).not.toBe("");
}

let baseline = "";

/** After a request: a refusal left the state as it was; an accepted write sets a new baseline. */
async function checkState(refused: boolean, write: boolean, what: string): Promise<void> {
  if (!write) return;
  const now = await dump();
  if (refused) expect(now, `${what}: a refused request changed the state`).toBe(baseline);
  baseline = now;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-fuzz-"));
  [manager] = await startManagerCluster({
    count: 1,
    root,
    control,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  addr = manager!.addr;
  dockerAddr = await dockerApiAddress(join(root, "m0.log"));
  const { service } = await control.call(addr, "createService", {
    spec: ServiceSpec.fromPartial({
      annotations: { name: "fuzz-base" },
      taskTemplate: { container: { image: "shoal-base:1" } },
      mode: { $case: "replicated", value: { replicas: 0 } },
    }),
  });
  const info = await control.call(addr, "getInfo", {});
  ids = { serviceId: service!.id, serviceName: "fuzz-base", nodeId: info.nodeId, clusterId: info.clusterId };
  baseline = await dump();
});

afterAll(async () => {
  control.close();
  await manager?.proc.kill("SIGKILL");
  if (process.env["KEEP_TEST_DIRS"] === undefined && root !== "") await rm(root, { recursive: true, force: true });
});

/** Current versions of the known objects, so that some writes get past the version check. */
const versions = {
  service: 0,
  node: 0,
  cluster: 0,
};

async function readVersions(): Promise<void> {
  const [s, n, c] = await Promise.all([
    control.call(addr, "getService", { serviceId: ids.serviceId }).catch(() => undefined),
    control.call(addr, "listNodes", { filters: undefined }),
    control.call(addr, "getCluster", { clusterId: "" }),
  ]);
  versions.service = s?.service?.meta?.version?.index ?? 0;
  versions.node = n.nodes.find((x) => x.id === ids.nodeId)?.meta?.version?.index ?? 0;
  versions.cluster = c.cluster?.meta?.version?.index ?? 0;
}

/** An accepted createService can be read back as sent, and is removed again to keep the store small. */
async function checkCreated(c: ControlCase, response: Buffer): Promise<void> {
  const created = ControlService.createService.responseDeserialize(response).service!;
  const sent = (c.request as { spec: { annotations: { name: string } } }).spec;
  const { service } = await control.call(addr, "getService", { serviceId: created.id });
  expect(service?.spec?.annotations?.name).toBe(sent.annotations.name);
  await control.call(addr, "removeService", { serviceId: created.id });
}

describe("fuzz: the Control API of a live manager", () => {
  it("refuses bad requests with a clear status, keeps running, and leaves the state alone", async () => {
    let skipped = 0;
    await check(
      fc
        .asyncProperty(
          controlCase(ids, {
            service: () => versions.service,
            node: () => versions.node,
            cluster: () => versions.cluster,
          }),
          async (c) => {
            const bytes = encode(c);
            if (bytes === undefined) {
              skipped++;
              return;
            }
            const what = `${c.method} ${JSON.stringify(c.request).slice(0, 300)}`;
            if (process.env["SHOAL_FUZZ_TRACE"])
              appendFileSync(
                process.env["SHOAL_FUZZ_TRACE"],
                `${Date.now()} ${c.method} ${JSON.stringify(c.request)}\n`,
              );
            const outcome = await rawCall(c.method, bytes);
            if (!outcome.ok) expectClearRefusal(outcome, what);
            else if (c.method === "createService") await checkCreated(c, outcome.response);
            await checkState(!outcome.ok, WRITES.has(c.method), what);
            await alive();
            if (outcome.ok && WRITES.has(c.method)) await readVersions();
          },
        )
        .beforeEach(readVersions),
    );
    expect(skipped, "cases protobuf could not carry").toBeLessThan(RUNS / 2);
  });

  it("refuses malformed protobuf (garbage, truncated, bit-flipped, nested groups, uint64 beyond 2^53)", async () => {
    const methods = Object.keys(ControlService).filter((m) =>
      [
        "createService",
        "updateService",
        "updateNode",
        "updateCluster",
        "getService",
        "listServices",
        "listTasks",
        "removeService",
      ].includes(m),
    ) as ControlMethod[];
    await check(
      fc.asyncProperty(
        fc
          .constantFrom(...methods)
          .chain((method) =>
            rawBytes(
              controlCase(ids, { service: () => 0, node: () => 0, cluster: () => 0 }).map(
                (c) => encode({ method, request: c.request }) ?? Buffer.alloc(0),
              ),
            ).map((bytes) => ({ method, bytes })),
          ),
        async ({ method, bytes }) => {
          const what = `${method} with bytes ${bytes.subarray(0, 64).toString("hex")} (${bytes.length} bytes)`;
          const outcome = await rawCall(method, bytes);
          if (!outcome.ok) expectClearRefusal(outcome, what);
          else if (method === "createService") {
            await control.call(addr, "removeService", {
              serviceId: ControlService.createService.responseDeserialize(outcome.response).service!.id,
            });
          }
          await checkState(!outcome.ok, WRITES.has(method), what);
          await alive();
        },
      ),
    );
  });

  it("refuses a request larger than the Control API's limit, and keeps running", async () => {
    const spec = ServiceSpec.fromPartial({
      annotations: { name: "too-big", labels: { big: "x".repeat(CONTROL_LIMIT_BYTES + 1024) } },
      taskTemplate: { container: { image: "shoal-base:1" } },
    });
    const outcome = await rawCall("createService", ControlService.createService.requestSerialize({ spec }), 30_000);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(grpc.status[outcome.code]).toBe("RESOURCE_EXHAUSTED");
      expect(outcome.details).toMatch(/larger than/);
    }
    expect(await dump()).toBe(baseline);
    await alive();
  });
});

async function docker(c: DockerCase): Promise<DockerApiResponse> {
  return dockerApiRequest(dockerAddr, {
    method: c.method,
    path: c.path,
    headers: c.contentType === undefined ? {} : { "Content-Type": c.contentType },
    ...(c.body === undefined ? {} : { body: c.body }),
  });
}

describe("fuzz: the Docker Engine API endpoint of a live manager", () => {
  it("answers every request with a success or a clear 4xx, keeps running, and leaves the state alone", async () => {
    await check(
      fc.asyncProperty(dockerCase(ids), async (c) => {
        const what = `${c.method} ${c.path} (${c.contentType ?? "no content type"}) ${(c.body ?? "").slice(0, 300)}`;
        const res = await docker(c);
        expect(
          HTTP_OK.has(res.status) || HTTP_REFUSALS.has(res.status),
          `${what} answered ${res.status} ${res.body.slice(0, 300)}`,
        ).toBe(true);
        // A method Node's HTTP parser does not know is refused before the router (400, with a message too).
        if (c.method === "FUZZ") expect(res.status, what).toBe(400);
        if (res.status >= 400 && c.method !== "HEAD") {
          const message = (JSON.parse(res.body) as { message?: unknown }).message;
          expect(typeof message === "string" && message.trim() !== "", `${what}: ${res.status} has a message`).toBe(
            true,
          );
        }
        if (res.status === 201 && /\/services\/create/.test(c.path)) {
          const id = (JSON.parse(res.body) as { ID: string }).ID;
          const read = await docker({
            method: "GET",
            path: `/services/${id}`,
            contentType: undefined,
            body: undefined,
          });
          expect(read.status).toBe(200);
          const sent = JSON.parse(c.body ?? "{}") as { Name?: string };
          expect((JSON.parse(read.body) as { Spec: { Name: string } }).Spec.Name).toBe(sent.Name);
          await docker({ method: "DELETE", path: `/services/${id}`, contentType: undefined, body: undefined });
        }
        await checkState(res.status >= 400, mayWrite(c), what);
        await alive();
      }),
    );
  });

  it("refuses a body larger than its limit with 413, and keeps running", async () => {
    const big = JSON.stringify({ Name: "too-big", Labels: { big: "x".repeat(DOCKER_BODY_LIMIT_BYTES) } });
    const res = await docker({
      method: "POST",
      path: "/v1.41/services/create",
      contentType: "application/json",
      body: big,
    });
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as { message: string }).message).toMatch(/larger than/);
    expect(await dump()).toBe(baseline);
    await alive();
  });
});
