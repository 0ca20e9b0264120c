import { TaskSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { containerSpecLines } from "../../src/output/container-pretty.js";

describe("containerSpecLines", () => {
  it("shows what is set, and nothing for a plain spec", () => {
    expect(containerSpecLines(TaskSpec.fromPartial({ container: { image: "x:1" } }))).toEqual([]);
    const t = TaskSpec.fromPartial({
      container: {
        image: "x:1",
        hostname: "{{.Node.Hostname}}",
        init: false,
        capabilityAdd: ["CAP_NET_ADMIN"],
        ulimits: [{ name: "nofile", soft: 1, hard: 2 }],
        dnsConfig: { nameservers: ["10.0.0.53"] },
      },
      logDriver: { name: "json-file", options: { "max-size": "1m" } },
      resources: { limits: { pids: 9 } },
    });
    expect(containerSpecLines(t)).toEqual([
      " Hostname:\t{{.Node.Hostname}}",
      " Init:\t\tfalse",
      " Capability Add:\tCAP_NET_ADMIN",
      " Ulimits:\tnofile=1:2",
      " DNS:\t10.0.0.53",
      " PIDs Limit:\t9",
      "Log Driver:",
      " Name:\t\tjson-file",
      "  max-size:\t1m",
    ]);
  });
});
