import type { SecretSpec } from "@shoal/shared";
import { ErrorCode, ServiceSpec, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/state/store/index.js";
import { createConfig, getConfig, listConfigs, removeConfig } from "../../src/controlapi/configs.js";
import { createSecret, getSecret, listSecrets, removeSecret, updateSecret } from "../../src/controlapi/secrets.js";
import { createService, updateService } from "../../src/controlapi/services.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const spec = (name: string, data = "hunter2", labels: Record<string, string> = {}): SecretSpec => ({
  annotations: { name, labels },
  data: bytes(data),
});
const NO_FILTERS = { names: [], namePrefixes: [], idPrefixes: [], labels: {} };

const service = (container: DeepPartial<NonNullable<ServiceSpec["taskTemplate"]>["container"]>): ServiceSpec =>
  ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { container: { image: "shoal-base:1", ...container } },
    mode: { $case: "replicated", value: { replicas: 1 } },
  });

describe("secrets in the Control API", () => {
  it("creates, gets (by id, id prefix, name), lists and removes a secret, never returning its data", async () => {
    const store = new MemoryStore();
    const created = (await createSecret(store, { spec: spec("db-password", "hunter2", { team: "a" }) })).secret!;
    expect(created.id).not.toBe("");
    expect(created.spec?.data.length).toBe(0);
    expect(created.spec?.annotations?.name).toBe("db-password");
    // The store has the data.
    expect(Buffer.from(store.view((tx) => tx.secrets.get(created.id)!.spec!.data)).toString()).toBe("hunter2");

    for (const ref of [created.id, created.id.slice(0, 5), "db-password"]) {
      const got = getSecret(store, { secretId: ref }).secret!;
      expect(got.id).toBe(created.id);
      expect(got.spec?.data.length).toBe(0);
    }
    await createSecret(store, { spec: spec("api-key", "k") });
    const all = listSecrets(store, { filters: undefined }).secrets;
    expect(all.map((s) => s.spec?.annotations?.name)).toEqual(["api-key", "db-password"]);
    expect(all.every((s) => s.spec?.data.length === 0)).toBe(true);
    expect(
      listSecrets(store, { filters: { ...NO_FILTERS, names: ["api-key"] } }).secrets.map(
        (s) => s.spec?.annotations?.name,
      ),
    ).toEqual(["api-key"]);
    expect(listSecrets(store, { filters: { ...NO_FILTERS, labels: { team: "a" } } }).secrets).toHaveLength(1);

    await removeSecret(store, { secretId: "db-password" });
    expect(() => getSecret(store, { secretId: "db-password" })).toThrow(/not found/);
  });

  it("refuses a bad name, empty data, data at the size limit and a taken name, naming the field", async () => {
    const store = new MemoryStore();
    await expect(createSecret(store, { spec: spec("-bad") })).rejects.toThrow("spec.annotations.name");
    await expect(createSecret(store, { spec: spec("a".repeat(65)) })).rejects.toThrow("spec.annotations.name");
    await expect(createSecret(store, { spec: spec("empty", "") })).rejects.toThrow("spec.data");
    await expect(createSecret(store, { spec: spec("big", "x".repeat(500 * 1024)) })).rejects.toThrow("spec.data");
    await expect(createSecret(store, { spec: spec("bad-label", "x", { "a b": "1" }) })).rejects.toThrow(
      "spec.annotations.labels",
    );
    await createSecret(store, { spec: spec("ok.name_1-x", "x".repeat(500 * 1024 - 1)) });
    await expect(createSecret(store, { spec: spec("ok.name_1-x") })).rejects.toMatchObject({
      code: ErrorCode.AlreadyExists,
    });
    expect(store.view((tx) => tx.secrets.find().length)).toBe(1);
  });

  it("lets only the labels change", async () => {
    const store = new MemoryStore();
    const s = (await createSecret(store, { spec: spec("tls", "key") })).secret!;
    const updated = (
      await updateSecret(store, {
        secretId: s.id,
        secretVersion: s.meta?.version,
        spec: { annotations: { name: "tls", labels: { rotated: "no" } }, data: new Uint8Array() },
      })
    ).secret!;
    expect(updated.spec?.annotations?.labels).toEqual({ rotated: "no" });
    expect(updated.spec?.data.length).toBe(0);
    expect(Buffer.from(store.view((tx) => tx.secrets.get(s.id)!.spec!.data)).toString()).toBe("key");
    await expect(
      updateSecret(store, { secretId: s.id, secretVersion: updated.meta?.version, spec: spec("tls2", "") }),
    ).rejects.toThrow("spec.annotations.name");
    await expect(
      updateSecret(store, { secretId: s.id, secretVersion: updated.meta?.version, spec: spec("tls", "other") }),
    ).rejects.toThrow("spec.data");
    await expect(
      updateSecret(store, { secretId: s.id, secretVersion: s.meta?.version, spec: spec("tls", "") }),
    ).rejects.toMatchObject({ code: ErrorCode.SequenceConflict });
  });

  it("configs: the data is returned, and the limit is 1000 KiB", async () => {
    const store = new MemoryStore();
    const c = (await createConfig(store, { spec: spec("app.conf", "x".repeat(600 * 1024)) })).config!;
    expect(c.spec?.data.length).toBe(600 * 1024);
    expect(getConfig(store, { configId: "app.conf" }).config?.spec?.data.length).toBe(600 * 1024);
    expect(listConfigs(store, { filters: undefined }).configs[0]?.spec?.data.length).toBe(600 * 1024);
    await expect(createConfig(store, { spec: spec("huge", "x".repeat(1000 * 1024)) })).rejects.toThrow("spec.data");
  });
});

