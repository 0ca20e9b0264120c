// unaryCall against a real grpc-js server on loopback: responses, metadata, errors as ShoalErrors
// with the server's code, deadlines, and cancellation through an AbortSignal (which the server
// sees as a cancelled call).
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  ControlClient,
  ControlService,
  type EventsClient,
  GetInfoResponse,
  type ControlServer,
  type ListNodesRequest,
  type ListNodesResponse,
} from "../../src/api.js";
import { ErrorCode, NotFoundError, ShoalError } from "../../src/errors.js";
import { toServiceError } from "../../src/grpc/status.js";
import { unaryCall, type RequestOf, type ResponseOf, type UnaryMethodName } from "../../src/grpc/unary-call.js";

let server: grpc.Server;
let addr = "";
let client: ControlClient;
/** Calls the server saw end by cancellation. */
let cancelled = 0;
/** Calls that reached getNode (which never answers). */
let hanging = 0;

// getInfo answers with the "x-echo" metadata it got as nodeId; listNodes fails as NOT_FOUND;
// getNode never answers.
const handlers: Partial<ControlServer> = {
  getInfo: (call, callback) => {
    const echo = call.metadata.get("x-echo")[0];
    callback(null, GetInfoResponse.create({ clusterId: "c1", nodeId: typeof echo === "string" ? echo : "" }));
  },
  listNodes: (_call, callback) => callback(toServiceError(new NotFoundError("node", "n1"))),
  getNode: (call) => {
    hanging++;
    call.on("cancelled", () => cancelled++);
  },
};

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(ControlService, handlers as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  addr = `127.0.0.1:${port}`;
  client = new ControlClient(addr, grpc.credentials.createInsecure());
});

afterEach(() => {
  cancelled = 0;
  hanging = 0;
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

/** Resolves once `probe` holds (polled every 10 ms). */
async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((r) => setTimeout(r, 10));
}

describe("unaryCall", () => {
  it("resolves with the response, with no metadata by default", async () => {
    const res = await unaryCall(client, "getInfo", {}, { timeoutMs: 5000 });
    expect(res).toEqual(GetInfoResponse.create({ clusterId: "c1", nodeId: "" }));
  });

  it("sends the metadata it is given", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-echo", "hello");
    const res = await unaryCall(client, "getInfo", {}, { metadata, timeoutMs: 5000 });
    expect(res.nodeId).toBe("hello");
  });

  it("rejects with the ShoalError the server sent: its code and message", async () => {
    const err: unknown = await unaryCall(client, "listNodes", { filters: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShoalError);
    expect(err).toMatchObject({ code: ErrorCode.NotFound, message: new NotFoundError("node", "n1").message });
    expect((err as ShoalError).cause).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("rejects with what toError makes of the ServiceError, when given", async () => {
    const err = await unaryCall(
      client,
      "listNodes",
      { filters: undefined },
      { toError: (e) => new ShoalError(ErrorCode.Internal, `status ${e.code}`) },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.Internal, message: `status ${grpc.status.NOT_FOUND}` });
  });

  it("fails as DEADLINE_EXCEEDED once timeoutMs has passed", async () => {
    const started = Date.now();
    const err = await unaryCall(client, "getNode", { nodeId: "n1" }, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShoalError);
    expect((err as ShoalError).code).toBe(ErrorCode.DeadlineExceeded);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("cancels the call when the signal aborts, and rejects with the signal's reason", async () => {
    const abort = new AbortController();
    const pending = unaryCall(client, "getNode", { nodeId: "n1" }, { signal: abort.signal, timeoutMs: 10_000 });
    await until(() => hanging === 1);
    const reason = new Error("stop");
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await until(() => cancelled === 1);
  });

  it("does not call when the signal has already aborted", async () => {
    const reason = new Error("too late");
    await expect(unaryCall(client, "getNode", { nodeId: "n1" }, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    // A call that did go out would reach the server by the time this one answers.
    await unaryCall(client, "getInfo", {});
    expect(hanging).toBe(0);
  });

  it("fails as UNAVAILABLE when no server listens", async () => {
    const closed = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      closed.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    closed.forceShutdown();
    const nobody = new ControlClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const err = await unaryCall(nobody, "getInfo", {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect((err as ShoalError).code).toBe(ErrorCode.Unavailable);
    } finally {
      nobody.close();
    }
  });

  it("names unary methods only, with their request and response types", () => {
    expectTypeOf<"listNodes">().toExtend<UnaryMethodName<ControlClient>>();
    expectTypeOf<"close">().not.toExtend<UnaryMethodName<ControlClient>>();
    expectTypeOf<"makeUnaryRequest">().not.toExtend<UnaryMethodName<ControlClient>>();
    // A server stream is no unary method.
    expectTypeOf<UnaryMethodName<EventsClient>>().toBeNever();
    expectTypeOf<RequestOf<ControlClient, "listNodes">>().toEqualTypeOf<ListNodesRequest>();
    expectTypeOf<ResponseOf<ControlClient, "listNodes">>().toEqualTypeOf<ListNodesResponse>();
  });
});
