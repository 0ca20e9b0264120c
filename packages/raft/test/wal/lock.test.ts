import { spawn } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Wal, WalLockedError } from "../../src/wal/index.js";
import { captureLogger, tempDir } from "./helpers.js";

describe("WAL directory lock", () => {
  it("refuses a second open in the same process, naming the directory", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const err = await Wal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalLockedError);
    expect(err).toMatchObject({ code: "ERR_DISK_LOCKED", dir, holderPid: process.pid });
    expect((err as Error).message).toContain(dir);
    await wal.close();
    expect(await readdir(dir)).not.toContain(".lock");
    const again = await Wal.open(dir);
    await again.wal.close();
  });

  it("refuses a directory locked by another live process", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const start = (await readFile(`/proc/${child.pid}/stat`, "utf8").catch(() => "")).split(") ")[1]?.split(" ")[19];
      await writeFile(join(dir, ".lock"), `pid=${child.pid} start=${start ?? ""}\n`);
      const err = await Wal.open(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WalLockedError);
      expect((err as Error).message).toMatch(new RegExp(`${dir}.*held by process ${child.pid}`));
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("takes over the lock of a process that died", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    await writeFile(join(dir, ".lock"), `pid=${child.pid} start=123\n`);
    const logger = captureLogger();
    const { wal } = await Wal.open(dir, { logger });
    expect(logger.warnings().map((w) => w.msg)).toEqual(["taking over a stale write-ahead log lock"]);
    expect(await readFile(join(dir, ".lock"), "utf8")).toMatch(new RegExp(`^pid=${process.pid} `));
    await wal.close();
  });

  it("takes over a lock whose pid now belongs to a process started later (pid reuse)", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      await writeFile(join(dir, ".lock"), `pid=${child.pid} start=1\n`);
      const { wal } = await Wal.open(dir);
      await wal.close();
    } finally {
      child.kill("SIGKILL");
    }
  });
});
