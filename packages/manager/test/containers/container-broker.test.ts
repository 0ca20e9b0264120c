// The leader's container broker over a real gRPC socket, with a fake agent: a call is resolved,
// recorded (exec, attach), handed to the node's listener and piped both ways once the agent
// serves it; it ends with the agent, its error, its session, or its client.
import * as grpc from "@grpc/grpc-js";
import { ContainerOp, type ContainerCallOpen, type ContainerCallRequest } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_GONE_GRACE_MS, AGENT_WAIT_MS } from "../../src/containers/container-broker.js";
import { END_GRACE_MS } from "../../src/containers/brokered-call.js";
import { BrokerHarness, as } from "./broker-harness.js";

let h: BrokerHarness;

afterEach(() => h?.stop());

async function harness(): Promise<BrokerHarness> {
  h = new BrokerHarness();
  await h.start();
  return h;
}

const open = (fields: Partial<ContainerCallOpen>): ContainerCallRequest => ({
  input: {
    $case: "open",
    value: {
      container: "web.1",
      op: ContainerOp.INSPECT,
      exec: undefined,
      attach: undefined,
      top: undefined,
      stats: undefined,
      size: undefined,
      caller: "",
      ...fields,
    },
  },
});

const exec = (cmd: string[], caller = ""): ContainerCallRequest =>
  open({
    op: ContainerOp.EXEC,
    caller,
    exec: {
      cmd,
      env: [],
      user: "",
      workingDir: "",
      tty: false,
      attachStdin: true,
      attachStdout: true,
      attachStderr: true,
      privileged: false,
      detachKeys: "",
    },
  });

