// An agent started with a data-path address (shoal agent --data-path-addr) describes its node with
// it, so that the managers tell the other nodes where to send its overlay traffic.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { expect, it } from "vitest";
import { DispatcherService, Node, newId, silentLogger, type NodeDescription } from "@shoal/shared";
import { Agent, FakeExecutor } from "@shoal/agent";

it("the node's description carries the data-path address", async () => {
  const described: NodeDescription[] = [];
  const server = new grpc.Server();
  server.addService(DispatcherService, {
    session: (call: grpc.ServerWritableStream<{ description?: NodeDescription }, unknown>) => {
      if (call.request.description) described.push(call.request.description);
      call.write({ sessionId: newId(), node: Node.fromPartial({ id: "node-1" }), managers: [] });
    },
    heartbeat: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, {}),
    assignments: () => undefined,
    updateTaskStatus: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, {}),
    reportImagePull: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, {}),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const dir = await mkdtemp(join(tmpdir(), "shoal-agent-dpa-"));
  const stop = new AbortController();
  const agent = new Agent({
    managers: [`127.0.0.1:${port}`],
    executor: new FakeExecutor(),
    dataDir: dir,
    logger: silentLogger(),
    insecureCredentials: grpc.credentials.createInsecure(),
    dataPathAddr: "192.168.77.7",
  });
  const running = agent.run(stop.signal);
  try {
    await expect.poll(() => described.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(described[0]!.dataPathAddr).toBe("192.168.77.7");
  } finally {
    stop.abort();
    await running;
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
});
