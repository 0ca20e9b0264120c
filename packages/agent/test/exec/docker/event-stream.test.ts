import { PassThrough } from "node:stream";
import { silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { DockerEventStream, type DockerEvent } from "../../../src/exec/docker/event-stream.js";

/** A stand-in for dockerode's getEvents: each call hands out a new stream the test writes to. */
class StubDocker {
  readonly calls: { since?: number; filters?: unknown }[] = [];
  readonly streams: PassThrough[] = [];
  failNext = 0;
  private waiters: (() => void)[] = [];

  async getEvents(options: { since?: number; filters?: unknown; abortSignal?: AbortSignal }): Promise<PassThrough> {
    this.calls.push({ ...(options.since !== undefined ? { since: options.since } : {}), filters: options.filters });
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error("connect ECONNREFUSED /var/run/docker.sock"), { code: "ECONNREFUSED" });
    }
    const stream = new PassThrough();
    options.abortSignal?.addEventListener("abort", () => stream.destroy());
    this.streams.push(stream);
    for (const w of this.waiters.splice(0)) w();
    return stream;
  }

  async nextStream(count: number): Promise<PassThrough> {
    while (this.streams.length < count) await new Promise<void>((r) => this.waiters.push(r));
    return this.streams[count - 1]!;
  }
}

function event(taskId: string, action: string, time: number, extra: Record<string, string> = {}): string {
  return (
    JSON.stringify({
      Type: "container",
      Action: action,
      Actor: { ID: `c-${taskId}`, Attributes: { "com.shoal.task.id": taskId, name: `web.1.${taskId}`, ...extra } },
      time,
      timeNano: time * 1e9,
    }) + "\n"
  );
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe("DockerEventStream", () => {
  let stream: DockerEventStream | undefined;
  afterEach(async () => {
    await stream?.close();
  });

  function make(docker: StubDocker, nodeId?: string): DockerEventStream {
    stream = new DockerEventStream(docker as unknown as ConstructorParameters<typeof DockerEventStream>[0], {
      logger: silentLogger(),
      backoff: { initialMs: 1, maxMs: 5, jitter: 0 },
      ...(nodeId !== undefined ? { nodeId } : {}),
    });
    return stream;
  }

  it("asks only for the watched actions of task containers (of its node)", async () => {
    const docker = new StubDocker();
    make(docker, "node-7").subscribeAll(() => {});
    await docker.nextStream(1);
    expect(docker.calls[0]!.filters).toEqual({
      type: ["container"],
      label: ["com.shoal.task.id", "com.shoal.node.id=node-7"],
      event: ["create", "start", "die", "oom", "kill", "stop", "destroy", "health_status"],
    });
  });

  it("fans events out by task id, across chunk boundaries", async () => {
    const docker = new StubDocker();
    const s = make(docker);
    const a: DockerEvent[] = [];
    const b: DockerEvent[] = [];
    const all: string[] = [];
    s.subscribeTask("a", { onEvent: (e) => a.push(e), onResync: () => {} });
    s.subscribeTask("b", { onEvent: (e) => b.push(e), onResync: () => {} });
    s.subscribeAll((e) => all.push(`${e.taskId}:${e.action}`));
    const out = await docker.nextStream(1);
    const text =
      event("a", "start", 100) + event("b", "die", 101, { exitCode: "3" }) + event("a", "health_status: healthy", 102);
    out.write(text.slice(0, 50));
    out.write(text.slice(50));
    await tick();
    expect(a.map((e) => e.action)).toEqual(["start", "health_status: healthy"]);
    expect(b.map((e) => [e.action, e.attributes["exitCode"], e.containerId])).toEqual([["die", "3", "c-b"]]);
    expect(all).toEqual(["a:start", "b:die", "a:health_status: healthy"]);
  });

  it("stops calling a listener once unsubscribed, and skips junk lines", async () => {
    const docker = new StubDocker();
    const s = make(docker);
    const got: string[] = [];
    const off = s.subscribeTask("a", { onEvent: (e) => got.push(e.action), onResync: () => {} });
    const out = await docker.nextStream(1);
    out.write("not json\n" + event("a", "start", 1));
    await tick();
    off();
    out.write(event("a", "die", 2));
    await tick();
    expect(got).toEqual(["start"]);
  });

  it("reconnects after the stream ends, replays since the last event and tells subscribers to resync", async () => {
    const docker = new StubDocker();
    const s = make(docker);
    let resyncs = 0;
    s.subscribeTask("a", { onEvent: () => {}, onResync: () => resyncs++ });
    const first = await docker.nextStream(1);
    await s.ready();
    expect(resyncs).toBe(1);
    first.write(event("a", "start", 1_700_000_123));
    await tick();
    first.end();
    docker.failNext = 2; // the daemon is restarting
    await docker.nextStream(2);
    await s.ready();
    expect(docker.calls).toHaveLength(4);
    expect(docker.calls.slice(1).map((c) => c.since)).toEqual([1_700_000_123, 1_700_000_123, 1_700_000_123]);
    expect(resyncs).toBe(2);
    expect(s.connections).toBe(2);
  });

  it("starts a second before now on the first connection", async () => {
    const docker = new StubDocker();
    const before = Math.floor(Date.now() / 1000) - 1;
    make(docker).subscribeAll(() => {});
    await docker.nextStream(1);
    expect(docker.calls[0]!.since).toBeGreaterThanOrEqual(before);
    expect(docker.calls[0]!.since).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it("ready() waits for a connection and honours its signal", async () => {
    const docker = new StubDocker();
    docker.failNext = 1000;
    const s = make(docker);
    const abort = new AbortController();
    const ready = s.ready(abort.signal);
    abort.abort(new Error("gave up"));
    await expect(ready).rejects.toThrow("gave up");
    expect(s.isConnected).toBe(false);
  });

  it("close() ends the loop and is idempotent", async () => {
    const docker = new StubDocker();
    const s = make(docker);
    s.subscribeAll(() => {});
    await docker.nextStream(1);
    await s.close();
    await s.close();
    await tick();
    expect(docker.calls).toHaveLength(1);
  });
});
