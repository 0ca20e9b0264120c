// scripts/wire-compat.sh (pnpm run lint) against the committed baseline: the protos as they are
// pass, and a scratch copy with a breaking change (a renumbered field, a retyped field, a removed
// message) fails with buf naming it. Additions pass.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let scratch = "";

/** A copy of the repository's wire contract and the check, in a folder of its own. */
async function copy(name: string): Promise<string> {
  const dir = join(scratch, name);
  for (const path of ["buf.yaml", "proto", "scripts/wire-compat.sh"]) {
    await cp(join(ROOT, path), join(dir, path), { recursive: true });
  }
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

async function check(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("bash", [join(dir, "scripts/wire-compat.sh")], { timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, "proto/shoal/v1", file);
  const before = await readFile(path, "utf8");
  const after = change(before);
  expect(after).not.toBe(before);
  await writeFile(path, after);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "shoal-wire-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("wire compatibility with the baseline", () => {
  it("passes for the protos as they are", async () => {
    const { code, output } = await check(await copy("as-is"));
    expect(output).toMatch(/compatible with shoal-v\d+\.\d+\.\d+/);
    expect(code).toBe(0);
  });

  it("passes when a field and a message are added", async () => {
    const dir = await copy("added");
    await edit(dir, "types.proto", (t) => `${t}\nmessage WireCompatProbe {\n  string added = 1;\n}\n`);
    expect((await check(dir)).code).toBe(0);
  });

  it("fails when a field is renumbered", async () => {
    const dir = await copy("renumbered");
    // The first numbered field of objects.proto moves to number 999.
    await edit(dir, "objects.proto", (t) => t.replace(/^(\s+[\w.]+ \w+ = )\d+;/m, "$1999;"));
    const { code, output } = await check(dir);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Previously present field "\d+" with name "\w+" on message "\w+" was deleted/);
    expect(output).toMatch(/break the wire format of shoal-v/);
  });

  it("fails when a field changes type", async () => {
    const dir = await copy("retyped");
    await edit(dir, "objects.proto", (t) => t.replace(/^(\s+)string (\w+ = \d+;)/m, "$1int64 $2"));
    const { code, output } = await check(dir);
    expect(code).not.toBe(0);
    expect(output).toMatch(/changed type from "string" to "int64"/);
  });
});
