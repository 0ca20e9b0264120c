import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ownerAlive, tryHostLock } from "../../../src/network/dataplane/host-lock.js";

const dirs: string[] = [];
function lockPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "shoal-lock-"));
  dirs.push(dir);
  return join(dir, "dataplane.lock");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that is certainly dead: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync("true").pid ?? 999_999_999;
}

describe("host lock", () => {
  it("is held by the first taker only, until released", () => {
    const path = lockPath();
    const first = tryHostLock(path);
    expect(first).toBeDefined();
    expect(readFileSync(path, "utf8")).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    expect(tryHostLock(path)).toBeUndefined();
    first?.release();
    first?.release();
    const second = tryHostLock(path);
    expect(second).toBeDefined();
    second?.release();
  });

  it("is taken over when its owner is dead, or when its pid now runs another process", () => {
    const path = lockPath();
    writeFileSync(path, `${deadPid()} 12345\n`);
    const taken = tryHostLock(path);
    expect(taken).toBeDefined();
    taken?.release();
    writeFileSync(path, `${process.pid} 1\n`); // our pid, but not our start time
    expect(ownerAlive(readFileSync(path, "utf8"))).toBe(false);
    expect(tryHostLock(path)).toBeDefined();
  });
});
