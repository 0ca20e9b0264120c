// The built command, as a user runs it (the bundle that `pnpm build` writes).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "@shoal/shared";

const run = promisify(execFile);
const shoal = fileURLToPath(new URL("../../../node_modules/.bin/shoal", import.meta.url));

async function shoalRun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(shoal, args);
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("shoal command", () => {
  beforeAll(() => {
    if (!existsSync(shoal)) throw new Error(`${shoal} is missing: run scripts/setup.sh (it installs and builds)`);
  });

  it("prints its version", async () => {
    const result = await shoalRun("--version");
    expect(result).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it("lists its commands in --help", async () => {
    const result = await shoalRun("--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: shoal/);
    expect(result.stdout).toContain("version");
  });

  it("refuses an unknown command with a hint and a non-zero exit", async () => {
    const result = await shoalRun("frobnicate");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});
