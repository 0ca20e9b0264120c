// serverStream against a real grpc-js server on loopback: every message in order and then the end,
// a failure after some messages as a ShoalError with the server's code, and cancellation (an
// aborted signal, or a loop left early) that the server sees as a cancelled call.
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import {
  ControlClient,
  ControlService,
  PullImageRequest,
  PullImageResponse,
  type ControlServer,
} from "../../src/api.js";
import { ErrorCode, NotFoundError, ShoalError } from "../../src/errors.js";
import { serverStream } from "../../src/grpc/server-stream.js";
import { toServiceError } from "../../src/grpc/status.js";

let server: grpc.Server;
let client: ControlClient;
/** Resolved by each call the server sees cancelled. */
let cancellations: (() => void)[] = [];

function line(node: string): PullImageResponse {
  return PullImageResponse.create({ node: { nodeId: node, hostname: node } });
}

// The image names the behaviour: "three" sends n1..n3 and ends; "fails" sends n1 and fails as
// NOT_FOUND; "hangs" sends n1 and never ends.
const handlers: Partial<ControlServer> = {
  pullImage: (call) => {
    call.on("cancelled", () => cancellations.shift()?.());
    const image = call.request.image;
    if (image === "three") {
      for (const n of ["n1", "n2", "n3"]) call.write(line(n));
      call.end();
    } else if (image === "fails") {
      call.write(line("n1"));
      call.emit("error", toServiceError(new NotFoundError("image", "fails")));
    } else {
      call.write(line("n1"));
    }
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
  client = new ControlClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterEach(() => {
  cancellations = [];
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

/** Resolves when the server sees its next call cancelled. */
function nextCancellation(): Promise<void> {
  return new Promise((resolve) => cancellations.push(resolve));
}

it("yields every message in order, then ends", async () => {
  const got: string[] = [];
  for await (const m of serverStream(client.pullImage(PullImageRequest.create({ image: "three" }))))
    got.push(m.node!.nodeId);
  expect(got).toEqual(["n1", "n2", "n3"]);
});

it("throws a ShoalError with the server's code after the messages that came before the failure", async () => {
  const got: string[] = [];
  const run = async (): Promise<void> => {
    for await (const m of serverStream(client.pullImage(PullImageRequest.create({ image: "fails" }))))
      got.push(m.node!.nodeId);
  };
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ShoalError);
  expect((err as ShoalError).code).toBe(ErrorCode.NotFound);
  expect(got).toEqual(["n1"]);
});

it("ends quietly when the signal aborts, and the server sees the call cancelled", async () => {
  const controller = new AbortController();
  const cancelled = nextCancellation();
  const got: string[] = [];
  for await (const m of serverStream(
    client.pullImage(PullImageRequest.create({ image: "hangs" })),
    controller.signal,
  )) {
    got.push(m.node!.nodeId);
    controller.abort();
  }
  expect(got).toEqual(["n1"]);
  await cancelled;
});

it("cancels the call when the loop is left early", async () => {
  const cancelled = nextCancellation();
  for await (const m of serverStream(client.pullImage(PullImageRequest.create({ image: "hangs" })))) {
    expect(m.node!.nodeId).toBe("n1");
    break;
  }
  await cancelled;
});
