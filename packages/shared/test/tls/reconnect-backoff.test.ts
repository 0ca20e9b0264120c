// A channel to a manager that was down a while connects soon after the manager is back: with
// grpc-js's default backoff (growing to 120 s) a channel that failed for 20 s waited several more
// seconds after the server came back before it even tried again.
import { createServer } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterEach, expect, it } from "vitest";
import { MANAGER_CHANNEL_OPTIONS } from "../../src/tls/index.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Resolves when the channel is READY, or rejects at the deadline. */
function ready(client: grpc.Client, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + deadlineMs, (err) => (err ? reject(err) : resolve()));
  });
}

it("connects within a few seconds of a manager coming back after 20 s down", async () => {
  const port = await freePort();
  const target = `127.0.0.1:${port}`;
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), MANAGER_CHANNEL_OPTIONS);
  cleanups.push(() => client.close());
  // Nothing listens yet: the channel fails and backs off for 20 s.
  await expect(ready(client, 20_000)).rejects.toThrow();

  const server = new grpc.Server();
  cleanups.push(() => server.forceShutdown());
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  const back = Date.now();
  await ready(client, 10_000);
  // The channel's next try comes at most 2 s (the cap) after its last one.
  expect(Date.now() - back).toBeLessThan(4_000);
}, 40_000);
