import type { ServerResponse } from "node:http";
import {
  ContainerOp,
  Event,
  EventAction,
  EventType,
  LogStream,
  type ContainerCallOpen,
  type ContainerCallResponse,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import type { ContainerCalls } from "../../src/containers/container-calls-client.js";
import { SseStream, eventView, logLine, streamStats, tailParam } from "../../src/dashboard/streams.js";

function recorder(): { sse: SseStream; events: () => { event: string; data: unknown }[] } {
  let text = "";
  const res = { write: (chunk: string) => ((text += chunk), true) } as unknown as ServerResponse;
  return {
    sse: new SseStream(res),
    events: () =>
      text
        .split("\n\n")
        .filter(Boolean)
        .map((block) => {
          const [e, d] = block.split("\n");
          return { event: e!.slice(7), data: JSON.parse(d!.slice(6)) as unknown };
        }),
  };
}

const SAMPLE = {
  cpu_stats: { cpu_usage: { total_usage: 400 }, system_cpu_usage: 2000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 200 }, system_cpu_usage: 1000 },
  memory_stats: { usage: 1000, limit: 4000 },
  networks: { eth0: { rx_bytes: 5, tx_bytes: 7 } },
  pids_stats: { current: 3 },
};

describe("dashboard streams", () => {
  it("stats: one stats call per task container, each sample summarised as docker stats does", async () => {
    const opened: ContainerCallOpen[] = [];
    const calls: ContainerCalls = {
      open: (open) => {
        opened.push(open);
        const json = (v: unknown): ContainerCallResponse => ({
          output: { $case: "json", value: Buffer.from(JSON.stringify(v)) },
        });
        return {
          responses: (async function* () {
            yield {
              output: {
                $case: "started",
                value: { taskId: open.container, nodeId: "n", containerId: "c", serviceId: "s", execId: "" },
              },
            };
            yield json(SAMPLE);
          })(),
          write: () => {},
          end: () => {},
        };
      },
    };
    const { sse, events } = recorder();
    await streamStats(
      sse,
      calls,
      [
        { taskId: "t1", containerId: "c1" },
        { taskId: "t2", containerId: "c2" },
      ],
      () => 0,
      new AbortController().signal,
    );
    expect(opened.map((o) => [o.container, o.op, o.stats?.stream])).toEqual([
      ["t1", ContainerOp.STATS, true],
      ["t2", ContainerOp.STATS, true],
    ]);
    expect(events()).toEqual(
      ["t1", "t2"].map((t, i) => ({
        event: "stats",
        data: {
          time: "1970-01-01T00:00:00.000Z",
          taskId: t,
          containerId: `c${i + 1}`,
          cpuPercent: 40,
          memoryBytes: 1000,
          memoryLimitBytes: 4000,
          networkRxBytes: 5,
          networkTxBytes: 7,
          blockReadBytes: 0,
          blockWriteBytes: 0,
          pids: 3,
        },
      })),
    );
  });

  it("a failed stats call is an error event for its task, the others go on", async () => {
    const calls: ContainerCalls = {
      open: () => ({
        responses: {
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("the agent's session ended")) }),
        },
        write: () => {},
        end: () => {},
      }),
    };
    const { sse, events } = recorder();
    await streamStats(sse, calls, [{ taskId: "t1", containerId: "c1" }], () => 0, new AbortController().signal);
    expect(events()).toEqual([{ event: "error", data: { taskId: "t1", message: "the agent's session ended" } }]);
  });

  it("log lines and events as the page reads them; tail is checked", () => {
    expect(
      logLine({
        context: { serviceId: "s", nodeId: "n", taskId: "t" },
        timestamp: { seconds: 1, nanos: 500 },
        stream: LogStream.STDERR,
        data: Buffer.from("oops\n"),
      }),
    ).toEqual({ time: "1970-01-01T00:00:01.0000005Z", taskId: "t", nodeId: "n", stream: "stderr", line: "oops" });
    expect(
      eventView(
        Event.fromPartial({
          type: EventType.SERVICE,
          action: EventAction.UPDATE,
          id: "s",
          name: "web",
          time: new Date(0),
          changes: [{ field: "replicas", old: "1", new: "2" }],
        }),
      ),
    ).toEqual({
      time: "1970-01-01T00:00:00.000Z",
      type: "service",
      action: "update",
      id: "s",
      name: "web",
      changes: [{ field: "replicas", old: "1", new: "2" }],
      attributes: {},
    });
    expect(tailParam(null)).toBe(100);
    expect(tailParam("all")).toBe(-1);
    expect(() => tailParam("x")).toThrow(/tail/);
  });
});
