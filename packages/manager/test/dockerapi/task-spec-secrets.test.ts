import { describe, expect, it } from "vitest";
import { ContainerSpec } from "@shoal/shared";
import { fromDockerSecretRefs, toDockerSecretRefs } from "../../src/dockerapi/task-spec-secrets.js";

describe("ContainerSpec.Secrets and Configs", () => {
  it("map both ways, the mode as Go's FileMode number", () => {
    const docker = {
      Secrets: [{ File: { Name: "pw", UID: "0", GID: "0", Mode: 292 }, SecretID: "s1", SecretName: "pw" }],
      Configs: [{ File: { Name: "/etc/a", UID: "33", GID: "33", Mode: 0o440 }, ConfigID: "c1", ConfigName: "a" }],
    };
    const refs = fromDockerSecretRefs(docker);
    expect(refs.secrets).toEqual([
      { secretId: "s1", secretName: "pw", file: { name: "pw", uid: "0", gid: "0", mode: 0o444 } },
    ]);
    expect(refs.configs[0]?.file?.mode).toBe(0o440);
    expect(toDockerSecretRefs(ContainerSpec.fromPartial(refs))).toEqual(docker);
  });

  it("leave out what is not there, and refuse a config as a runtime target naming it", () => {
    expect(fromDockerSecretRefs({})).toEqual({ secrets: [], configs: [] });
    expect(toDockerSecretRefs(ContainerSpec.fromPartial({}))).toEqual({});
    expect(() => fromDockerSecretRefs({ Configs: [{ Runtime: {}, ConfigName: "cred" }] })).toThrow(
      "TaskTemplate.ContainerSpec.Configs[0].Runtime",
    );
    expect(() => fromDockerSecretRefs({ Secrets: [{ File: { Mode: 1.5 }, SecretName: "x" }] })).toThrow(
      "TaskTemplate.ContainerSpec.Secrets[0].File.Mode",
    );
  });
});
