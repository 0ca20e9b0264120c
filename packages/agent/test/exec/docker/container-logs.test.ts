import { describe, expect, it } from "vitest";
import { LogStream } from "@shoal/shared";
import { FrameParser, splitTimestamp } from "../../../src/exec/docker/container-logs.js";

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("reading Docker's log stream", () => {
  it("splits frames across chunk boundaries and keeps stdout and stderr apart", () => {
    const bytes = Buffer.concat([
      frame(1, "2026-11-29T08:35:15.791178452Z hello\n"),
      frame(2, "2026-11-29T08:35:15.8Z err\n"),
    ]);
    const parser = new FrameParser();
    const first = parser.push(bytes.subarray(0, 13));
    const rest = parser.push(bytes.subarray(13));
    expect(first).toEqual([]);
    expect(rest.map((f) => f.stream)).toEqual([LogStream.STDOUT, LogStream.STDERR]);
    expect(rest.map((f) => f.payload.toString())).toEqual([
      "2026-11-29T08:35:15.791178452Z hello\n",
      "2026-11-29T08:35:15.8Z err\n",
    ]);
  });

  it("takes Docker's time off the front of a line, with its nanoseconds", () => {
    const { timestamp, data } = splitTimestamp(Buffer.from("2026-11-29T08:35:15.8Z err 1\n"));
    expect(timestamp).toEqual({ seconds: Date.parse("2026-11-29T08:35:15Z") / 1000, nanos: 800_000_000 });
    expect(data.toString()).toBe("err 1\n");
    expect(splitTimestamp(Buffer.from("no time here\n")).timestamp).toBeUndefined();
  });
});
