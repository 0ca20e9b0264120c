// The flags that set one field of a task template each, shared by `service create` and `service
// update`: resources, restart policy, health check, stop grace period, tasks per node. Parsing
// checks every value (an error names the flag) and yields an edit; applying the edit to a template
// changes only what was given, so that an update keeps what it does not mention.
import type { Command } from "commander";
import {
  ContainerSpec,
  InvalidArgumentError,
  RestartCondition,
  TaskSpec,
  durationFromMs,
  type Duration,
  HealthConfig,
  RestartPolicy,
  type Resources,
} from "@shoal/shared";
import { parseBytes, parseCpus, parseDuration } from "../output/duration.js";
import { applyContainerEdit, parseContainerFlags, type ContainerEdit, type ContainerFlags } from "./container-flags.js";
import { applySecretEdit, parseSecretFlags, type SecretEdit, type SecretFlags } from "./secret-flags.js";
import { applyNetworkEdit, parseNetworkFlags, type NetworkEdit, type NetworkFlags } from "./network-flags.js";

export interface TaskFlags extends ContainerFlags, SecretFlags, NetworkFlags {
  reserveCpu?: string;
  reserveMemory?: string;
  limitCpu?: string;
  limitMemory?: string;
  restartCondition?: string;
  restartDelay?: string;
  restartMaxAttempts?: string;
  restartWindow?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  noHealthcheck?: boolean;
  stopGracePeriod?: string;
  maxReplicasPerNode?: string;
}

/** What the task flags change; a field left out is kept as it is. */
export interface TaskEdit {
  readonly limits?: Partial<Resources>;
  readonly reservations?: Partial<Resources>;
  readonly restart?: Partial<RestartPolicy>;
  /** "none" disables the image's check (--no-healthcheck). */
  readonly health?: Partial<HealthConfig> | "none";
  readonly stopGracePeriod?: Duration;
  readonly maxReplicasPerNode?: number;
  readonly container?: ContainerEdit;
  readonly secrets?: SecretEdit;
  /** Also the service's endpoint mode (applied by the service's spec, not the template). */
  readonly networks?: NetworkEdit;
}

/** Registers the task flags on a command (create and update take the same ones). */
export function addTaskOptions(cmd: Command): Command {
  return cmd
    .option("--max-replicas-per-node <n>", "at most this many tasks of the service per node")
    .option("--reserve-cpu <cpus>", "CPUs reserved per task")
    .option("--reserve-memory <size>", "memory reserved per task (e.g. 64m)")
    .option("--limit-cpu <cpus>", "CPU limit per task")
    .option("--limit-memory <size>", "memory limit per task (e.g. 128m)")
    .option("--restart-condition <c>", "any, on-failure or none")
    .option("--restart-delay <d>", "delay between restarts (default 5s)")
    .option("--restart-max-attempts <n>", "restarts before giving up (0: no limit)")
    .option("--restart-window <d>", "window in which restarts are counted")
    .option("--health-cmd <cmd>", "command to check health (run with sh -c)")
    .option("--health-interval <d>", "time between checks")
    .option("--health-timeout <d>", "time a check may take")
    .option("--health-retries <n>", "failures in a row before unhealthy")
    .option("--health-start-period <d>", "grace period before failures count")
    .option("--no-healthcheck", "disable the image's health check")
    .option("--stop-grace-period <d>", "time to wait before killing a container");
}

/** Commander gives `--no-healthcheck` as `healthcheck: false`. */
export function withNoHealthcheck<T extends { healthcheck?: boolean }>(flags: T): T & { noHealthcheck: boolean } {
  return { ...flags, noHealthcheck: flags.healthcheck === false };
}

export function wholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`"${value}" is not a whole number`, { field: flag });
  }
  return Number(value);
}

export const duration = (value: string, flag: string): Duration => durationFromMs(parseDuration(value, flag));

const CONDITIONS: Record<string, RestartCondition> = {
  any: RestartCondition.ANY,
  "on-failure": RestartCondition.ON_FAILURE,
  none: RestartCondition.NONE,
};

function resources(cpu: string | undefined, mem: string | undefined, kind: string): Partial<Resources> | undefined {
  if (cpu === undefined && mem === undefined) return undefined;
  const r: Partial<Resources> = {};
  if (cpu !== undefined) r.nanoCpus = parseCpus(cpu, `--${kind}-cpu`);
  if (mem !== undefined) r.memoryBytes = parseBytes(mem, `--${kind}-memory`);
  return r;
}

