import { describe, expect, it } from "vitest";
import { LogStream, type LogMessage } from "@shoal/shared";
import { formatLine, frame, parseRfc3339Nano, rfc3339Nano } from "../../src/dockerapi/log-frames.js";

const line: LogMessage = {
  context: { nodeId: "n1", serviceId: "s1", taskId: "t1" },
  timestamp: { seconds: 1_795_940_115, nanos: 791_178_452 },
  stream: LogStream.STDERR,
  data: Buffer.from("err 4\n"),
};

describe("Docker's log stream format", () => {
  it("writes times as Go's RFC3339Nano, trailing zeros dropped", () => {
    expect(rfc3339Nano(line.timestamp)).toBe("2026-11-29T08:15:15.791178452Z");
    expect(rfc3339Nano({ seconds: 1_795_940_115, nanos: 500_000_000 })).toBe("2026-11-29T08:15:15.5Z");
    expect(rfc3339Nano({ seconds: 1_795_940_115, nanos: 0 })).toBe("2026-11-29T08:15:15Z");
    expect(parseRfc3339Nano("2026-11-29T08:15:15.791178452Z")).toEqual(line.timestamp);
  });

  it("frames a line with its stream and length, timestamps and details first when asked", () => {
    const payload = formatLine(line, { timestamps: true, details: true });
    expect(payload.toString()).toBe(
      "2026-11-29T08:15:15.791178452Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 err 4\n",
    );
    const f = frame(LogStream.STDERR, formatLine(line, { timestamps: false, details: false }));
    expect([...f.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 6]);
    expect(f.subarray(8).toString()).toBe("err 4\n");
    expect(frame(LogStream.STDOUT, Buffer.alloc(0))[0]).toBe(1);
  });
});
