// GET /images/{name}/json over HTTP with a stand-in for the Control API's InspectImage: the
// image of the first node by node id that has it, as its engine gave it; Docker's 404 when no
// node has it; and a 503 when no node could say.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ManualClock,
  silentLogger,
  type InspectImageNode,
  type InspectImageRequest,
  type InspectImageResponse,
} from "@shoal/shared";
import { dockerRoutes } from "../../src/dockerapi/docker-api-server.js";
import type { ControlCaller } from "../../src/dockerapi/control-calls.js";
import { chooseImage } from "../../src/dockerapi/image-inspect.js";

const requests: InspectImageRequest[] = [];
let answer: InspectImageResponse = { nodes: [] };

let server: Server;
let base = "";

beforeAll(async () => {
  const control = {
    call: (method: string, request: InspectImageRequest) => {
      if (method !== "inspectImage") return Promise.reject(new Error(`not used: ${method}`));
      requests.push(request);
      return Promise.resolve(answer);
    },
  } as unknown as ControlCaller;
  const logs = { subscribe: async function* () {} };
  const router = dockerRoutes(
    { control, logs, nodeId: "m1", advertise: "", clock: new ManualClock(0), logger: silentLogger() },
    silentLogger(),
  );
  server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests.length = 0;
  answer = { nodes: [] };
});

const nodeAnswer = (nodeId: string, image: unknown, error = ""): InspectImageNode => ({
  node: { nodeId, hostname: `host-${nodeId}` },
  imageJson: image === undefined ? "" : JSON.stringify(image),
  error,
});

const inspect = (name: string): Promise<Response> => fetch(`${base}/v1.41/images/${name}/json`);

describe("GET /images/{name}/json", () => {
  it("answers 200 with the image of the first node by id that has it, as its engine gave it", async () => {
    const image = { Id: "sha256:aa", RepoTags: ["registry:5000/app:1"], Config: { Env: ["A=1"] }, Size: 123 };
    answer = {
      nodes: [nodeAnswer("n3", { Id: "sha256:other" }), nodeAnswer("n1", undefined), nodeAnswer("n2", image)],
    };
    const res = await inspect("registry:5000/app:1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual(image);
    expect(requests).toEqual([{ image: "registry:5000/app:1", timeout: undefined }]);
  });

  it("answers Docker's 404 when no node has the image", async () => {
    answer = { nodes: [nodeAnswer("n1", undefined), nodeAnswer("n2", undefined, "the node's session ended")] };
    const res = await inspect("nosuch:1");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "No such image: nosuch:1" });
  });

  it("answers 503 naming each node when no node could say", async () => {
    answer = { nodes: [nodeAnswer("n1", undefined, "daemon unreachable")] };
    const res = await inspect("app:1");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: "no node could inspect image app:1: host-n1: daemon unreachable" });
  });

  it("chooses by node id whatever the order of the answers, skipping what is not JSON", () => {
    const nodes = [nodeAnswer("b", { Id: "b" }), { ...nodeAnswer("a", undefined), imageJson: "{" }];
    expect(chooseImage(nodes)).toEqual({ Id: "b" });
    expect(chooseImage([...nodes, nodeAnswer("a0", { Id: "a0" })])).toEqual({ Id: "a0" });
  });
});
