import * as grpc from "@grpc/grpc-js";
import { describe, expect, it, vi } from "vitest";
import { ControlService, type TlsMaterial, systemClock } from "@shoal/shared";
import { ControlGate, type ControlImpl } from "../../src/controlapi/control-gate.js";
import { RefusedRequest } from "../../src/controlapi/request-guard.js";
import type { RaftNode } from "../../src/state/raft/raft-node.js";
import { MemoryStore } from "../../src/state/store/index.js";

type Handler = (call: { request: unknown }, callback: (err: unknown, res?: unknown) => void) => void;

function setup(): {
  gate: ControlGate;
  raft: { node: RaftNode | undefined };
  api: ControlImpl;
  open: ReturnType<typeof vi.fn>;
  added: { def: grpc.ServiceDefinition; impl: Record<string, Handler> }[];
} {
  const raft: { node: RaftNode | undefined } = { node: undefined };
  const api: ControlImpl = {
    handlers: () => ({
      getCluster: (_call, callback) => callback(null, { cluster: undefined }),
      pullImage: (call) => {
        call.write({ nodes: [], node: undefined, lines: [], done: true, error: "" });
        call.end();
      },
    }),
    close: vi.fn(),
  };
  const open = vi.fn(() => api);
  const added: { def: grpc.ServiceDefinition; impl: Record<string, Handler> }[] = [];
  const gate = new ControlGate({
    clock: systemClock,
    server: { addService: (def, impl) => void added.push({ def, impl: impl as unknown as Record<string, Handler> }) },
    raft,
    store: new MemoryStore(),
    credentials: { material: {} as TlsMaterial, nodeId: "m1" },
    open,
  });
  return { gate, raft, api, open, added };
}

const call = (handler: Handler, request: unknown = {}): Promise<{ err: unknown; res: unknown }> =>
  new Promise((resolve) => handler({ request }, (err, res) => resolve({ err, res })));

describe("ControlGate", () => {
  it("serves every Control method, with the request guard's deserializers", async () => {
    const { gate, added } = setup();
    await gate.run();
    expect(added).toHaveLength(1);
    expect(Object.keys(added[0]!.def)).toEqual(Object.keys(ControlService));
    expect(Object.keys(added[0]!.impl)).toEqual(Object.keys(ControlService));
    const big = added[0]!.def["getCluster"]!.requestDeserialize(Buffer.alloc(5 * 1024 * 1024));
    expect(big).toBeInstanceOf(RefusedRequest);
  });

  it("answers UNAVAILABLE until the Raft node runs", async () => {
    const { gate, open } = setup();
    const { err } = await call(gate.handlers()["getCluster"] as Handler);
    expect(err).toEqual({ code: grpc.status.UNAVAILABLE, details: "getCluster: not available on this manager yet" });
    expect(open).not.toHaveBeenCalled();
  });

  it("answers a refused request with the guard's status", async () => {
    const { gate } = setup();
    const refused = new RefusedRequest({ code: grpc.status.RESOURCE_EXHAUSTED, details: "too big" });
    const { err } = await call(gate.handlers()["getCluster"] as Handler, refused);
    expect(err).toEqual({ code: grpc.status.RESOURCE_EXHAUSTED, details: "too big" });
  });

  it("once raft runs: makes the Control API once and delegates; UNIMPLEMENTED for what it lacks", async () => {
    const { gate, raft, open } = setup();
    const handlers = gate.handlers();
    raft.node = {} as RaftNode;
    await expect(call(handlers["getCluster"] as Handler)).resolves.toEqual({ err: null, res: { cluster: undefined } });
    await call(handlers["getCluster"] as Handler);
    expect(open).toHaveBeenCalledTimes(1);
    expect(open).toHaveBeenCalledWith(raft.node);
    const { err } = await call(handlers["listServices"] as Handler);
    expect(err).toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });

  it("on stop: closes the Control API once and answers UNAVAILABLE", async () => {
    const { gate, raft, api } = setup();
    const handlers = gate.handlers();
    raft.node = {} as RaftNode;
    await call(handlers["getCluster"] as Handler);
    gate.stop();
    gate.stop();
    expect(api.close).toHaveBeenCalledTimes(1);
    const { err } = await call(handlers["getCluster"] as Handler);
    expect(err).toEqual({ code: grpc.status.UNAVAILABLE, details: "getCluster: this manager is stopping" });
  });

  it("serves a server stream (PullImage) through the gate: refused before raft runs, then delegated", async () => {
    const { gate, raft } = setup();
    const handlers = gate.handlers();
    const pullImage = handlers["pullImage"] as unknown as (call: FakeStream) => void;
    const before = new FakeStream({});
    pullImage(before);
    expect(before.errors).toEqual([
      { code: grpc.status.UNAVAILABLE, details: "pullImage: not available on this manager yet" },
    ]);
    const refused = new FakeStream(new RefusedRequest({ code: grpc.status.RESOURCE_EXHAUSTED, details: "too big" }));
    pullImage(refused);
    expect(refused.errors).toEqual([{ code: grpc.status.RESOURCE_EXHAUSTED, details: "too big" }]);
    raft.node = {} as RaftNode;
    const served = new FakeStream({ image: "app:1" });
    pullImage(served);
    expect(served.written).toHaveLength(1);
    expect(served.ended).toBe(true);
  });
});

/** The part of a grpc-js server stream the gate and the fake API use. */
class FakeStream {
  readonly written: unknown[] = [];
  readonly errors: unknown[] = [];
  ended = false;
  constructor(readonly request: unknown) {}
  write(message: unknown): boolean {
    this.written.push(message);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  emit(event: string, value: unknown): boolean {
    if (event === "error") this.errors.push(value);
    return true;
  }
}
