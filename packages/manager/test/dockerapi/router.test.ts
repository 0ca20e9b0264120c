// The Docker API's HTTP edge: version prefixes, Docker's headers, and bad input refused with a 400
// that says what is wrong, before anything reaches the Control API.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, NotFoundError, SequenceConflictError, Service, ServiceSpec, silentLogger } from "@shoal/shared";
import { dockerRoutes } from "../../src/dockerapi/docker-api-server.js";
import type { ControlCaller } from "../../src/dockerapi/control-calls.js";
import type { LogsCaller } from "../../src/dockerapi/logs.js";

const calls: { method: string; request: unknown }[] = [];
const stored = Service.fromPartial({
  id: "svc0000000000000000000001",
  meta: { version: { index: 7 }, createdAt: new Date(0) },
  spec: ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { container: { image: "x:1" } },
    mode: { $case: "replicated", value: { replicas: 1 } },
  }),
});

const control: ControlCaller = {
  call: (async (method: string, request: unknown) => {
    calls.push({ method, request });
    switch (method) {
      case "getService":
        if ((request as { serviceId: string }).serviceId === "nosuch") throw new NotFoundError("service", "nosuch");
        return { service: stored };
      case "createService":
        return { service: stored };
      case "updateService":
        throw new SequenceConflictError("update out of sequence");
      default:
        return {};
    }
  }) as ControlCaller["call"],
};
const logs: LogsCaller = {
  subscribe: async function* () {
    // no lines
  },
};

let server: Server;
let base = "";

beforeAll(async () => {
  const router = dockerRoutes(
    { control, logs, nodeId: "n1", advertise: "127.0.0.1:1", clock: new ManualClock(0), logger: silentLogger() },
    silentLogger(),
  );
  server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function post(path: string, body: string): Promise<{ status: number; json: { message?: string } }> {
  const res = await fetch(base + path, { method: "POST", body, headers: { "Content-Type": "application/json" } });
  return { status: res.status, json: (await res.json()) as { message?: string } };
}

describe("the Docker API router", () => {
  it("answers the ping with the API version, with and without a version prefix", async () => {
    const head = await fetch(`${base}/_ping`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("api-version")).toBe("1.41");
    expect(head.headers.get("swarm")).toBe("active/manager");
    const got = await fetch(`${base}/v1.41/version`);
    expect(((await got.json()) as { ApiVersion: string }).ApiVersion).toBe("1.41");
    expect(got.headers.get("content-type")).toBe("application/json");
  });

  it("refuses bad JSON, unknown fields and wrong types with a 400 naming the field, and calls nothing", async () => {
    calls.length = 0;
    expect(await post("/v1.41/services/create", "{not json")).toMatchObject({
      status: 400,
      json: { message: expect.stringContaining("body: invalid JSON") as unknown },
    });
    expect(await post("/v1.41/services/create", '{"Name":"a","Colour":"red"}')).toEqual({
      status: 400,
      json: { message: "Colour: unknown field" },
    });
    expect(
      await post("/v1.41/services/create", '{"Name":"a","TaskTemplate":{"ContainerSpec":{"Env":["A=1",2]}}}'),
    ).toEqual({ status: 400, json: { message: "TaskTemplate.ContainerSpec.Env[1]: expected a string, got a number" } });
    expect(await post("/v1.41/services/create", '{"Mode":{"Replicated":{"Replicas":"3"}}}')).toEqual({
      status: 400,
      json: { message: "Mode.Replicated.Replicas: expected a number, got a string" },
    });
    expect(await post("/v1.41/services/svc/update", '{"Name":"a"}')).toMatchObject({ status: 400 });
    expect(calls).toEqual([]);
  });

  it("creates with 201 and the id; answers 404 and 409 as Docker does", async () => {
    expect(
      await post("/v1.41/services/create", '{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"x:1"}}}'),
    ).toEqual({ status: 201, json: { ID: stored.id } });
    const missing = await fetch(`${base}/v1.41/services/nosuch?insertDefaults=true`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: "service nosuch not found" });
    expect(await post("/v1.41/services/web/update?version=1", '{"Name":"web"}')).toEqual({
      status: 409,
      json: { message: "update out of sequence" },
    });
  });

  it("shows a service with its version and defaults, and rejects unknown filters", async () => {
    const res = await fetch(`${base}/v1.41/services/web?insertDefaults=true`);
    const body = (await res.json()) as { ID: string; Version: { Index: number }; Spec: { RollbackConfig: unknown } };
    expect(body.ID).toBe(stored.id);
    expect(body.Version.Index).toBe(7);
    expect(body.Spec.RollbackConfig).toBeDefined();
    const bad = await fetch(`${base}/v1.41/services?filters=${encodeURIComponent('{"colour":{"red":true}}')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: "filters: Invalid filter 'colour'" });
    expect((await fetch(`${base}/v1.41/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/v1.41/distribution/local/busybox:1/json`)).status).toBe(404);
  });

  // Found by the e2e fuzz: `new URL("//bad_host%1W./", base)` threw outside the handler and ended the manager.
  it("takes a path starting with // as a path, and survives a request target it cannot parse", async () => {
    const res = await fetch(`${base}//nQ_V5_%1W.?version=1e999`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "page not found: GET //nQ_V5_%1W." });
    expect((await fetch(`${base}//v1.41/_ping`)).status).toBe(404);
    expect((await fetch(`${base}/_ping`)).status).toBe(200);
  });
});
