import { describe, expect, it } from "vitest";
import { Mount, MountType } from "@shoal/shared";
import { csvFields, parseMount, parseMounts } from "../../src/commands/mount-flags.js";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags } from "../../src/commands/service-update-spec.js";
import { createFlags, updateFlags } from "./service-flags.js";

describe("--mount", () => {
  it("reads a named volume with its driver, options, labels and no-copy, as the docker CLI does", () => {
    const m = parseMount(
      "type=volume,source=data,target=/data,volume-driver=local,volume-opt=type=nfs,volume-opt=o=addr=10.0.0.1," +
        "volume-label=team=blue,volume-nocopy",
    );
    expect(m).toEqual(
      Mount.fromPartial({
        type: MountType.VOLUME,
        source: "data",
        target: "/data",
        volumeOptions: {
          noCopy: true,
          labels: { team: "blue" },
          driverConfig: { name: "local", options: { type: "nfs", o: "addr=10.0.0.1" } },
        },
      }),
    );
  });

  it("takes src/dst/destination, ro/readonly with or without a value, and defaults to a volume", () => {
    expect(parseMount("src=data,dst=/d,ro")).toMatchObject({
      type: MountType.VOLUME,
      source: "data",
      target: "/d",
      readOnly: true,
    });
    expect(parseMount("source=data,destination=/d,readonly=false").readOnly).toBe(false);
    expect(parseMount("target=/d,readonly=1").readOnly).toBe(true);
    expect(parseMount("Type=Volume,Target=/d")).toMatchObject({ type: MountType.VOLUME, target: "/d" });
  });

  it("reads a bind with its propagation and a tmpfs with its size and octal mode", () => {
    expect(parseMount("type=bind,source=/srv,target=/srv,bind-propagation=rshared,bind-nonrecursive")).toMatchObject({
      type: MountType.BIND,
      bindOptions: { propagation: "rshared", nonRecursive: true },
    });
    expect(parseMount("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770,consistency=cached")).toMatchObject({
      type: MountType.TMPFS,
      source: "",
      consistency: "cached",
      tmpfsOptions: { sizeBytes: 64 * 1024 * 1024, mode: 0o1770 },
    });
  });

  it("reads quoted CSV fields, as Go's encoding/csv", () => {
    expect(csvFields('type=bind,"source=/a,b",target=/x', "--mount")).toEqual([
      "type=bind",
      "source=/a,b",
      "target=/x",
    ]);
    expect(csvFields('"volume-label=say=""hi"""', "--mount")).toEqual(['volume-label=say="hi"']);
    expect(parseMount('type=bind,"src=/my,dir",dst=/d').source).toBe("/my,dir");
  });

  it.each([
    ["type=volume,source=x", "--mount: target is required"],
    ["type=npipe,target=/x", '--mount: mount type "npipe" is not supported (bind, volume or tmpfs)'],
    ["type=bind,source=/x,target=/x,volume-nocopy", "--mount: cannot mix 'volume-*' options with mount type 'bind'"],
    ["type=volume,target=/x,bind-propagation=shared", "--mount: cannot mix 'bind-*' options with mount type 'volume'"],
    ["type=volume,target=/x,tmpfs-size=1m", "--mount: cannot mix 'tmpfs-*' options with mount type 'volume'"],
    ["type=tmpfs,target=/x,tmpfs-mode=0999", "--mount: invalid value for tmpfs-mode: 0999"],
    ["type=tmpfs,target=/x,tmpfs-size=lots", '--mount: "lots" is not a size'],
    ["target=/x,readonly=maybe", "--mount: invalid value for readonly: maybe"],
    ["target=/x,colour=red", "--mount: unexpected key 'colour' in 'colour=red'"],
    ["target=/x,shared", "--mount: invalid field 'shared' must be a key=value pair"],
    ['target=/x,"src=a', "--mount: unterminated quote"],
  ])("refuses %s", (value, message) => {
    expect(() => parseMount(value)).toThrow(message);
  });

  it("refuses two mounts on one target", () => {
    expect(() => parseMounts(["target=/a", "type=tmpfs,target=/a"])).toThrow("--mount: duplicate mount target /a");
  });

  it("puts the mounts in the created service's container spec", () => {
    const spec = buildServiceSpec("app:1", [], createFlags({ mount: ["type=volume,src=data,dst=/data"] }));
    expect(spec.taskTemplate?.container?.mounts).toEqual([
      Mount.fromPartial({ type: MountType.VOLUME, source: "data", target: "/data" }),
    ]);
  });
});

describe("--mount-add and --mount-rm", () => {
  const current = buildServiceSpec(
    "app:1",
    [],
    createFlags({ mount: ["src=data,dst=/data", "type=tmpfs,dst=/tmp/x", "type=bind,src=/etc/app,dst=/etc/app,ro"] }),
  );
  const targets = (flags: Parameters<typeof updateFlags>[0]): string[] =>
    applySpecEdit(current, parseUpdateFlags(updateFlags(flags))).taskTemplate!.container!.mounts.map(
      (m) => `${m.target}:${m.source}`,
    );

  it("change nothing when not given", () => {
    expect(applySpecEdit(current, parseUpdateFlags(updateFlags()))).toEqual(current);
  });

  it("remove by target, replace a mount of the same target in place, and add the others last", () => {
    expect(targets({ mountRm: ["/tmp/x"] })).toEqual(["/data:data", "/etc/app:/etc/app"]);
    expect(targets({ mountAdd: ["src=other,dst=/data", "src=logs,dst=/logs"] })).toEqual([
      "/data:other",
      "/tmp/x:",
      "/etc/app:/etc/app",
      "/logs:logs",
    ]);
  });

  it("are checked before anything is sent", () => {
    expect(() => parseUpdateFlags(updateFlags({ mountAdd: ["type=volume"] }))).toThrow(
      "--mount-add: target is required",
    );
    expect(() => parseUpdateFlags(updateFlags({ mountRm: [""] }))).toThrow("--mount-rm: an empty target");
  });
});
