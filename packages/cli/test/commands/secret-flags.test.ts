import { describe, expect, it } from "vitest";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags } from "../../src/commands/service-update-spec.js";
import { parseFileRef } from "../../src/commands/secret-flags.js";
import { createFlags, updateFlags } from "./service-flags.js";

describe("--secret and --config", () => {
  it("take a name, or docker's source=,target=,uid=,gid=,mode= with the mode in octal", () => {
    expect(parseFileRef("db-password", "--secret")).toEqual({ source: "db-password", file: undefined });
    expect(parseFileRef("source=db,target=/etc/pw,uid=33,gid=34,mode=0400", "--secret")).toEqual({
      source: "db",
      file: { name: "/etc/pw", uid: "33", gid: "34", mode: 0o400 },
    });
    expect(parseFileRef("src=db,mode=440", "--secret").file?.mode).toBe(0o440);
    expect(() => parseFileRef("source=db,mode=0999", "--secret")).toThrow("--secret");
    expect(() => parseFileRef("source=db,uid=www", "--secret")).toThrow("--secret");
    expect(() => parseFileRef("target=/x", "--config")).toThrow("names no source");
    expect(() => parseFileRef("source=db,color=red", "--secret")).toThrow('unknown key "color"');
  });

  it("service create puts the references in the container spec (the manager resolves them)", () => {
    const spec = buildServiceSpec(
      "shoal-base:1",
      [],
      createFlags({ secret: ["a", "source=b,target=bee"], config: ["c"] }),
    );
    const c = spec.taskTemplate!.container!;
    expect(c.secrets).toEqual([
      { secretId: "", secretName: "a", file: undefined },
      { secretId: "", secretName: "b", file: { name: "bee", uid: "", gid: "", mode: 0 } },
    ]);
    expect(c.configs).toEqual([{ configId: "", configName: "c", file: undefined }]);
  });

  it("service update: --secret-rm by name or id, --secret-add for the same target replaces it", () => {
    const current = buildServiceSpec("shoal-base:1", [], createFlags({ secret: ["a", "b"] }));
    // As the manager stores them: resolved, with ids and targets.
    current.taskTemplate!.container!.secrets = [
      { secretId: "id-a", secretName: "a", file: { name: "a", uid: "0", gid: "0", mode: 0o444 } },
      { secretId: "id-b", secretName: "b", file: { name: "b", uid: "0", gid: "0", mode: 0o444 } },
    ];
    const next = applySpecEdit(
      current,
      parseUpdateFlags(updateFlags({ secretRm: ["id-a"], secretAdd: ["source=b2,target=b", "c"] })),
    );
    expect(next.taskTemplate!.container!.secrets.map((r) => [r.secretName, r.file?.name ?? r.secretName])).toEqual([
      ["b2", "b"],
      ["c", "c"],
    ]);
    const none = applySpecEdit(current, parseUpdateFlags(updateFlags({})));
    expect(none).toEqual(current);
  });
});