describe("ContainerBroker", () => {
  it("hands an exec to the node's agent and pipes it both ways, recorded first", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(exec(["sh", "-c", "cat"], "someone-else"));
    await expect.poll(() => agent.received.length).toBe(1);
    const handed = agent.received[0]!;
    expect(handed).toMatchObject({ taskId: "t1", containerId: "c0ffee" });
    // The caller is the client certificate's name, whatever the client said.
    expect(handed.open?.caller).toBe("admin");
    expect(h.audits).toEqual([
      expect.objectContaining({
        action: "exec",
        caller: "admin",
        taskId: "t1",
        taskName: "web.1",
        serviceId: "svc",
        nodeId: "node-1",
        containerId: "c0ffee",
        cmd: ["sh", "-c", "cat"],
      }),
    ]);

    const serve = h.serve(handed.callId);
    const duplex = serve.call as grpc.ClientDuplexStream<unknown, unknown>;
    duplex.write({ callId: "", output: { output: { $case: "started", value: { execId: "e1" } } } });
    (client.call as grpc.ClientDuplexStream<ContainerCallRequest, unknown>).write({
      input: { $case: "stdin", value: Buffer.from("hi\n") },
    });
    await expect.poll(() => serve.received.length).toBe(1);
    expect(serve.received[0]!.input?.input).toEqual({ $case: "stdin", value: Buffer.from("hi\n") });
    duplex.write({
      callId: "",
      output: { output: { $case: "data", value: { stream: 1, data: Buffer.from("hi\n") } } },
    });
    duplex.write({ callId: "", output: { output: { $case: "exit", value: { exitCode: 3 } } } });
    duplex.end();

    expect((await client.status).code).toBe(grpc.status.OK);
    expect(client.received.map((r) => r.output)).toEqual([
      {
        $case: "started",
        value: { taskId: "t1", nodeId: "node-1", containerId: "c0ffee", serviceId: "svc", execId: "e1" },
      },
      { $case: "data", value: { stream: 1, data: Buffer.from("hi\n") } },
      { $case: "exit", value: { exitCode: 3 } },
    ]);
    expect((await serve.status).code).toBe(grpc.status.OK);
  });

  it("sends started itself before an agent's first other output, and records no inspect", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(open({ container: "c0f" }));
    await expect.poll(() => agent.received.length).toBe(1);
    const serve = h.serve(agent.received[0]!.callId);
    const duplex = serve.call as grpc.ClientDuplexStream<unknown, unknown>;
    duplex.write({ callId: "", output: { output: { $case: "json", value: Buffer.from("{}") } } });
    duplex.end();
    expect((await client.status).code).toBe(grpc.status.OK);
    expect(client.received.map((r) => r.output?.$case)).toEqual(["started", "json"]);
    expect(h.audits).toEqual([]);
  });

  it("ends a call the agent ends without a last answer once no cancel followed", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(open({ op: ContainerOp.STATS, stats: { stream: true, oneShot: false } }));
    await expect.poll(() => agent.received.length).toBe(1);
    const serve = h.serve(agent.received[0]!.callId);
    const duplex = serve.call as grpc.ClientDuplexStream<unknown, unknown>;
    duplex.write({ callId: "", output: { output: { $case: "json", value: Buffer.from("{}") } } });
    await expect.poll(() => client.received.map((r) => r.output?.$case)).toEqual(["started", "json"]);
    expect(h.clock.pendingTimers).toBe(0);
    duplex.end();
    await expect.poll(() => h.clock.pendingTimers).toBe(1);
    h.clock.advance(END_GRACE_MS);
    expect((await client.status).code).toBe(grpc.status.OK);
  });

  it("ends the client's call with the agent's error", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(open({}));
    await expect.poll(() => agent.received.length).toBe(1);
    const serve = h.serve(agent.received[0]!.callId);
    (serve.call as grpc.ClientDuplexStream<unknown, unknown>).write({
      callId: "",
      output: { output: { $case: "error", value: { code: grpc.status.FAILED_PRECONDITION, message: "not running" } } },
    });
    expect(await client.status).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "not running" });
  });

  it("ends the listener and its calls with UNAVAILABLE when the agent's session ends", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(exec(["sleep", "100"]));
    await expect.poll(() => agent.received.length).toBe(1);
    const serve = h.serve(agent.received[0]!.callId);
    // The agent's stream is bound once its started reaches the client.
    (serve.call as grpc.ClientDuplexStream<unknown, unknown>).write({
      callId: "",
      output: { output: { $case: "started", value: { execId: "e1" } } },
    });
    await expect.poll(() => client.received.length).toBe(1);
    h.sessions.end("node-1");
    expect(await client.status).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: "the agent session of node node-1 ended",
    });
    expect((await agent.status).code).toBe(grpc.status.UNAVAILABLE);
    expect((await serve.status).code).toBe(grpc.status.CANCELLED);
  });

  it("cancels the agent's side when the client cancels", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(exec(["sleep", "100"]));
    await expect.poll(() => agent.received.length).toBe(1);
    const serve = h.serve(agent.received[0]!.callId);
    (serve.call as grpc.ClientDuplexStream<unknown, unknown>).write({
      callId: "",
      output: { output: { $case: "started", value: { execId: "e1" } } },
    });
    await expect.poll(() => client.received.length).toBe(1);
    client.call.cancel();
    expect(await serve.status).toMatchObject({ code: grpc.status.CANCELLED });
  });

  it("ends a call whose agent stream broke off, once its session did not end with it", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(exec(["sleep", "100"]));
    await expect.poll(() => agent.received.length).toBe(1);
    const serve = h.serve(agent.received[0]!.callId);
    (serve.call as grpc.ClientDuplexStream<unknown, unknown>).write({
      callId: "",
      output: { output: { $case: "started", value: { execId: "e1" } } },
    });
    await expect.poll(() => client.received.length).toBe(1);
    serve.call.cancel();
    await expect.poll(() => h.clock.pendingTimers).toBe(1);
    h.clock.advance(AGENT_GONE_GRACE_MS);
    expect(await client.status).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: "the agent of node node-1 gave up the call",
    });
  });

  it("gives up on an agent that does not take the call in time; a late agent finds no call", async () => {
    await harness();
    const agent = h.listen();
    const client = h.call(open({}));
    await expect.poll(() => agent.received.length).toBe(1);
    h.clock.advance(AGENT_WAIT_MS);
    expect(await client.status).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: "the agent of node node-1 did not take the call",
    });
    const late = h.serve(agent.received[0]!.callId);
    expect((await late.status).code).toBe(grpc.status.NOT_FOUND);
  });

  it("answers UNAVAILABLE for a node without a session, NOT_FOUND for one without a listener", async () => {
    await harness();
    const none = h.call(open({}));
    expect(await none.status).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: "node node-1 has no session with the leader",
    });
    h.sessions.open.set("node-1", "s1");
    const unheard = h.call(open({}));
    expect(await unheard.status).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no such container: web.1" });
    const missing = h.call(open({ container: "web.7" }));
    expect(await missing.status).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no such container: web.7" });
  });

  it("refuses exec from a manager certificate that names no caller, and takes one that does", async () => {
    await harness();
    const agent = h.listen();
    const refused = h.call(exec(["id"]), "manager", "mgr-1");
    expect(await refused.status).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "exec and attach need an admin client certificate",
    });
    const attach = h.call(open({ op: ContainerOp.ATTACH }), "manager", "mgr-1");
    expect((await attach.status).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(h.audits).toEqual([]);
    h.call(exec(["id"], "alice"), "manager", "mgr-1");
    await expect.poll(() => agent.received.length).toBe(1);
    expect(agent.received[0]!.open?.caller).toBe("alice");
    expect(h.audits.map((a) => a.caller)).toEqual(["alice"]);
  });

  it("refuses a bad open, naming the field", async () => {
    await harness();
    const noCmd = h.call(exec([]));
    expect(await noCmd.status).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "open.exec.cmd: an exec needs a command",
    });
    const stdinFirst = h.call({ input: { $case: "stdin", value: Buffer.from("x") } });
    expect((await stdinFirst.status).code).toBe(grpc.status.INVALID_ARGUMENT);
    const unknownOp = h.call(open({ op: 42 as ContainerOp }));
    expect(await unknownOp.status).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("lets an agent listen on its own open session only, and serve its own node's calls only", async () => {
    await harness();
    h.sessions.open.set("node-1", "s1");
    const stale = h.containers.listenContainerCalls({ nodeId: "node-1", sessionId: "old" }, as("worker", "node-1"));
    const staleStatus = new Promise<grpc.StatusObject>((resolve) => stale.on("status", resolve));
    stale.on("error", () => undefined);
    expect((await staleStatus).code).toBe(grpc.status.NOT_FOUND);

    const agent = h.listen();
    h.call(open({}));
    await expect.poll(() => agent.received.length).toBe(1);
    const other = h.serve(agent.received[0]!.callId, "node-2");
    expect((await other.status).code).toBe(grpc.status.NOT_FOUND);
  });
});
