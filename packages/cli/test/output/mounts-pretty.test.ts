import { describe, expect, it } from "vitest";
import { MountType, Service } from "@shoal/shared";
import { prettyService } from "../../src/output/service-pretty.js";

describe("service inspect --pretty with mounts", () => {
  it("lists each mount's target, source, read-only flag and type, as docker does", () => {
    const service = Service.fromPartial({
      id: "abc",
      spec: {
        annotations: { name: "db" },
        taskTemplate: {
          container: {
            image: "db:1",
            mounts: [
              { type: MountType.VOLUME, source: "data", target: "/data" },
              { type: MountType.BIND, source: "/etc/db", target: "/etc/db", readOnly: true },
            ],
          },
        },
      },
    });
    expect(prettyService(service, 0)).toContain(
      "Mounts:\n Target:\t/data\n  Source:\tdata\n  ReadOnly:\tfalse\n  Type:\t\tvolume\n" +
        " Target:\t/etc/db\n  Source:\t/etc/db\n  ReadOnly:\ttrue\n  Type:\t\tbind\n",
    );
  });

  it("shows no Mounts section without mounts", () => {
    const service = Service.fromPartial({ spec: { taskTemplate: { container: { image: "x:1" } } } });
    expect(prettyService(service, 0)).not.toContain("Mounts:");
  });
});
