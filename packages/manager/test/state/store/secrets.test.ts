import { Config, ErrorCode, Secret } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/state/store/index.js";
import { makeCluster, makeService } from "./fixtures.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const secret = (id: string, name: string, data = "s3cr3t"): Secret =>
  Secret.fromPartial({ id, spec: { annotations: { name, labels: { team: "web" } }, data: bytes(data) } });
const config = (id: string, name: string, data = "port=80"): Config =>
  Config.fromPartial({ id, spec: { annotations: { name }, data: bytes(data) } });

describe("MemoryStore: the secrets and configs tables", () => {
  it("keeps secrets and configs by id and by name", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.secrets.create(secret("s1", "db-password"));
      tx.configs.create(config("c1", "nginx.conf"));
    });
    store.view((tx) => {
      expect(tx.secrets.find({ name: "db-password" }).map((s) => s.id)).toEqual(["s1"]);
      expect(Buffer.from(tx.secrets.get("s1")!.spec!.data).toString()).toBe("s3cr3t");
      expect(tx.configs.find({ idPrefix: "c" }).map((c) => c.id)).toEqual(["c1"]);
      expect(tx.secrets.get("c1")).toBeUndefined();
    });
  });

  it("refuses a second secret of the same name, but a config may share a secret's name", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.secrets.create(secret("s1", "shared")));
    await expect(store.update((tx) => tx.secrets.create(secret("s2", "shared")))).rejects.toMatchObject({
      code: ErrorCode.AlreadyExists,
    });
    await store.update((tx) => tx.configs.create(config("c1", "shared")));
    await expect(store.update((tx) => tx.configs.create(config("c2", "shared")))).rejects.toMatchObject({
      code: ErrorCode.AlreadyExists,
    });
    expect(store.view((tx) => tx.secrets.find().length + tx.configs.find().length)).toBe(2);
  });

  it("hands out copies whose data does not share bytes with the store's", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.secrets.create(secret("s1", "a", "abc")));
    const copy = store.view((tx) => tx.secrets.get("s1")!);
    copy.spec!.data[0] = 0x7a;
    expect(Buffer.from(store.view((tx) => tx.secrets.get("s1")!.spec!.data)).toString()).toBe("abc");
  });

  it("round-trips secrets and configs through a snapshot, and restores a snapshot without them", async () => {
    const old = new MemoryStore();
    await old.update((tx) => {
      tx.clusters.create(makeCluster("default", "k1"));
      tx.services.create(makeService("web", "v1"));
    });
    const before = old.save();

    const store = new MemoryStore();
    store.restore(before);
    // A state without secrets encodes as before the tables existed.
    expect(Buffer.from(store.save()).equals(Buffer.from(before))).toBe(true);
    await store.update((tx) => {
      tx.secrets.create(secret("s1", "db-password", "x".repeat(1000)));
      tx.configs.create(config("c1", "nginx.conf"));
    });
    const copy = new MemoryStore();
    copy.restore(store.save());
    expect(Buffer.from(copy.save()).equals(Buffer.from(store.save()))).toBe(true);
    copy.view((tx) => {
      expect(tx.secrets.get("s1")?.spec?.annotations?.labels).toEqual({ team: "web" });
      expect(tx.secrets.get("s1")?.spec?.data.length).toBe(1000);
      expect(Buffer.from(tx.configs.get("c1")!.spec!.data).toString()).toBe("port=80");
      expect(tx.services.get("v1")).toBeDefined();
    });
  });
});
