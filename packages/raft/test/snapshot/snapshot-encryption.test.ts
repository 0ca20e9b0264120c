// Snapshot files sealed with a data key: round trip, wrong key, tampering and corruption.
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataKey, KeyRing } from "../../src/crypto/data-key.js";
import type { Snapshot } from "../../src/index.js";
import { decodeSnapshotFile, encodeSnapshotFile, snapshotKeyId } from "../../src/snapshot/snapshot-codec.js";
import { SnapshotStore } from "../../src/snapshot/snapshot-store.js";
import { DiskKeyError } from "../../src/wal/errors.js";
import { captureLogger, tempDir } from "../wal/helpers.js";

function snap(index: number, term: number): Snapshot {
  return {
    data: new TextEncoder().encode(`secret-service-name@${index} `.repeat(20)),
    metadata: { index, term, confState: { voters: [1, 2, 3] } },
  };
}

describe("sealed snapshot files", () => {
  it("round-trip; the file names its key and holds nothing in clear", () => {
    const key = DataKey.generate();
    const file = Buffer.concat(encodeSnapshotFile(snap(9, 2), key));
    expect(file.includes("secret-service-name")).toBe(false);
    expect(snapshotKeyId(file)).toBe(key.id);
    expect(snapshotKeyId(Buffer.concat(encodeSnapshotFile(snap(9, 2), undefined)))).toBe("clear");
    expect(decodeSnapshotFile(file, new KeyRing(key))).toEqual({ ...snap(9, 2), data: expect.anything() });
    expect(Buffer.from(decodeSnapshotFile(file, new KeyRing(key)).data).toString()).toBe(
      Buffer.from(snap(9, 2).data).toString(),
    );
  });

  it("detects every flipped byte; with the CRC fixed, authentication still fails", () => {
    const key = DataKey.generate();
    const ring = new KeyRing(key);
    const file = Buffer.concat(encodeSnapshotFile(snap(9, 2), key));
    for (let at = 0; at < file.length; at += 5) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x02;
      expect(() => decodeSnapshotFile(bad, ring)).toThrow();
      if (at >= 8) {
        bad.writeUInt32LE(crc32(bad.subarray(8)), 4);
        expect(() => decodeSnapshotFile(bad, ring)).toThrow();
      }
    }
  });

  it("the store refuses a file under another key (DiskKeyError), and skips a tampered one", async () => {
    const dir = join(await tempDir("shoal-snap-"), "snap");
    const key = DataKey.generate();
    const store = new SnapshotStore(dir, { keys: new KeyRing(key) });
    await store.save(snap(10, 1));
    const newest = await store.save(snap(20, 1));
    expect(await store.keyIdsInUse()).toEqual(new Set([key.id]));
    for (const n of await readdir(dir)) expect((await readFile(join(dir, n))).includes("secret")).toBe(false);

    const wrong = new SnapshotStore(dir, { keys: new KeyRing(DataKey.generate()) });
    await expect(wrong.load()).rejects.toBeInstanceOf(DiskKeyError);
    await expect(new SnapshotStore(dir).load()).rejects.toMatchObject({ code: "ERR_DISK_KEY", keyId: key.id });

    const file = join(dir, newest);
    const bytes = await readFile(file);
    bytes[bytes.length - 40]! ^= 1;
    bytes.writeUInt32LE(crc32(bytes.subarray(8)), 4);
    await writeFile(file, bytes);
    const logger = captureLogger();
    const loaded = await new SnapshotStore(dir, { keys: new KeyRing(key), logger }).load();
    expect(loaded?.metadata.index).toBe(10);
    expect(logger.warnings()[0]?.fields?.["reason"]).toMatch(/fails authentication/);
  });
});
