// The fake executor's pulls: Docker's usual lines by default, scripted lines, failures and hangs;
// and its inspects: what the image holds once it is on the host, nothing before.
import { describe, expect, it } from "vitest";
import { RegistryAuth } from "@shoal/shared";
import { FakeExecutor, ImagePullError, type PullProgress } from "@shoal/agent";

describe("FakeImages", () => {
  it("pulls with Docker's usual lines, records the pull, and has the image afterwards", async () => {
    const executor = new FakeExecutor();
    const lines: PullProgress[] = [];
    const auth = RegistryAuth.fromPartial({ username: "u" });
    await executor.pull("registry:5000/app:1", { auth, onProgress: (l) => lines.push(l) });
    expect(lines.map((l) => [l.status, l.id])).toEqual([
      ["Pulling from registry:5000/app", "1"],
      ["Pull complete", "0fa4e1c1e2b3"],
      [`Digest: sha256:${"f".repeat(64)}`, ""],
      ["Status: Downloaded newer image for registry:5000/app:1", ""],
    ]);
    expect(executor.images.pulls).toEqual([{ image: "registry:5000/app:1", auth, platform: "" }]);
    expect(executor.images.present.has("registry:5000/app:1")).toBe(true);
    const again: string[] = [];
    await executor.pull("registry:5000/app:1", { onProgress: (l) => again.push(l.status) });
    expect(again.at(-1)).toBe("Status: Image is up to date for registry:5000/app:1");
  });

  it("fails, or hangs until aborted, as scripted", async () => {
    const executor = new FakeExecutor();
    executor.images.script("bad:1", { lines: [], error: new ImagePullError("bad:1", "manifest unknown") });
    await expect(executor.pull("bad:1")).rejects.toThrow("pulling image bad:1: manifest unknown");
    executor.images.script("slow:1", { lines: [], hang: true });
    const stop = new AbortController();
    const pulling = executor.pull("slow:1", { signal: stop.signal });
    stop.abort();
    await expect(pulling).rejects.toMatchObject({ reason: "aborted", temporary: true });
    expect(executor.images.present.size).toBe(0);
  });

  it("inspects only images on the host: a default object of Docker's shape, or the scripted one", async () => {
    const executor = new FakeExecutor();
    expect(await executor.inspectImage("app:1")).toBeUndefined();
    await executor.pull("app:1");
    const got = await executor.inspectImage("app:1");
    expect(got).toMatchObject({ RepoTags: ["app:1"], Os: "linux" });
    expect(got?.["Id"]).toMatch(/^sha256:[0-9a-f]{64}$/);
    executor.images.script("db:2", { inspect: { Id: "sha256:db", Config: { Env: ["A=1"] } } });
    executor.images.present.add("db:2");
    expect(await executor.inspectImage("db:2")).toEqual({ Id: "sha256:db", Config: { Env: ["A=1"] } });
    const stop = new AbortController();
    stop.abort();
    await expect(executor.inspectImage("db:2", stop.signal)).rejects.toMatchObject({ reason: "aborted" });
  });
});
