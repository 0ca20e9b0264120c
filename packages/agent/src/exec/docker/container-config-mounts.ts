// A task's mounts as Docker's HostConfig.Mounts: the Mounts API, not Binds, so that the daemon
// checks them when the container is created (a bind source that does not exist is an error, not
// an empty directory made on the node) and creates a named volume on first use with the driver,
// options and labels given (an existing volume of that name is used as it is). Named volumes
// outlive the container (removing it with `v` takes only its anonymous volumes). Also the
// daemon's refusals of a mount, said in the task's terms. Pure: nothing here talks to Docker.
import { ErrorCode, MountType, type Mount, type Task } from "@shoal/shared";
import type { MountSettings } from "dockerode";
import { ExecError, ExecErrorReason } from "../errors.js";
import { dockerMessage } from "./docker-errors.js";

const TYPES: Record<MountType, MountSettings["Type"]> = {
  [MountType.BIND]: "bind",
  [MountType.VOLUME]: "volume",
  [MountType.TMPFS]: "tmpfs",
};

/** Docker's mount object; dockerode's type lacks BindOptions.NonRecursive and optional volume fields. */
interface DockerMount {
  Type: MountSettings["Type"];
  Source: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    DriverConfig?: { Name: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** One mount as Docker's; empty and zero values are left out (Docker's defaults then apply). */
export function dockerMount(m: Mount): MountSettings {
  const out: DockerMount = { Type: TYPES[m.type], Source: m.source, Target: m.target };
  if (m.readOnly) out.ReadOnly = true;
  if (m.consistency !== "") out.Consistency = m.consistency;
  const b = m.bindOptions;
  if (m.type === MountType.BIND && b !== undefined) {
    out.BindOptions = {
      ...(b.propagation !== "" ? { Propagation: b.propagation } : {}),
      ...(b.nonRecursive ? { NonRecursive: true } : {}),
    };
  }
  const v = m.volumeOptions;
  if (m.type === MountType.VOLUME && v !== undefined) {
    const d = v.driverConfig;
    const options = d !== undefined && Object.keys(d.options).length > 0 ? { ...d.options } : undefined;
    // A driver without a name is the daemon's default ("local"), still with its options.
    const driver =
      d !== undefined && (d.name !== "" || options !== undefined)
        ? { Name: d.name, ...(options !== undefined ? { Options: options } : {}) }
        : undefined;
    out.VolumeOptions = {
      ...(v.noCopy ? { NoCopy: true } : {}),
      ...(Object.keys(v.labels).length > 0 ? { Labels: { ...v.labels } } : {}),
      ...(driver !== undefined ? { DriverConfig: driver } : {}),
    };
  }
  const t = m.tmpfsOptions;
  if (m.type === MountType.TMPFS && t !== undefined) {
    out.TmpfsOptions = {
      ...(t.sizeBytes > 0 ? { SizeBytes: t.sizeBytes } : {}),
      ...(t.mode > 0 ? { Mode: t.mode } : {}),
    };
  }
  // dockerode's MountSettings is narrower than Docker's API (see DockerMount).
  return out as unknown as MountSettings;
}

/** The HostConfig part for `mounts`: `{ Mounts }`, or nothing when there are none. */
export function mountsHostConfig(mounts: readonly Mount[] | undefined): { Mounts?: MountSettings[] } {
  return mounts !== undefined && mounts.length > 0 ? { Mounts: mounts.map(dockerMount) } : {};
}

const MISSING_BIND_SOURCE = /bind source path does not exist: (.+)$/m;
const MISSING_VOLUME_DRIVER = /error looking up volume plugin ([^:\s]+): (.+)$/m;

/**
 * The daemon's refusal to create `task`'s container for one of its mounts, as a fatal task error
 * that says what is wrong on which node; undefined for any other error. Nothing was created.
 */
export function mountCreateError(task: Task, err: unknown): ExecError | undefined {
  const message = dockerMessage(err);
  const bind = MISSING_BIND_SOURCE.exec(message);
  if (bind !== null) {
    const path = bind[1]!.trim();
    return new ExecError(
      ErrorCode.FailedPrecondition,
      ExecErrorReason.InvalidSpec,
      `bind source path ${path} does not exist on node ${task.nodeId}`,
      { cause: err, details: { source: path, nodeId: task.nodeId } },
    );
  }
  const driver = MISSING_VOLUME_DRIVER.exec(message);
  if (driver !== null) {
    const name = driver[1]!;
    return new ExecError(
      ErrorCode.FailedPrecondition,
      ExecErrorReason.InvalidSpec,
      `volume driver ${name} is not available on node ${task.nodeId} (${driver[2]!.trim()})`,
      { cause: err, details: { driver: name, nodeId: task.nodeId } },
    );
  }
  return undefined;
}
