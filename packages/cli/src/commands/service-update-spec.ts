// From `shoal service update` flags to the service's next spec, in two steps: parsing checks every
// flag before anything is asked of a manager (a bad value names its flag), and applying the parsed
// edit to the spec the manager gave changes only what the flags mention, as `docker service update`.
import { editMode } from "./job-mode.js";
import { parseMountEdit, type MountEdit, type UpdateMountFlags } from "./mount-flags.js";
import { applyScheduleFlags, checkScheduleFlags, type ScheduleFlags } from "./schedule-flags.js";
import {
  InvalidArgumentError,
  ServiceSpec,
  TaskSpec,
  type PlacementPreference,
  type RebalanceMode,
  type PortConfig,
  type UpdateConfig,
} from "@shoal/shared";
import { keyValues, parsePlacementPref, parsePort, parseRebalanceMode, words } from "./service-spec.js";
import { applyTaskEdit, parseTaskFlags, wholeNumber, type TaskEdit, type TaskFlags } from "./task-flags.js";
import {
  applyGenericResourceEdit,
  parseGenericResourceFlags,
  type GenericResourceEdit,
  type GenericResourceFlags,
} from "./generic-resource-flags.js";
import {
  applyUpdateConfig,
  parseUpdateConfigFlags,
  type UpdateConfigEdit,
  type UpdateConfigFlags,
} from "./update-config.js";

export interface UpdateFlags
  extends TaskFlags, UpdateConfigFlags, ScheduleFlags, GenericResourceFlags, UpdateMountFlags {
  image?: string;
  args?: string;
  entrypoint?: string;
  replicas?: string;
  maxConcurrent?: string;
  envAdd: string[];
  envRm: string[];
  labelAdd: string[];
  labelRm: string[];
  containerLabelAdd: string[];
  containerLabelRm: string[];
  constraintAdd: string[];
  constraintRm: string[];
  placementPrefAdd: string[];
  placementPrefRm: string[];
  publishAdd: string[];
  publishRm: string[];
  force?: boolean;
  rebalance?: string;
  detach?: boolean;
  manager?: string;
}

/** The flags of an update, checked; empty lists and unset fields change nothing. */
export interface SpecEdit {
  readonly image?: string;
  readonly args?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly replicas?: number;
  readonly maxConcurrent?: number;
  readonly envAdd: Readonly<Record<string, string>>;
  readonly envRm: readonly string[];
  readonly labelAdd: Readonly<Record<string, string>>;
  readonly labelRm: readonly string[];
  readonly containerLabelAdd: Readonly<Record<string, string>>;
  readonly containerLabelRm: readonly string[];
  readonly constraintAdd: readonly string[];
  readonly constraintRm: readonly string[];
  readonly placementPrefAdd: readonly PlacementPreference[];
  readonly placementPrefRm: readonly string[];
  readonly publishAdd: readonly PortConfig[];
  /** TARGET[/PROTOCOL] of the ports to unpublish. */
  readonly publishRm: readonly { target: number; protocol?: number }[];
  readonly task: TaskEdit;
  readonly generic?: GenericResourceEdit | undefined;
  readonly mounts: MountEdit;
  readonly updateConfig?: UpdateConfigEdit;
  readonly rollbackConfig?: UpdateConfigEdit;
  readonly rebalance?: RebalanceMode;
  readonly force: boolean;
  readonly schedule: ScheduleFlags;
}

