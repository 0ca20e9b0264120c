import { InvalidArgumentError, Mount, MountType, ServiceSpec, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { validateMounts } from "../../src/controlapi/validate-mounts.js";
import { validateServiceSpec } from "../../src/controlapi/validate-service.js";

const F = "spec.task_template.container.mounts";
const mounts = (...m: DeepPartial<Mount>[]): Mount[] => m.map((x) => Mount.fromPartial(x));

/** The field the first error names, or undefined when the mounts are accepted. */
function fieldOf(...m: DeepPartial<Mount>[]): string | undefined {
  try {
    validateMounts(mounts(...m), F);
    return undefined;
  } catch (err: unknown) {
    if (err instanceof InvalidArgumentError) return err.field;
    throw err;
  }
}

const bind = (source: string, target = "/data"): DeepPartial<Mount> => ({ type: MountType.BIND, source, target });
const volume = (source: string, target = "/data"): DeepPartial<Mount> => ({ type: MountType.VOLUME, source, target });
const tmpfs = (target = "/tmp/x"): DeepPartial<Mount> => ({ type: MountType.TMPFS, target });

describe("validateMounts", () => {
  it("accepts each type with its options", () => {
    expect(
      fieldOf(
        { ...bind("/srv/www", "/www"), readOnly: true, bindOptions: { propagation: "rshared", nonRecursive: true } },
        {
          ...volume("db-data", "/var/lib/db"),
          consistency: "delegated",
          volumeOptions: {
            noCopy: true,
            labels: { "com.docker.stack.namespace": "app" },
            driverConfig: { name: "local", options: { type: "nfs", o: "addr=10.0.0.1" } },
          },
        },
        volume("", "/cache"),
        { ...tmpfs("/run/x"), tmpfsOptions: { sizeBytes: 1 << 20, mode: 0o1777 } },
      ),
    ).toBeUndefined();
  });

  it("accepts templates in sources and targets", () => {
    expect(fieldOf(volume("data-{{.Task.Slot}}", "/data/{{.Service.Name}}"))).toBeUndefined();
    expect(fieldOf(bind("/srv/{{.Node.Hostname}}"))).toBeUndefined();
  });

  it.each([
    ["a relative target", [volume("v1", "data")], `${F}[0].target`],
    ["an empty target", [tmpfs("")], `${F}[0].target`],
    ["the root as target", [volume("v1", "/")], `${F}[0].target`],
    ["a target used twice", [volume("v1", "/a"), tmpfs("/b"), bind("/x", "/a/")], `${F}[2].target`],
    ["a relative bind source", [bind("data")], `${F}[0].source`],
    ["an empty bind source", [bind("")], `${F}[0].source`],
    ["a path as volume name", [volume("/srv/data")], `${F}[0].source`],
    ["a volume name with a bad character", [volume("my vol")], `${F}[0].source`],
    ["a one-character volume name", [volume("a")], `${F}[0].source`],
    ["a volume name starting with '-'", [volume("-v")], `${F}[0].source`],
    ["a tmpfs with a source", [{ ...tmpfs(), source: "x" }], `${F}[0].source`],
    ["an unknown type", [{ type: 7 as MountType, target: "/x" }], `${F}[0].type`],
    ["an unknown consistency", [{ ...tmpfs(), consistency: "eventual" }], `${F}[0].consistency`],
    ["bind options on a volume", [{ ...volume("v1"), bindOptions: {} }], `${F}[0].bind_options`],
    ["volume options on a bind", [{ ...bind("/x"), volumeOptions: {} }], `${F}[0].volume_options`],
    ["tmpfs options on a volume", [{ ...volume("v1"), tmpfsOptions: {} }], `${F}[0].tmpfs_options`],
    [
      "an unknown propagation",
      [{ ...bind("/x"), bindOptions: { propagation: "everywhere" } }],
      `${F}[0].bind_options.propagation`,
    ],
    [
      "a label key with a space",
      [{ ...volume("v1"), volumeOptions: { labels: { "a b": "c" } } }],
      `${F}[0].volume_options.labels`,
    ],
    [
      "a driver option without a name",
      [{ ...volume("v1"), volumeOptions: { driverConfig: { name: "local", options: { "": "x" } } } }],
      `${F}[0].volume_options.driver_config.options`,
    ],
    ["a tmpfs mode over 0o7777", [{ ...tmpfs(), tmpfsOptions: { mode: 0o10000 } }], `${F}[0].tmpfs_options.mode`],
    ["a negative tmpfs size", [{ ...tmpfs(), tmpfsOptions: { sizeBytes: -1 } }], `${F}[0].tmpfs_options.size_bytes`],
  ])("refuses %s", (_what, m, field) => {
    expect(fieldOf(...m)).toBe(field);
  });

  it("lets another volume driver have its own names, but never a path", () => {
    const named = (source: string): DeepPartial<Mount> => ({
      ...volume(source),
      volumeOptions: { driverConfig: { name: "rexray/ebs" } },
    });
    expect(fieldOf(named("a"))).toBeUndefined();
    expect(fieldOf(named("/dev/xvdf"))).toBe(`${F}[0].source`);
  });

  it("runs as part of a service spec's validation, naming the mount", () => {
    const spec = ServiceSpec.fromPartial({
      annotations: { name: "web" },
      taskTemplate: { container: { image: "busybox:1", mounts: [tmpfs("/t"), bind("relative/path")] } },
    });
    expect(() => validateServiceSpec(spec)).toThrow(
      `${F}[1].source: a bind mount needs an absolute path on the node, not "relative/path"`,
    );
  });
});
