import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { componentLogger, createLogger, isLogLevel } from "@shoal/shared";

function capture(isTTY = false): { stream: PassThrough & { isTTY?: boolean }; lines: () => string[] } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = isTTY;
  const chunks: string[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stream, lines: () => chunks.join("").split("\n").filter(Boolean) };
}

describe("createLogger", () => {
  it("writes JSON lines with the base fields and the component of a child", () => {
    const out = capture();
    const root = createLogger({ destination: out.stream, base: { node: "n1" } });
    componentLogger(root, "dispatcher", { session: "s1" }).info({ tasks: 3 }, "assigned");
    const line = JSON.parse(out.lines()[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ node: "n1", component: "dispatcher", session: "s1", tasks: 3, msg: "assigned" });
  });

  it("drops lines below the configured level", () => {
    const out = capture();
    const log = createLogger({ destination: out.stream, level: "warn" });
    log.info("hidden");
    log.warn("shown");
    expect(out.lines().map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["shown"]);
  });

  it("prints human-readable lines on a terminal and JSON elsewhere", () => {
    const tty = capture(true);
    createLogger({ destination: tty.stream }).info("hello");
    expect(tty.lines()[0]).toContain("hello");
    expect(() => JSON.parse(tty.lines()[0]!) as unknown).toThrow();
  });

  it("writes secrets of logged objects (CA key, unlock key, join tokens) as [redacted]", () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    const cluster = {
      id: "c1",
      rootCa: { caCert: "CERT", caKey: "PRIVATE", rootRotation: { caKey: "PRIVATE2" } },
      rootJoinTokens: { worker: "SWMTKN-1-a-b", manager: "SWMTKN-1-c-d" },
      unlockKey: "SWMKEY-1-xyz",
    };
    log.info({ cluster, token: "SWMTKN-1-e-f" }, "cluster");
    const text = out.lines()[0]!;
    for (const secret of ["PRIVATE", "SWMTKN", "SWMKEY"]) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ cluster: { id: "c1", rootCa: { caCert: "CERT", caKey: "[redacted]" } } });
  });

  it("writes a secret's data as [redacted], wherever a logged request or object holds it", () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    const spec = { annotations: { name: "pw" }, data: "hunter2" };
    log.info({ request: { spec }, secret: { id: "s1", spec } }, "secret");
    const text = out.lines()[0]!;
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toMatchObject({ secret: { id: "s1", spec: { data: "[redacted]" } } });
  });

  it("knows the level names", () => {
    expect(isLogLevel("debug")).toBe(true);
    expect(isLogLevel("loud")).toBe(false);
  });
});
