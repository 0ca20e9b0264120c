import { describe, expect, it } from "vitest";
import { LogStream, type LogMessage } from "@shoal/shared";
import { byteBatches } from "../../src/logs/log-publisher.js";

const line = (n: number, bytes: number): LogMessage => ({
  context: { serviceId: "s", nodeId: "n", taskId: `t${n}` },
  timestamp: { seconds: n, nanos: 0 },
  stream: LogStream.STDOUT,
  data: new Uint8Array(bytes),
});

describe("byteBatches", () => {
  it("cuts lines into batches of at most the byte bound, in order, a longer line alone", () => {
    const lines = [line(1, 400), line(2, 400), line(3, 400), line(4, 2000), line(5, 10)];
    const batches = byteBatches(lines, 1000);
    expect(batches.map((b) => b.map((l) => l.timestamp!.seconds))).toEqual([[1, 2], [3], [4], [5]]);
    expect(batches.flat()).toEqual(lines);
  });

  it("keeps a 10 MB burst of lines under 1 MiB per message", () => {
    const lines = Array.from({ length: 10 * 1024 }, (_, i) => line(i, 1024));
    const batches = byteBatches(lines);
    expect(batches).toHaveLength(10);
    expect(Math.max(...batches.map((b) => b.reduce((n, l) => n + l.data.byteLength, 0)))).toBe(1024 * 1024);
  });
});
