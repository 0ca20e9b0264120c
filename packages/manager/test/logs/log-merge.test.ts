import { describe, expect, it } from "vitest";
import { LogStream, type LogMessage } from "@shoal/shared";
import { mergeByTime } from "../../src/logs/log-merge.js";

const at = (task: string, seconds: number, nanos: number, text: string): LogMessage => ({
  context: { nodeId: "n", serviceId: "s", taskId: task },
  timestamp: { seconds, nanos },
  stream: LogStream.STDOUT,
  data: Buffer.from(text),
});

describe("merging log lines of several tasks", () => {
  it("orders by Docker's nanosecond time, keeping arrival order on ties (docker/cli#4976)", () => {
    const a1 = at("a", 10, 5, "a1");
    const a2 = at("a", 10, 5, "a2");
    const b1 = at("b", 10, 4, "b1");
    const b2 = at("b", 11, 0, "b2");
    const a3 = at("a", 10, 999_999_999, "a3");
    expect(mergeByTime([a1, a2, a3, b1, b2]).map((m) => Buffer.from(m.data).toString())).toEqual([
      "b1",
      "a1",
      "a2",
      "a3",
      "b2",
    ]);
  });
});
