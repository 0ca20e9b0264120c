import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { ConfigFileError, checkConfig, flagsGiven, parseConfig, renderConfig } from "../../src/commands/config-file.js";
import { configSchema } from "../../src/commands/config-schema.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Parses a command line of `shoal` with the daemon's action replaced: returns its options. */
async function optionsOf(argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  let seen: Record<string, unknown> = {};
  for (const c of program.commands) c.action((opts: Record<string, unknown>) => void (seen = opts));
  await program.parseAsync(argv, { from: "user" });
  return seen;
}

function errorOf(fn: () => unknown): ConfigFileError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof ConfigFileError) return err;
    throw err;
  }
  throw new Error("no error");
}

const managerSchema = configSchema(buildProgram().commands.find((c: Command) => c.name() === "manager")!);

describe("parseConfig", () => {
  it("names the file, each bad key and what was expected, all at once", () => {
    const text = JSON.stringify({
      "data-dir": "/d",
      listn: "0.0.0.0:1",
      "log-level": "loud",
      "unsafe-no-fsync": "yes",
    });
    const err = errorOf(() => parseConfig(text, "/etc/shoal/manager.json", managerSchema));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.file).toBe("/etc/shoal/manager.json");
    expect(err.problems.map((p) => p.key)).toEqual(["listn", "log-level", "unsafe-no-fsync"]);
    expect(err.message).toMatch(/^config file \/etc\/shoal\/manager.json: 3 problems:\n/);
    expect(err.message).toContain('"listn": unknown key (did you mean "listen"?)');
    expect(err.message).toContain('"log-level": "loud" is not a log level');
    expect(err.message).toContain('"unsafe-no-fsync": expected true or false, not string "yes"');
  });

  it("says where the JSON is broken", () => {
    const err = errorOf(() => parseConfig('{\n  "listen": "a:1",\n}\n', "m.json", managerSchema));
    expect(err.message).toMatch(/^config file m.json: not valid JSON: .*(line 3)/);
  });

  it("wants an object", () => {
    expect(() => parseConfig("[1]", "m.json", managerSchema)).toThrow(/expected a JSON object of settings/);
  });

  it("round-trips what renderConfig writes, keys in --help order", () => {
    const values = checkConfig(
      { listen: "0.0.0.0:4242", "data-dir": "/var/lib/shoal/manager" },
      "m.json",
      managerSchema,
    );
    const text = renderConfig(values, managerSchema);
    expect(text).toBe('{\n  "data-dir": "/var/lib/shoal/manager",\n  "listen": "0.0.0.0:4242"\n}\n');
    expect(parseConfig(text, "m.json", managerSchema)).toEqual(values);
  });
});

describe("flagsGiven", () => {
  it("finds long flags, --no- ones, --config in both spellings, up to --", () => {
    expect(flagsGiven(["--config", "f.json", "--listen=a:1", "--no-x", "v", "--", "--y"])).toEqual({
      keys: new Set(["config", "listen", "x"]),
      config: "f.json",
    });
    expect(flagsGiven(["--config=g.json"]).config).toBe("g.json");
  });
});

describe("shoal manager | agent --config FILE", () => {
  it("takes required flags and every other from the file", async () => {
    const file = join(dir, "manager.json");
    await writeFile(file, JSON.stringify({ "data-dir": "state", listen: "10.0.0.1:4242", "unsafe-no-fsync": true }));
    expect(await optionsOf(["manager", "--config", file])).toMatchObject({
      dataDir: join(dir, "state"),
      listen: "10.0.0.1:4242",
      unsafeNoFsync: true,
      logLevel: "info",
    });
  });

  it("lets flags win over the file, lists included", async () => {
    const file = join(dir, "agent.json");
    await writeFile(
      file,
      JSON.stringify({
        manager: ["10.0.0.1:4242"],
        "data-dir": "/a",
        label: ["zone=a", "disk=ssd"],
        "log-level": "warn",
      }),
    );
    expect(await optionsOf(["agent", "--log-level", "debug", "--config", file, "--label", "zone=b"])).toMatchObject({
      manager: "10.0.0.1:4242",
      dataDir: "/a",
      logLevel: "debug",
      label: ["zone=b"],
    });
    expect(await optionsOf(["agent", `--config=${file}`])).toMatchObject({ label: ["zone=a", "disk=ssd"] });
  });

  it("refuses to run with a bad file, naming it", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ "data-dir": "/d", listen: "nowhere" }));
    await expect(optionsOf(["manager", "--config", file])).rejects.toThrow(
      `config file ${file}: "listen": "nowhere" is not a HOST:PORT address (as --listen <addr> takes)`,
    );
    await expect(optionsOf(["manager", "--config", join(dir, "missing.json")])).rejects.toThrow(/: no such file$/);
  });
});
