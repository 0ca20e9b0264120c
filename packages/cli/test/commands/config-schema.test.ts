import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { checkValue, configSchema, didYouMean } from "../../src/commands/config-schema.js";
import { collect } from "../../src/commands/service-spec.js";

function daemon(name: "manager" | "agent"): Command {
  return buildProgram().commands.find((c) => c.name() === name)!;
}

describe("configSchema", () => {
  it("has a key per long flag of shoal manager, without dashes, and not --config", () => {
    const schema = configSchema(daemon("manager"));
    expect([...schema.keys()]).toEqual(
      expect.arrayContaining(["data-dir", "listen", "advertise", "join", "token", "log-level", "unsafe-no-fsync"]),
    );
    expect(schema.has("config")).toBe(false);
    expect(schema.get("data-dir")).toMatchObject({ attribute: "dataDir", type: "string", placeholder: "dir" });
    expect(schema.get("unsafe-no-fsync")).toMatchObject({ type: "boolean", placeholder: undefined });
  });

  it("types a repeatable flag as a list", () => {
    expect(configSchema(daemon("agent")).get("label")).toMatchObject({ type: "list", placeholder: "k=v" });
  });

  it("follows flags added later with no other code: a new option is a key at once", () => {
    const cmd = new Command("x")
      .option("--tls-dir <dir>", "certificates")
      .option("--no-color", "plain output")
      .option("--tag <t>", "repeatable", collect, [] as string[]);
    const schema = configSchema(cmd);
    expect(schema.get("tls-dir")).toMatchObject({ attribute: "tlsDir", type: "string" });
    expect(schema.get("color")).toMatchObject({ attribute: "color", type: "boolean" });
    expect(schema.get("tag")?.type).toBe("list");
  });
});

describe("checkValue", () => {
  const schema = configSchema(daemon("agent"));
  const check = (key: string, raw: unknown): unknown => checkValue(schema.get(key)!, raw, "/etc/shoal");

  it("takes addresses as a list or as one string with commas", () => {
    expect(check("manager", ["10.0.0.1:4242", "10.0.0.2:4242"])).toEqual({ value: "10.0.0.1:4242,10.0.0.2:4242" });
    expect(check("manager", "10.0.0.1:4242")).toEqual({ value: "10.0.0.1:4242" });
    expect(check("manager", ["10.0.0.1"])).toEqual({
      problem: { key: "manager", message: expect.stringContaining('"10.0.0.1" is not HOST:PORT addresses') },
    });
  });

  it("resolves a relative folder against the file's folder", () => {
    expect(check("data-dir", "agent")).toEqual({ value: "/etc/shoal/agent" });
    expect(check("data-dir", "/var/lib/shoal/agent")).toEqual({ value: "/var/lib/shoal/agent" });
  });

  it("names the expected type and the flag", () => {
    expect(check("log-level", true)).toEqual({
      problem: { key: "log-level", message: "expected a string (as --log-level <level> takes), not boolean true" },
    });
    expect(check("log-level", "loud")).toEqual({
      problem: { key: "log-level", message: expect.stringMatching(/^"loud" is not a log level: fatal, error/) },
    });
    expect(check("label", "zone=a")).toMatchObject({ problem: { message: /expected a list of strings/ } });
    expect(check("label", ["zone"])).toMatchObject({ problem: { message: /"zone" is not KEY=VALUE pairs/ } });
    expect(check("token", "")).toMatchObject({ problem: { message: /is empty/ } });
  });

  it("takes a number for a string flag as its text", () => {
    const cmd = new Command("x").option("--period <ms>", "heartbeat period");
    expect(checkValue(configSchema(cmd).get("period")!, 500, "/")).toEqual({ value: "500" });
  });

  it("runs the option's own parser and reports what it throws", () => {
    const cmd = new Command("x").option("--n <n>", "a number", (v: string) => {
      if (!/^\d+$/.test(v)) throw new Error(`"${v}" is not a whole number`);
      return v;
    });
    expect(checkValue(configSchema(cmd).get("n")!, "x", "/")).toEqual({
      problem: { key: "n", message: '"x" is not a whole number' },
    });
  });
});

describe("didYouMean", () => {
  const keys = ["data-dir", "listen", "advertise", "metrics-addr", "log-level"];
  it("suggests the key of a typo or of camelCase", () => {
    expect(didYouMean("listn", keys)).toBe("listen");
    expect(didYouMean("dataDir", keys)).toBe("data-dir");
    expect(didYouMean("metrics_addr", keys)).toBe("metrics-addr");
    expect(didYouMean("advertize", keys)).toBe("advertise");
  });
  it("suggests nothing far off", () => {
    expect(didYouMean("replicas", keys)).toBeUndefined();
  });
});
