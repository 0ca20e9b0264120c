import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { autolockFlag, readUnlockKey, unlockKeyText } from "../../src/commands/unlock.js";

describe("shoal cluster update --autolock / manager unlock helpers", () => {
  it("reads --autolock, --autolock=true and --autolock=false, and refuses anything else", () => {
    expect(autolockFlag(true)).toBe(true);
    expect(autolockFlag("true")).toBe(true);
    expect(autolockFlag("false")).toBe(false);
    expect(() => autolockFlag("yes")).toThrow(/--autolock.*expected true or false/);
  });

  it("shows the key with how to use it", () => {
    const text = unlockKeyText("SWMKEY-1-abc");
    expect(text).toContain("    SWMKEY-1-abc\n");
    expect(text).toContain("shoal manager unlock");
  });

  it("reads the key from --key-file, trimmed; an empty file is refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-unlock-cli-"));
    try {
      await writeFile(join(dir, "k"), "  SWMKEY-1-abc\n");
      expect(await readUnlockKey(join(dir, "k"))).toBe("SWMKEY-1-abc");
      await writeFile(join(dir, "empty"), "\n");
      await expect(readUnlockKey(join(dir, "empty"))).rejects.toThrow(/no unlock key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
