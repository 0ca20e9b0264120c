import { describe, expect, it } from "vitest";
import { FrameReader, frame } from "../../../src/network/dns/tcp-frames.js";

describe("tcp frames", () => {
  it("puts the length in front of a message", () => {
    expect([...frame(Buffer.from([7, 8, 9]))]).toEqual([0, 3, 7, 8, 9]);
  });

  it("splits a stream cut anywhere into its messages", () => {
    const stream = Buffer.concat([frame(Buffer.from("first")), frame(Buffer.from("")), frame(Buffer.from("second"))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new FrameReader();
      const messages = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(messages.map((m) => m.toString())).toEqual(["first", "", "second"]);
    }
  });
});
