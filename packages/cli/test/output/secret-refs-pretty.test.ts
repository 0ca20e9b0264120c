import { describe, expect, it } from "vitest";
import { ContainerSpec } from "@shoal/shared";
import { secretRefLines } from "../../src/output/secret-refs-pretty.js";

describe("service inspect --pretty: secrets and configs", () => {
  it("lists each target and source, the owner and mode when not the defaults", () => {
    const c = ContainerSpec.fromPartial({
      secrets: [
        { secretId: "s1", secretName: "pw", file: { name: "pw", uid: "0", gid: "0", mode: 0o444 } },
        { secretId: "s1", secretName: "pw", file: { name: "copy", uid: "33", gid: "0", mode: 0o400 } },
      ],
      configs: [{ configId: "c1", configName: "app.conf", file: { name: "/etc/app.conf" } }],
    });
    expect(secretRefLines(c)).toEqual([
      "Secrets:",
      " Target:\tpw",
      "  Source:\tpw",
      " Target:\tcopy",
      "  Source:\tpw",
      "  Owner:\t33:0, mode 0400",
      "Configs:",
      " Target:\t/etc/app.conf",
      "  Source:\tapp.conf",
    ]);
    expect(secretRefLines(ContainerSpec.fromPartial({}))).toEqual([]);
  });
});
