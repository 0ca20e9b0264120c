// `shoal agent --data-path-addr`: an IPv4 address, refused otherwise with the flag named.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";

/** The agent command's options for a command line, with its action replaced. */
async function agentOptions(argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  let seen: Record<string, unknown> = {};
  for (const c of program.commands) c.action((opts: Record<string, unknown>) => void (seen = opts));
  await program.parseAsync(["agent", "--manager", "m:1", "--data-dir", "/d", ...argv], { from: "user" });
  return seen;
}

describe("shoal agent --data-path-addr", () => {
  it("takes an IPv4 address; without the flag the session's address is used (unset)", async () => {
    expect((await agentOptions(["--data-path-addr", "192.168.56.10"]))["dataPathAddr"]).toBe("192.168.56.10");
    expect((await agentOptions([]))["dataPathAddr"]).toBeUndefined();
  });

  it("refuses anything else, naming the flag", async () => {
    for (const bad of ["10.0.0.256", "node-1", "10.0.0.1:4789", "fd00::1", ""]) {
      await expect(agentOptions(["--data-path-addr", bad])).rejects.toThrow(
        /^--data-path-addr: ".*" is not an IPv4 address/,
      );
    }
  });

  it("is checked the same in a config file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-dpa-"));
    try {
      const file = join(dir, "agent.json");
      await writeFile(file, JSON.stringify({ "data-path-addr": "host-a" }));
      await expect(agentOptions(["--config", file])).rejects.toThrow(/"data-path-addr": .*is not an IPv4 address/);
      await writeFile(file, JSON.stringify({ "data-path-addr": "10.1.2.3" }));
      expect((await agentOptions(["--config", file]))["dataPathAddr"]).toBe("10.1.2.3");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