function restartPolicy(flags: TaskFlags): Partial<RestartPolicy> | undefined {
  const r: Partial<RestartPolicy> = {};
  if (flags.restartCondition !== undefined) {
    const condition = CONDITIONS[flags.restartCondition];
    if (condition === undefined) {
      throw new InvalidArgumentError(`"${flags.restartCondition}" is not any, on-failure or none`, {
        field: "--restart-condition",
      });
    }
    r.condition = condition;
  }
  if (flags.restartDelay !== undefined) r.delay = duration(flags.restartDelay, "--restart-delay");
  if (flags.restartMaxAttempts !== undefined) {
    r.maxAttempts = wholeNumber(flags.restartMaxAttempts, "--restart-max-attempts");
  }
  if (flags.restartWindow !== undefined) r.window = duration(flags.restartWindow, "--restart-window");
  return Object.keys(r).length > 0 ? r : undefined;
}

function healthConfig(flags: TaskFlags): Partial<HealthConfig> | undefined {
  const h: Partial<HealthConfig> = {};
  if (flags.healthCmd !== undefined) h.test = ["CMD-SHELL", flags.healthCmd];
  if (flags.healthInterval !== undefined) h.interval = duration(flags.healthInterval, "--health-interval");
  if (flags.healthTimeout !== undefined) h.timeout = duration(flags.healthTimeout, "--health-timeout");
  if (flags.healthStartPeriod !== undefined) {
    h.startPeriod = duration(flags.healthStartPeriod, "--health-start-period");
  }
  if (flags.healthRetries !== undefined) h.retries = wholeNumber(flags.healthRetries, "--health-retries");
  return Object.keys(h).length > 0 ? h : undefined;
}

export function parseTaskFlags(flags: TaskFlags): TaskEdit {
  const health = healthConfig(flags);
  if (flags.noHealthcheck && health) {
    throw new InvalidArgumentError("cannot be combined with --health-* flags", { field: "--no-healthcheck" });
  }
  const limits = resources(flags.limitCpu, flags.limitMemory, "limit");
  const reservations = resources(flags.reserveCpu, flags.reserveMemory, "reserve");
  const restart = restartPolicy(flags);
  const container = parseContainerFlags(flags);
  const secrets = parseSecretFlags(flags);
  const networks = parseNetworkFlags(flags);
  return {
    ...(secrets ? { secrets } : {}),
    ...(networks ? { networks } : {}),
    ...(limits ? { limits } : {}),
    ...(reservations ? { reservations } : {}),
    ...(restart ? { restart } : {}),
    ...(flags.noHealthcheck ? { health: "none" as const } : health ? { health } : {}),
    ...(flags.stopGracePeriod !== undefined
      ? { stopGracePeriod: duration(flags.stopGracePeriod, "--stop-grace-period") }
      : {}),
    ...(flags.maxReplicasPerNode !== undefined
      ? { maxReplicasPerNode: wholeNumber(flags.maxReplicasPerNode, "--max-replicas-per-node") }
      : {}),
    ...(container ? { container } : {}),
  };
}

const NO_RESOURCES: Resources = { nanoCpus: 0, memoryBytes: 0, pids: 0, generic: [] };

/** The template with the edit applied; the input is not changed. */
export function applyTaskEdit(template: TaskSpec, edit: TaskEdit): TaskSpec {
  const out = TaskSpec.fromPartial(edit.container ? applyContainerEdit(template, edit.container) : template);
  const container = (out.container ??= ContainerSpec.fromPartial({}));
  if (edit.limits || edit.reservations) {
    const r = out.resources;
    out.resources = {
      limits: edit.limits ? { ...(r?.limits ?? NO_RESOURCES), ...edit.limits } : r?.limits,
      reservations: edit.reservations
        ? { ...(r?.reservations ?? NO_RESOURCES), ...edit.reservations }
        : r?.reservations,
    };
  }
  if (edit.restart) {
    out.restartPolicy = RestartPolicy.fromPartial({ ...out.restartPolicy, ...edit.restart });
  }
  if (edit.health === "none") container.healthcheck = HealthConfig.fromPartial({ test: ["NONE"] });
  else if (edit.health) {
    // A check disabled before starts afresh (inheriting the image's command unless --health-cmd).
    const base = container.healthcheck?.test[0] === "NONE" ? undefined : container.healthcheck;
    container.healthcheck = HealthConfig.fromPartial({ ...base, ...edit.health });
  }
  if (edit.stopGracePeriod) container.stopGracePeriod = edit.stopGracePeriod;
  if (edit.secrets) applySecretEdit(container, edit.secrets);
  if (edit.networks) out.networks = applyNetworkEdit(out.networks, edit.networks);
  if (edit.maxReplicasPerNode !== undefined) {
    out.placement = {
      constraints: [],
      preferences: [],
      platforms: [],
      ...out.placement,
      maxReplicasPerNode: edit.maxReplicasPerNode,
    };
  }
  return out;
}
