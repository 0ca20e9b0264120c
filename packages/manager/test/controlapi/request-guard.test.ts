// The Control API's first check of a request (found by the fuzz test, test/e2e/fuzz.test.ts): a
// request over the Control limit is RESOURCE_EXHAUSTED, one that protobuf cannot decode (a
// truncated message, a uint64 beyond 2^53, deeply nested groups) is INVALID_ARGUMENT, where
// grpc-js alone would answer a bare INTERNAL "Error deserializing request".
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ControlService, CreateServiceRequest, ServiceSpec } from "@shoal/shared";
import { guardRequests, refusedRequest } from "../../src/controlapi/request-guard.js";

const guarded = guardRequests(ControlService, 1024 * 1024);
const encode = (spec: ServiceSpec): Buffer => Buffer.from(CreateServiceRequest.encode({ spec }).finish());
const spec = ServiceSpec.fromPartial({
  annotations: { name: "web" },
  taskTemplate: { container: { image: "shoal-base:1" } },
});

describe("guardRequests", () => {
  it("decodes a request within the limit as before", () => {
    const request = guarded.createService.requestDeserialize(encode(spec));
    expect(refusedRequest(request)).toBeUndefined();
    expect(request.spec?.annotations?.name).toBe("web");
    expect(guarded.createService.path).toBe(ControlService.createService.path);
  });

  it("refuses a request over the limit with RESOURCE_EXHAUSTED naming sizes", () => {
    const big = ServiceSpec.fromPartial({ ...spec, annotations: { name: "web", labels: { x: "y".repeat(2000) } } });
    const refused = refusedRequest(guardRequests(ControlService, 1024).createService.requestDeserialize(encode(big)));
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toMatch(/^request of \d+ bytes is larger than the Control API's limit of 1024 bytes$/);
  });

  it.each([
    ["truncated", encode(spec).subarray(0, 5)],
    [
      "a uint64 beyond 2^53",
      Buffer.from([0x22, 0x0b, 0x1a, 0x09, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
    ],
    ["deeply nested groups", Buffer.concat([Buffer.alloc(50_000, 0x0b), Buffer.alloc(50_000, 0x0c)])],
  ])("refuses a request that does not decode (%s) with INVALID_ARGUMENT", (_what, bytes) => {
    const refused = refusedRequest(guarded.updateService.requestDeserialize(bytes));
    expect(refused?.code).toBe(status.INVALID_ARGUMENT);
    expect(refused?.details).toMatch(/^request: not a valid updateService request: /);
  });
});