function publishTarget(value: string): { target: number; protocol?: number } {
  const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(value);
  const target = Number(m?.[1]);
  if (!m || target < 1 || target > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a target port TARGET[/tcp|udp]`, { field: "--publish-rm" });
  }
  return m[2] === undefined ? { target } : { target, protocol: parsePort(`1:1/${m[2]}`).protocol };
}

function keys(values: readonly string[], flag: string): string[] {
  for (const v of values) if (v === "") throw new InvalidArgumentError("an empty key", { field: flag });
  return [...values];
}

export function parseUpdateFlags(flags: UpdateFlags): SpecEdit {
  if (flags.image === "") throw new InvalidArgumentError("an image is needed", { field: "--image" });
  const updateConfig = parseUpdateConfigFlags(flags, "update");
  const rollbackConfig = parseUpdateConfigFlags(flags, "rollback");
  return {
    ...(flags.image !== undefined ? { image: flags.image } : {}),
    ...(flags.args !== undefined ? { args: words(flags.args) } : {}),
    ...(flags.entrypoint !== undefined ? { entrypoint: words(flags.entrypoint) } : {}),
    ...(flags.replicas !== undefined ? { replicas: wholeNumber(flags.replicas, "--replicas") } : {}),
    ...(flags.maxConcurrent !== undefined
      ? { maxConcurrent: wholeNumber(flags.maxConcurrent, "--max-concurrent") }
      : {}),
    envAdd: keyValues(flags.envAdd, "--env-add"),
    envRm: keys(flags.envRm, "--env-rm"),
    labelAdd: keyValues(flags.labelAdd, "--label-add"),
    labelRm: keys(flags.labelRm, "--label-rm"),
    containerLabelAdd: keyValues(flags.containerLabelAdd, "--container-label-add"),
    containerLabelRm: keys(flags.containerLabelRm, "--container-label-rm"),
    constraintAdd: keys(flags.constraintAdd, "--constraint-add"),
    constraintRm: keys(flags.constraintRm, "--constraint-rm"),
    placementPrefAdd: flags.placementPrefAdd.map((p) => parsePlacementPref(p, "--placement-pref-add")),
    placementPrefRm: flags.placementPrefRm.map((p) => spreadOf(parsePlacementPref(p, "--placement-pref-rm"))),
    publishAdd: flags.publishAdd.map((p) => parsePort(p, "--publish-add")),
    publishRm: flags.publishRm.map(publishTarget),
    task: parseTaskFlags(flags),
    generic: parseGenericResourceFlags(flags),
    mounts: parseMountEdit(flags),
    ...(updateConfig ? { updateConfig } : {}),
    ...(rollbackConfig ? { rollbackConfig } : {}),
    ...(flags.rebalance !== undefined ? { rebalance: parseRebalanceMode(flags.rebalance) } : {}),
    force: flags.force === true,
    schedule: scheduleFlags(flags),
  };
}

function scheduleFlags(flags: ScheduleFlags): ScheduleFlags {
  const { schedule, scheduleTimezone, scheduleOverlap, scheduleRm } = flags;
  const out = { schedule, scheduleTimezone, scheduleOverlap, scheduleRm };
  checkScheduleFlags(out);
  return out;
}

function editMap(
  current: Readonly<Record<string, string>>,
  add: Readonly<Record<string, string>>,
  rm: readonly string[],
): Record<string, string> {
  const out = { ...current };
  for (const k of rm) delete out[k];
  return { ...out, ...add };
}

/**
 * The list without what is removed; an added item takes the place of the one it matches (so that
 * the order, hence the spec, stays the same when nothing changes), or comes last.
 */
function editList<T>(
  list: readonly T[],
  add: readonly T[],
  removed: (item: T) => boolean,
  same: (a: T, b: T) => boolean,
): T[] {
  const placed = new Set<T>();
  const out: T[] = [];
  for (const x of list) {
    if (removed(x)) continue;
    const a = add.find((y) => same(x, y));
    if (a !== undefined) placed.add(a);
    out.push(a ?? x);
  }
  return [...out, ...add.filter((a) => !placed.has(a))];
}

/** "K=V" entries: those of the removed keys go; an added key replaces its entry in place or comes last. */
function editEnv(env: readonly string[], add: Readonly<Record<string, string>>, rm: readonly string[]): string[] {
  const key = (entry: string): string => entry.split("=", 1)[0]!;
  const added = Object.entries(add).map(([k, v]) => `${k}=${v}`);
  return editList(
    env,
    added,
    (e) => rm.includes(key(e)),
    (a, b) => key(a) === key(b),
  );
}

const spreadOf = (p: PlacementPreference): string => p.preference?.value.spreadDescriptor ?? "";

/** The next spec: `current` with the edit applied (neither input is changed). */
export function applySpecEdit(current: ServiceSpec, edit: SpecEdit): ServiceSpec {
  const spec = ServiceSpec.fromPartial(current);
  spec.mode = editMode(spec, edit.replicas, edit.maxConcurrent);
  spec.schedule = applyScheduleFlags(spec, spec.schedule, edit.schedule);
  const annotations = (spec.annotations ??= { name: "", labels: {} });
  annotations.labels = editMap(annotations.labels, edit.labelAdd, edit.labelRm);

  spec.taskTemplate = applyGenericResourceEdit(spec.taskTemplate ?? TaskSpec.fromPartial({}), edit.generic);
  const template = applyTaskEdit(spec.taskTemplate ?? TaskSpec.fromPartial({}), edit.task);
  const c = template.container!;
  if (edit.image !== undefined) c.image = edit.image;
  if (edit.args !== undefined) c.args = [...edit.args];
  if (edit.entrypoint !== undefined) c.command = [...edit.entrypoint];
  c.env = editEnv(c.env, edit.envAdd, edit.envRm);
  c.labels = editMap(c.labels, edit.containerLabelAdd, edit.containerLabelRm);
  c.mounts = editList(
    c.mounts,
    edit.mounts.add,
    (m) => edit.mounts.rm.includes(m.target),
    (a, b) => a.target === b.target,
  );
  const placement = (template.placement ??= { constraints: [], preferences: [], maxReplicasPerNode: 0, platforms: [] });
  placement.constraints = editList(
    placement.constraints,
    edit.constraintAdd,
    (x) => edit.constraintRm.includes(x),
    (a, b) => a === b,
  );
  placement.preferences = editList(
    placement.preferences,
    edit.placementPrefAdd,
    (p) => edit.placementPrefRm.includes(spreadOf(p)),
    (a, b) => spreadOf(a) === spreadOf(b),
  );
  if (edit.force) template.forceUpdate += 1;
  spec.taskTemplate = template;

  const ports = spec.endpoint?.ports ?? [];
  spec.endpoint = {
    mode: edit.task.networks?.endpointMode ?? spec.endpoint?.mode ?? 0,
    ports: editList(
      ports,
      edit.publishAdd,
      (p) => edit.publishRm.some((r) => r.target === p.targetPort && (r.protocol ?? p.protocol) === p.protocol),
      (a, b) => a.publishedPort === b.publishedPort && a.protocol === b.protocol,
    ),
  };
  const config = (base: UpdateConfig | undefined, e: UpdateConfigEdit | undefined): UpdateConfig | undefined =>
    e === undefined ? base : applyUpdateConfig(base, e);
  const updateConfig = config(spec.updateConfig, edit.updateConfig);
  const rollbackConfig = config(spec.rollbackConfig, edit.rollbackConfig);
  if (updateConfig) spec.updateConfig = updateConfig;
  if (rollbackConfig) spec.rollbackConfig = rollbackConfig;
  if (edit.rebalance !== undefined) spec.rebalance = edit.rebalance;
  return spec;
}
