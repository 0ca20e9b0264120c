import { Cluster, ClusterSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { redacted } from "../../src/controlapi/clusters.js";
import { clusterUnlockKey, getUnlockKey, rotateUnlockKey, unlockKeyFor } from "../../src/controlapi/unlock-key.js";
import { MemoryStore } from "../../src/state/store/index.js";

const on = ClusterSpec.fromPartial({ encryptionConfig: { autoLockManagers: true } });
const off = ClusterSpec.fromPartial({ encryptionConfig: { autoLockManagers: false } });

describe("unlock key", () => {
  it("is made when autolock turns on, kept while it stays on, dropped when it turns off", () => {
    const c = Cluster.fromPartial({ id: "c1", spec: off });
    const made = unlockKeyFor(c, on);
    expect(made.byteLength).toBe(32);
    expect(unlockKeyFor({ ...c, spec: on, unlockKey: made }, on)).toBe(made);
    expect(unlockKeyFor({ ...c, spec: on, unlockKey: made }, off).byteLength).toBe(0);
    expect(unlockKeyFor(c, undefined).byteLength).toBe(0);
    expect(clusterUnlockKey({ ...c, spec: on, unlockKey: made })).toBe(made);
    expect(clusterUnlockKey({ ...c, spec: off, unlockKey: made })).toBeUndefined();
  });

  it("GetUnlockKey shows it as SWMKEY-1-...; RotateUnlockKey replaces it; both refused when autolock is off", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: "c1", spec: off })));
    expect(() => getUnlockKey(store)).toThrow(/autolock is off/);
    await expect(rotateUnlockKey(store)).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });

    await store.update((tx) => {
      const c = tx.clusters.get("c1")!;
      tx.clusters.update({ ...c, spec: on, unlockKey: unlockKeyFor(c, on) });
    });
    const first = getUnlockKey(store).unlockKey;
    expect(first).toMatch(/^SWMKEY-1-[A-Za-z0-9_-]{43}$/);
    const rotated = (await rotateUnlockKey(store)).unlockKey;
    expect(rotated).not.toBe(first);
    expect(getUnlockKey(store).unlockKey).toBe(rotated);
  });

  it("never leaves the store through Get/List/Update: redacted() blanks it, with or without a CA", () => {
    const key = unlockKeyFor(Cluster.fromPartial({ id: "c1" }), on);
    const plain = redacted(Cluster.fromPartial({ id: "c1", spec: on, unlockKey: key }));
    expect(plain.unlockKey.byteLength).toBe(0);
    const withCa = redacted(
      Cluster.fromPartial({
        id: "c1",
        spec: on,
        unlockKey: key,
        rootCa: { caCert: new Uint8Array([1]), caKey: new Uint8Array([2]) },
      }),
    );
    expect(withCa.unlockKey.byteLength).toBe(0);
    expect(withCa.rootCa?.caKey.byteLength).toBe(0);
  });
});
