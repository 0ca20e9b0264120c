// A cluster-wide pull as Docker's progress JSON: every line names its node, failures are shown per
// node, and the end is a summary or Docker's error object.
import { describe, expect, it } from "vitest";
import type { PullImageResponse } from "@shoal/shared";
import { PullProgressWriter } from "../../src/dockerapi/pull-progress.js";

const a = { nodeId: "n1", hostname: "a" };
const b = { nodeId: "n2", hostname: "" };
const msg = (m: Partial<PullImageResponse>): PullImageResponse => ({
  nodes: [],
  node: undefined,
  lines: [],
  done: false,
  error: "",
  ...m,
});
const line = (status: string, id = "", current = 0, total = 0, progress = "") => ({
  status,
  id,
  progress,
  current,
  total,
});

describe("PullProgressWriter", () => {
  it("names each line's node: a layer's in its id, any other in its status; a summary at the end", () => {
    const w = new PullProgressWriter("app:1");
    expect(w.message(msg({ nodes: [a, b] }))).toEqual([{ status: "Pulling app:1 on 2 nodes: a, n2" }]);
    expect(
      w.message(
        msg({
          node: a,
          lines: [
            line("Pulling from app", "1"),
            line("Downloading", "0fa4", 10, 40, "[==>  ] 10B/40B"),
            line("Digest: sha256:00"),
          ],
        }),
      ),
    ).toEqual([
      { status: "Pulling from app", id: "a: 1" },
      { status: "Downloading", id: "a: 0fa4", progress: "[==>  ] 10B/40B", progressDetail: { current: 10, total: 40 } },
      { status: "a: Digest: sha256:00" },
    ]);
    expect(w.message(msg({ node: a, lines: [line("Status: Downloaded newer image for app:1")], done: true }))).toEqual([
      { status: "a: Status: Downloaded newer image for app:1" },
    ]);
    expect(w.message(msg({ node: b, done: true }))).toEqual([]);
    expect(w.end()).toEqual([
      { status: "Pulled app:1 on 2 of 2 nodes" },
      { status: "Status: Downloaded newer image for app:1" },
    ]);
  });

  it("shows a node's failure on its own line, and ends with Docker's error naming every failed node", () => {
    const w = new PullProgressWriter("app:1");
    w.message(msg({ nodes: [a, b] }));
    expect(w.message(msg({ node: a, done: true, error: "pulling image app:1: manifest unknown" }))).toEqual([
      { status: "a: failed: pulling image app:1: manifest unknown" },
    ]);
    const message = "pull of app:1 failed on 2 of 2 nodes: a: pulling image app:1: manifest unknown; n2: no answer";
    expect(w.end()).toEqual([{ errorDetail: { message }, error: message }]);
  });

  it("ends with the stream's own error", () => {
    const w = new PullProgressWriter("app:1");
    w.message(msg({ nodes: [a] }));
    w.message(msg({ node: a, done: true }));
    const message = "pull of app:1 failed: the leader is gone";
    expect(w.end("the leader is gone")).toEqual([{ errorDetail: { message }, error: message }]);
  });

  it("ends with Docker's up-to-date status when no node had to download the image", () => {
    const w = new PullProgressWriter("app:1");
    w.message(msg({ nodes: [a] }));
    w.message(msg({ node: a, lines: [line("Status: Image is up to date for app:1")], done: true }));
    expect(w.end()).toEqual([
      { status: "Pulled app:1 on 1 of 1 nodes" },
      { status: "Status: Image is up to date for app:1" },
    ]);
  });
});
