// ContainerSpec.Mounts through the Docker API: decoded as Docker decodes it, mapped both ways,
// bad values refused naming the Docker field.
import { MountType, type Mount, type ServiceSpec } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { SERVICE_SPEC_SHAPE, type DockerServiceSpec } from "../../src/dockerapi/docker-types.js";
import { decodeShape } from "../../src/dockerapi/json-shape.js";
import { fromDockerServiceSpec, toDockerServiceSpec } from "../../src/dockerapi/service-spec.js";
import { fromDockerMounts, toDockerMounts, type DockerMount } from "../../src/dockerapi/task-spec-mounts.js";
import { UNMAPPED_LABEL } from "../../src/dockerapi/unmapped-fields.js";

/** As `docker stack deploy` and `docker service create --mount` send them. */
const MOUNTS: DockerMount[] = [
  {
    Type: "volume",
    Source: "app_data",
    Target: "/data",
    VolumeOptions: {
      Labels: { "com.docker.stack.namespace": "app" },
      DriverConfig: { Name: "local", Options: { type: "nfs", o: "addr=10.0.0.1" } },
    },
  },
  { Type: "volume", Source: "cache", Target: "/cache", ReadOnly: true, VolumeOptions: { NoCopy: true } },
  { Type: "bind", Source: "/srv/www", Target: "/www", BindOptions: { Propagation: "rslave", NonRecursive: true } },
  { Type: "tmpfs", Target: "/run/x", Consistency: "delegated", TmpfsOptions: { SizeBytes: 1048576, Mode: 448 } },
  { Type: "volume", Target: "/anon" },
  // docker stack deploy: a top-level volume with driver_opts and no driver.
  {
    Type: "volume",
    Source: "app_logs",
    Target: "/logs",
    VolumeOptions: { Labels: { "com.docker.stack.namespace": "app" }, DriverConfig: { Options: { type: "tmpfs" } } },
  },
];

function spec(mounts: unknown): DockerServiceSpec {
  const body = { Name: "web", TaskTemplate: { ContainerSpec: { Image: "x:1", Mounts: mounts } } };
  return decodeShape(body, SERVICE_SPEC_SHAPE) as DockerServiceSpec;
}

const mountsOf = (s: ServiceSpec): Mount[] => s.taskTemplate!.container!.mounts;

describe("Docker API mounts", () => {
  it("maps every field to Shoal's mount", () => {
    const [volume, cache, bind, tmpfs, anon, logs] = mountsOf(fromDockerServiceSpec(spec(MOUNTS)));
    expect(volume).toEqual({
      type: MountType.VOLUME,
      source: "app_data",
      target: "/data",
      readOnly: false,
      consistency: "",
      bindOptions: undefined,
      volumeOptions: {
        noCopy: false,
        labels: { "com.docker.stack.namespace": "app" },
        driverConfig: { name: "local", options: { type: "nfs", o: "addr=10.0.0.1" } },
      },
      tmpfsOptions: undefined,
    });
    expect(cache).toMatchObject({
      readOnly: true,
      volumeOptions: { noCopy: true, labels: {}, driverConfig: undefined },
    });
    expect(bind).toMatchObject({
      type: MountType.BIND,
      source: "/srv/www",
      bindOptions: { propagation: "rslave", nonRecursive: true },
    });
    expect(tmpfs).toMatchObject({
      type: MountType.TMPFS,
      source: "",
      consistency: "delegated",
      tmpfsOptions: { sizeBytes: 1048576, mode: 0o700 },
    });
    expect(anon).toMatchObject({ type: MountType.VOLUME, source: "", target: "/anon", volumeOptions: undefined });
    expect(logs?.volumeOptions?.driverConfig).toEqual({ name: "", options: { type: "tmpfs" } });
  });

  it("gives the same mounts back, and keeps none of them aside", () => {
    const shoal = fromDockerServiceSpec(spec(MOUNTS));
    expect(shoal.annotations?.labels[UNMAPPED_LABEL]).toBeUndefined();
    expect(toDockerServiceSpec(shoal).TaskTemplate?.ContainerSpec?.Mounts).toEqual(MOUNTS);
    expect(toDockerMounts([])).toBeUndefined();
  });

  it("matches types and words in any case, and takes no type as a bind, as Docker does", () => {
    const [a, b] = fromDockerMounts([
      { Type: "Volume", Source: "v1", Target: "/a", Consistency: "CACHED" },
      { Source: "/x", Target: "/b", BindOptions: { Propagation: "RShared" } },
    ]);
    expect(a).toMatchObject({ type: MountType.VOLUME, consistency: "cached" });
    expect(b).toMatchObject({ type: MountType.BIND, bindOptions: { propagation: "rshared" } });
    // Field names too, as Docker's decoder matches them.
    const decoded = spec([{ type: "tmpfs", target: "/t", tmpfsoptions: { sizebytes: 10 } }]);
    expect(mountsOf(fromDockerServiceSpec(decoded))[0]).toMatchObject({ tmpfsOptions: { sizeBytes: 10, mode: 0 } });
  });

  it.each([
    [{ Type: "npipe", Source: "\\\\.\\pipe\\x", Target: "/p" }, 'Mounts[1].Type: mount type "npipe" is not supported'],
    [{ Type: "cluster", Source: "c", Target: "/c" }, 'Mounts[1].Type: mount type "cluster" is not supported'],
    [{ Type: "image", Source: "x:1", Target: "/i" }, 'Mounts[1].Type: "image" is not one of bind, volume, tmpfs'],
    [
      { Type: "bind", Source: "/x", Target: "/b", BindOptions: { Propagation: "up" } },
      "Mounts[1].BindOptions.Propagation",
    ],
    [{ Type: "bind", Source: "/x", Target: "/b", Consistency: "eventual" }, "Mounts[1].Consistency"],
    [{ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: -1 } }, "Mounts[1].TmpfsOptions.SizeBytes"],
    [{ Type: "tmpfs", Target: "/t", TmpfsOptions: { Mode: 1.5 } }, "Mounts[1].TmpfsOptions.Mode"],
    [
      { Type: "bind", Source: "/x", Target: "/b", BindOptions: { CreateMountpoint: true } },
      "Mounts[1].BindOptions.CreateMountpoint: is not supported by Shoal",
    ],
    [
      { Type: "volume", Source: "v1", Target: "/v", VolumeOptions: { Subpath: "a" } },
      "Mounts[1].VolumeOptions.Subpath: is not supported by Shoal",
    ],
  ])("refuses %j naming the field", (bad, message) => {
    expect(() => fromDockerServiceSpec(spec([MOUNTS[0], bad]))).toThrow(`TaskTemplate.ContainerSpec.${message}`);
  });

  it("refuses a field Docker's Mount does not have, and takes a newer option left unset", () => {
    expect(() => spec([{ Type: "bind", Source: "/x", Target: "/b", Bogus: 1 }])).toThrow(
      "TaskTemplate.ContainerSpec.Mounts[0].Bogus: unknown field",
    );
    const unset = spec([{ Type: "bind", Source: "/x", Target: "/b", BindOptions: { CreateMountpoint: false } }]);
    expect(mountsOf(fromDockerServiceSpec(unset))).toHaveLength(1);
  });
});