describe("services using secrets and configs", () => {
  it("resolves references by name with Swarm's defaults, and refuses to remove what is in use", async () => {
    const store = new MemoryStore();
    const s = (await createSecret(store, { spec: spec("db-password") })).secret!;
    const c = (await createConfig(store, { spec: spec("app.conf", "a=1") })).config!;
    const svc = (
      await createService(store, {
        spec: service({
          secrets: [
            { secretName: "db-password" },
            { secretId: s.id, file: { name: "/etc/pw", uid: "33", mode: 0o400 } },
          ],
          configs: [{ configName: "app.conf" }],
        }),
      })
    ).service!;
    const container = svc.spec?.taskTemplate?.container;
    expect(container?.secrets).toEqual([
      { secretId: s.id, secretName: "db-password", file: { name: "db-password", uid: "0", gid: "0", mode: 0o444 } },
      { secretId: s.id, secretName: "db-password", file: { name: "/etc/pw", uid: "33", gid: "0", mode: 0o400 } },
    ]);
    expect(container?.configs).toEqual([
      { configId: c.id, configName: "app.conf", file: { name: "app.conf", uid: "0", gid: "0", mode: 0o444 } },
    ]);

    await expect(removeSecret(store, { secretId: "db-password" })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("service web"),
    });
    await expect(removeConfig(store, { configId: c.id })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
    });

    // --secret-rm: the service lets go, and the secret can go.
    await updateService(store, {
      serviceId: svc.id,
      serviceVersion: svc.meta?.version,
      spec: service({ configs: [{ configName: "app.conf" }] }),
      rollback: false,
    });
    await removeSecret(store, { secretId: "db-password" });
    expect(store.view((tx) => tx.secrets.find())).toHaveLength(0);
  });

  it("refuses an unknown secret, a shared target and a bad mode, creating nothing", async () => {
    const store = new MemoryStore();
    await createSecret(store, { spec: spec("a") });
    await createSecret(store, { spec: spec("b") });
    await expect(createService(store, { spec: service({ secrets: [{ secretName: "nope" }] }) })).rejects.toThrow(
      "spec.task_template.container.secrets[0]",
    );
    await expect(
      createService(store, {
        spec: service({ secrets: [{ secretName: "a" }, { secretName: "b", file: { name: "a" } }] }),
      }),
    ).rejects.toThrow("spec.task_template.container.secrets[1]");
    await expect(
      createService(store, { spec: service({ secrets: [{ secretName: "a", file: { name: "a", mode: 0o1000 } }] }) }),
    ).rejects.toThrow("spec.task_template.container.secrets[0].file.mode");
    await expect(
      createService(store, { spec: service({ configs: [{ configName: "x", file: { uid: "www" } }] }) }),
    ).rejects.toThrow("spec.task_template.container.configs[0].file.uid");
    await expect(createService(store, { spec: service({ configs: [{}] }) })).rejects.toThrow(
      "spec.task_template.container.configs[0]",
    );
    expect(store.view((tx) => tx.services.find())).toHaveLength(0);
  });
});
