// From `shoal service create` flags to a ServiceSpec. Every bad flag is refused with its name.
import {
  InvalidArgumentError,
  PortProtocol,
  PublishMode,
  RebalanceMode,
  ServiceSpec,
  type DeepPartial,
  type PlacementPreference,
  type PortConfig,
} from "@shoal/shared";
import { modeFromFlags, type ModeFlags } from "./job-mode.js";
import { parseMounts, type CreateMountFlags } from "./mount-flags.js";
import { applyScheduleFlags, type ScheduleFlags } from "./schedule-flags.js";
import { applyTaskEdit, parseTaskFlags, type TaskFlags } from "./task-flags.js";
import { applyUpdateConfig, parseUpdateConfigFlags, type UpdateConfigFlags } from "./update-config.js";
import {
  applyGenericResourceEdit,
  parseGenericResourceFlags,
  type GenericResourceFlags,
} from "./generic-resource-flags.js";

export interface CreateFlags
  extends TaskFlags, UpdateConfigFlags, ModeFlags, ScheduleFlags, GenericResourceFlags, CreateMountFlags {
  name?: string;
  env: string[];
  label: string[];
  containerLabel: string[];
  entrypoint?: string;
  constraint: string[];
  placementPref: string[];
  publish: string[];
  rebalance?: string;
  detach?: boolean;
  manager?: string;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function keyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === "") throw new InvalidArgumentError(`"${v}" has no key`, { field: flag });
    out[key] = eq === -1 ? "" : v.slice(eq + 1);
  }
  return out;
}

/**
 * As the docker CLI: "8080:80", "8080:80/udp", "80" (the cluster picks the published port), or
 * "published=8080,target=80,protocol=tcp,mode=ingress|host". Ingress mode (the routing mesh: the
 * port opens on every node) is the default; host mode publishes on the task's node only.
 */
export function parsePort(value: string, flag = "--publish"): PortConfig {
  let published: string | undefined;
  let target: string | undefined;
  let protocol: string;
  let mode = "ingress";
  if (value.includes("=")) {
    const kv = keyValues(value.split(","), flag);
    published = kv["published"];
    target = kv["target"];
    protocol = kv["protocol"] ?? "tcp";
    mode = kv["mode"] ?? mode;
    if (mode !== "host" && mode !== "ingress") {
      throw new InvalidArgumentError(`mode "${mode}" must be ingress or host`, { field: flag });
    }
  } else {
    const m = /^(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(value);
    if (!m) throw new InvalidArgumentError(`"${value}" is not [PUBLISHED:]TARGET[/tcp|udp]`, { field: flag });
    [, published, target] = m;
    protocol = m[3] ?? "tcp";
  }
  const pub = published === undefined ? 0 : Number(published);
  const tgt = Number(target);
  if (target === undefined || !Number.isInteger(tgt) || tgt < 1 || tgt > 65535) {
    throw new InvalidArgumentError(`target port of "${value}" must be from 1 to 65535`, { field: flag });
  }
  if (published !== undefined && (!Number.isInteger(pub) || pub < 1 || pub > 65535)) {
    throw new InvalidArgumentError(`published port of "${value}" must be from 1 to 65535`, { field: flag });
  }
  if (protocol !== "tcp" && protocol !== "udp") {
    throw new InvalidArgumentError(`protocol "${protocol}" must be tcp or udp`, { field: flag });
  }
  return {
    name: "",
    protocol: protocol === "udp" ? PortProtocol.UDP : PortProtocol.TCP,
    targetPort: tgt,
    publishedPort: pub,
    publishMode: mode === "host" ? PublishMode.HOST : PublishMode.INGRESS,
  };
}

/**
 * "spread=DESCRIPTOR", by the docker CLI's rule: one "=", the strategy exactly "spread", the
 * descriptor taken as given (the scheduler spreads over node.labels.KEY or engine.labels.KEY and
 * skips any other, as Swarm does).
 */
export function parsePlacementPref(value: string, flag = "--placement-pref"): PlacementPreference {
  const fields = value.split("=");
  if (fields.length !== 2) {
    throw new InvalidArgumentError(`"${value}": a placement preference must be of the format "<strategy>=<arg>"`, {
      field: flag,
    });
  }
  const [strategy, descriptor] = fields as [string, string];
  if (strategy !== "spread") {
    throw new InvalidArgumentError(`unsupported placement preference ${strategy} (only spread is supported)`, {
      field: flag,
    });
  }
  return { preference: { $case: "spread", value: { spreadDescriptor: descriptor } } };
}

/** The words of --entrypoint or --args: split on white space (no shell quoting). */
/** `--rebalance manual|auto`. */
export function parseRebalanceMode(value: string, flag = "--rebalance"): RebalanceMode {
  if (value === "manual") return RebalanceMode.MANUAL;
  if (value === "auto") return RebalanceMode.AUTO;
  throw new InvalidArgumentError(`"${value}" is not a rebalance mode: use manual or auto`, { field: flag });
}

export function words(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter(Boolean);
}

export function buildServiceSpec(image: string, args: readonly string[], flags: CreateFlags): ServiceSpec {
  const mode = modeFromFlags(flags);
  const job = mode.$case === "replicatedJob" || mode.$case === "globalJob";
  const update = parseUpdateConfigFlags(flags, "update");
  const rollback = parseUpdateConfigFlags(flags, "rollback");
  if (job && (update !== undefined || rollback !== undefined)) {
    throw new InvalidArgumentError("update and rollback configuration is not supported for jobs", {
      field: update !== undefined ? "--update-*" : "--rollback-*",
    });
  }
  const taskEdit = parseTaskFlags(flags);
  const genericEdit = parseGenericResourceFlags(flags);
  const spec: DeepPartial<ServiceSpec> = {
    annotations: { name: flags.name ?? "", labels: keyValues(flags.label, "--label") },
    taskTemplate: {
      container: {
        image,
        args: [...args],
        env: flags.env,
        labels: keyValues(flags.containerLabel, "--container-label"),
        command: words(flags.entrypoint),
        mounts: parseMounts(flags.mount),
      },
      placement: { constraints: flags.constraint, preferences: flags.placementPref.map((p) => parsePlacementPref(p)) },
    },
    mode,
    endpoint: { ports: flags.publish.map((p) => parsePort(p)), mode: taskEdit.networks?.endpointMode ?? 0 },
    // Set in full, as Swarm's CLI does, so that `service inspect` shows what a rollout will do;
    // a job has none (it has no rollout).
    updateConfig: job ? undefined : applyUpdateConfig(undefined, update),
    rollbackConfig: job ? undefined : applyUpdateConfig(undefined, rollback),
    rebalance: flags.rebalance === undefined ? RebalanceMode.MANUAL : parseRebalanceMode(flags.rebalance),
  };
  const out = ServiceSpec.fromPartial(spec);
  out.taskTemplate = applyTaskEdit(out.taskTemplate!, taskEdit);
  out.taskTemplate = applyGenericResourceEdit(out.taskTemplate, genericEdit);
  out.schedule = applyScheduleFlags(out, undefined, flags);
  return out;
}
