// shoal image pull: what it asks for, what it prints per node, and its exit on a failed node.
import { describe, expect, it } from "vitest";
import { ErrorCode, RegistryAuth, type PullImageRequest, type PullImageResponse } from "@shoal/shared";
import { pullImage, pullRequest } from "../../src/commands/image.js";
import { sink } from "./fake-control.js";

const a = { nodeId: "n1", hostname: "a" };
const b = { nodeId: "n2", hostname: "b" };
const msg = (m: Partial<PullImageResponse>): PullImageResponse => ({
  nodes: [],
  node: undefined,
  lines: [],
  done: false,
  error: "",
  ...m,
});
const line = (status: string, id = ""): PullImageResponse["lines"][number] => ({
  status,
  id,
  progress: "",
  current: 0,
  total: 0,
});

function control(messages: PullImageResponse[]): {
  control: { pullImage(request: PullImageRequest, signal: AbortSignal): AsyncIterable<PullImageResponse> };
  requests: PullImageRequest[];
} {
  const requests: PullImageRequest[] = [];
  return {
    requests,
    control: {
      async *pullImage(request) {
        requests.push(request);
        yield* messages;
      },
    },
  };
}

describe("shoal image pull", () => {
  it("prints each node's lines about the image, not its layers, and a summary", async () => {
    const { control: c, requests } = control([
      msg({ nodes: [a, b] }),
      msg({ node: a, lines: [line("Pulling from app", "1"), line("Downloading", "0fa4"), line("Digest: sha256:00")] }),
      msg({ node: a, lines: [line("Status: Downloaded newer image for app:1")], done: true }),
      msg({ node: b, lines: [line("Status: Image is up to date for app:1")], done: true }),
    ]);
    const out = sink();
    const request = await pullRequest("app:1", {});
    await pullImage(c, request, false, out, new AbortController().signal);
    expect(requests).toEqual([{ image: "app:1", auth: undefined, platform: "", timeout: undefined }]);
    expect(out.text).toBe(
      [
        "Pulling app:1 on a, b",
        "a: Digest: sha256:00",
        "a: Status: Downloaded newer image for app:1",
        "b: Status: Image is up to date for app:1",
        "Pulled app:1 on 2 of 2 nodes",
        "",
      ].join("\n"),
    );
  });

  it("prints a node's failure and fails, naming the nodes without the image", async () => {
    const { control: c } = control([
      msg({ nodes: [a, b] }),
      msg({ node: b, done: true, error: "pulling image app:1: manifest unknown" }),
    ]);
    const out = sink();
    const request = await pullRequest("app:1", {});
    await expect(pullImage(c, request, false, out, new AbortController().signal)).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: "pulled app:1 on 0 of 2 nodes; not on a, b",
    });
    expect(out.text).toContain("b: failed: pulling image app:1: manifest unknown\n");
  });

  it("prints the stream's messages as JSON lines with --json", async () => {
    const { control: c } = control([msg({ nodes: [a] }), msg({ node: a, done: true })]);
    const out = sink();
    await pullImage(c, await pullRequest("app:1", {}), true, out, new AbortController().signal);
    const lines = out.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { nodes: [{ nodeId: "n1", hostname: "a" }] },
      { node: { nodeId: "n1", hostname: "a" }, done: true },
    ]);
  });

  it("takes the registry credentials, the platform and the timeout from its flags", async () => {
    const request = await pullRequest(
      "r:5000/app:1",
      { username: "u", passwordStdin: true, registry: "r:5000", platform: "linux/arm64", timeout: "90s" },
      () => Promise.resolve("s3cret"),
    );
    expect(request).toEqual({
      image: "r:5000/app:1",
      auth: RegistryAuth.fromPartial({ username: "u", password: "s3cret", serverAddress: "r:5000" }),
      platform: "linux/arm64",
      timeout: { seconds: 90, nanos: 0 },
    });
    await expect(pullRequest("app:1", { passwordStdin: true })).rejects.toThrow("--password-stdin: needs --username");
  });
});
