import { ErrorCode, Mount, MountType, TaskState, type DeepPartial } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { doTask, ExecError, ExecErrorReason } from "@shoal/agent";
import { containerConfig } from "../../../src/exec/docker/container-config.js";
import { dockerMount, mountCreateError } from "../../../src/exec/docker/container-config-mounts.js";
import { classifyDockerError } from "../../../src/exec/docker/docker-errors.js";
import { makeTask, withState } from "../task-fixture.js";

const mount = (m: DeepPartial<Mount>): Mount => Mount.fromPartial(m);

/** What dockerode throws for a daemon's HTTP error. */
function daemonError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), {
    statusCode,
    json: { message },
  });
}

describe("dockerMount", () => {
  it("maps a bind mount with its options, read-only", () => {
    const m = mount({
      type: MountType.BIND,
      source: "/srv/data",
      target: "/data",
      readOnly: true,
      consistency: "cached",
      bindOptions: { propagation: "rslave", nonRecursive: true },
    });
    expect(dockerMount(m)).toEqual({
      Type: "bind",
      Source: "/srv/data",
      Target: "/data",
      ReadOnly: true,
      Consistency: "cached",
      BindOptions: { Propagation: "rslave", NonRecursive: true },
    });
  });

  it("maps a named volume with its driver, options and labels", () => {
    const m = mount({
      type: MountType.VOLUME,
      source: "db",
      target: "/var/lib/db",
      volumeOptions: {
        noCopy: true,
        labels: { team: "blue" },
        driverConfig: { name: "local", options: { type: "tmpfs", device: "tmpfs" } },
      },
    });
    expect(dockerMount(m)).toEqual({
      Type: "volume",
      Source: "db",
      Target: "/var/lib/db",
      VolumeOptions: {
        NoCopy: true,
        Labels: { team: "blue" },
        DriverConfig: { Name: "local", Options: { type: "tmpfs", device: "tmpfs" } },
      },
    });
  });

  it("leaves out what is empty: an anonymous volume, a driver without a name, zero tmpfs options", () => {
    expect(
      dockerMount(mount({ type: MountType.VOLUME, target: "/cache", volumeOptions: { driverConfig: {} } })),
    ).toEqual({ Type: "volume", Source: "", Target: "/cache", VolumeOptions: {} });
    expect(dockerMount(mount({ type: MountType.TMPFS, target: "/t", tmpfsOptions: {} }))).toEqual({
      Type: "tmpfs",
      Source: "",
      Target: "/t",
      TmpfsOptions: {},
    });
  });

  it("keeps the options of a driver without a name (the daemon's default driver)", () => {
    const m = mount({
      type: MountType.VOLUME,
      source: "app_data",
      target: "/data",
      volumeOptions: { driverConfig: { options: { type: "tmpfs" } } },
    });
    expect(dockerMount(m)).toMatchObject({ VolumeOptions: { DriverConfig: { Name: "", Options: { type: "tmpfs" } } } });
  });

  it("maps tmpfs size and mode", () => {
    const m = mount({ type: MountType.TMPFS, target: "/t", tmpfsOptions: { sizeBytes: 1 << 20, mode: 0o700 } });
    expect(dockerMount(m)).toEqual({
      Type: "tmpfs",
      Source: "",
      Target: "/t",
      TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o700 },
    });
  });

  it("gives no options of another type to Docker", () => {
    const m = mount({ type: MountType.TMPFS, target: "/t", bindOptions: { propagation: "shared" } });
    expect(dockerMount(m)).toEqual({ Type: "tmpfs", Source: "", Target: "/t" });
  });
});

describe("containerConfig with mounts", () => {
  it("puts the task's mounts in HostConfig.Mounts, never in Binds", () => {
    const task = makeTask({
      spec: {
        container: {
          image: "shoal-base:1",
          mounts: [
            { type: MountType.VOLUME, source: "data", target: "/data" },
            { type: MountType.TMPFS, target: "/scratch" },
          ],
        },
      },
    });
    const hc = containerConfig(task).HostConfig!;
    expect(hc.Mounts).toEqual([
      { Type: "volume", Source: "data", Target: "/data" },
      { Type: "tmpfs", Source: "", Target: "/scratch" },
    ]);
    expect(hc.Binds).toBeUndefined();
  });

  it("has no Mounts without mounts", () => {
    expect(containerConfig(makeTask()).HostConfig!.Mounts).toBeUndefined();
  });
});

describe("mountCreateError", () => {
  const task = makeTask({ nodeId: "node-7" });

  it("says which bind source is missing on which node", () => {
    const err = mountCreateError(
      task,
      daemonError(400, 'invalid mount config for type "bind": bind source path does not exist: /srv/missing'),
    );
    expect(err).toBeInstanceOf(ExecError);
    expect(err?.message).toBe("bind source path /srv/missing does not exist on node node-7");
    expect(err?.reason).toBe(ExecErrorReason.InvalidSpec);
    expect(err?.code).toBe(ErrorCode.FailedPrecondition);
    expect(err?.temporary).toBe(false);
  });

  it("says which volume driver the node's daemon does not have", () => {
    const err = mountCreateError(
      task,
      daemonError(404, 'create vol1: error looking up volume plugin nosuch: plugin "nosuch" not found'),
    );
    expect(err?.message).toBe('volume driver nosuch is not available on node node-7 (plugin "nosuch" not found)');
    expect(err?.temporary).toBe(false);
  });

  it("leaves any other error alone", () => {
    expect(mountCreateError(task, daemonError(400, "invalid reference format"))).toBeUndefined();
    expect(mountCreateError(task, Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(
      undefined,
    );
  });

  it("rejects the task at prepare with that message", async () => {
    const failing = mountCreateError(
      task,
      daemonError(400, 'invalid mount config for type "bind": bind source path does not exist: /x'),
    )!;
    const controller = { prepare: () => Promise.reject(failing), inspect: () => Promise.resolve(undefined) };
    const step = await doTask(withState(task, TaskState.PREPARING), controller as never);
    expect(step.status.state).toBe(TaskState.REJECTED);
    expect(step.status.err).toBe("bind source path /x does not exist on node node-7");
    // A plain 400 of the daemon is just as fatal, with the daemon's words.
    expect(classifyDockerError(daemonError(400, "bad"), "creating container x").temporary).toBe(false);
  });
});
