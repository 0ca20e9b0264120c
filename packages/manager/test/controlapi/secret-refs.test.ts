import { describe, expect, it } from "vitest";
import { Config, Secret, ServiceSpec, type DeepPartial } from "@shoal/shared";
import { resolveSecretRefs, validateSecretRefs } from "../../src/controlapi/secret-refs.js";
import { MemoryStore } from "../../src/state/store/index.js";

type Container = DeepPartial<NonNullable<ServiceSpec["taskTemplate"]>["container"]>;
const spec = (container: Container): ServiceSpec =>
  ServiceSpec.fromPartial({ annotations: { name: "web" }, taskTemplate: { container: { image: "x", ...container } } });

async function store(): Promise<MemoryStore> {
  const s = new MemoryStore();
  await s.update((tx) => {
    tx.secrets.create(
      Secret.fromPartial({ id: "s1", spec: { annotations: { name: "pw" }, data: new Uint8Array([1]) } }),
    );
    tx.configs.create(
      Config.fromPartial({ id: "c1", spec: { annotations: { name: "conf" }, data: new Uint8Array([1]) } }),
    );
  });
  return s;
}

describe("secret and config references", () => {
  it("resolve by name or id, with the file named as the object, 0:0, 0444 where left out", async () => {
    const s = await store();
    const out = s.view((tx) =>
      resolveSecretRefs(
        tx,
        spec({
          secrets: [{ secretName: "pw" }, { secretId: "s1", file: { name: "b", gid: "5" } }],
          configs: [{ configName: "conf", file: { mode: 0o600 } }],
        }),
      ),
    );
    const c = out.taskTemplate!.container!;
    expect(c.secrets).toEqual([
      { secretId: "s1", secretName: "pw", file: { name: "pw", uid: "0", gid: "0", mode: 0o444 } },
      { secretId: "s1", secretName: "pw", file: { name: "b", uid: "0", gid: "5", mode: 0o444 } },
    ]);
    expect(c.configs).toEqual([
      { configId: "c1", configName: "conf", file: { name: "conf", uid: "0", gid: "0", mode: 0o600 } },
    ]);
  });

  it("refuse an unknown object and a target used twice, naming the reference", async () => {
    const s = await store();
    expect(() => s.view((tx) => resolveSecretRefs(tx, spec({ configs: [{ configName: "pw" }] })))).toThrow(
      'spec.task_template.container.configs[0]: config "pw" not found',
    );
    expect(() =>
      s.view((tx) => resolveSecretRefs(tx, spec({ secrets: [{ secretName: "pw" }, { secretId: "s1" }] }))),
    ).toThrow("spec.task_template.container.secrets[1]");
  });

  it("check their form: an object named, numeric owners, a mode up to 0777, no '..'", () => {
    const t = (c: Container) => spec(c).taskTemplate;
    expect(() =>
      validateSecretRefs(t({ secrets: [{ secretName: "a", file: { name: "a", mode: 0o777 } }] })),
    ).not.toThrow();
    expect(() => validateSecretRefs(t({ secrets: [{ file: { name: "a" } }] }))).toThrow("secrets[0]");
    expect(() => validateSecretRefs(t({ secrets: [{ secretName: "a", file: { gid: "root" } }] }))).toThrow(
      "secrets[0].file.gid",
    );
    expect(() => validateSecretRefs(t({ configs: [{ configName: "a", file: { name: "../etc/x" } }] }))).toThrow(
      "configs[0].file.name",
    );
  });
});
