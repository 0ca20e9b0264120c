// From `shoal service create` flags to a ServiceSpec. Every bad flag is refused with its name.
import {
  InvalidArgumentError,
  PortProtocol,
  PublishMode,
  RestartCondition,
  ServiceSpec,
  durationFromMs,
  type DeepPartial,
  type PortConfig,
} from "@shoal/shared";
import { parseBytes, parseCpus, parseDuration } from "../output/duration.js";

export interface CreateFlags {
  name?: string;
  replicas?: string;
  mode: string;
  env: string[];
  label: string[];
  containerLabel: string[];
  entrypoint?: string;
  constraint: string[];
  placementPref: string[];
  maxReplicasPerNode?: string;
  publish: string[];
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

function wholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`"${value}" is not a whole number`, { field: flag });
  }
  return Number(value);
}

/** "8080:80", "8080:80/udp", "published=8080,target=80,protocol=tcp". */
export function parsePort(value: string): PortConfig {
  let published: string | undefined;
  let target: string | undefined;
  let protocol: string;
  if (value.includes("=")) {
    const kv = keyValues(value.split(","), "--publish");
    published = kv["published"];
    target = kv["target"];
    protocol = kv["protocol"] ?? "tcp";
    if (kv["mode"] !== undefined && kv["mode"] !== "host") {
      throw new InvalidArgumentError(
        `mode "${kv["mode"]}" is not supported: Shoal publishes on the task's host (mode=host)`,
        { field: "--publish" },
      );
    }
  } else {
    const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(value);
    if (!m) throw new InvalidArgumentError(`"${value}" is not PUBLISHED:TARGET[/tcp|udp]`, { field: "--publish" });
    [, published, target] = m;
    protocol = m[3] ?? "tcp";
  }
  const pub = Number(published);
  const tgt = Number(target);
  for (const [n, what] of [
    [pub, "published"],
    [tgt, "target"],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new InvalidArgumentError(`${what} port of "${value}" must be from 1 to 65535`, { field: "--publish" });
    }
  }
  if (protocol !== "tcp" && protocol !== "udp") {
    throw new InvalidArgumentError(`protocol "${protocol}" must be tcp or udp`, { field: "--publish" });
  }
  return {
    name: "",
    protocol: protocol === "udp" ? PortProtocol.UDP : PortProtocol.TCP,
    targetPort: tgt,
    publishedPort: pub,
    publishMode: PublishMode.HOST,
  };
}

const CONDITIONS: Record<string, RestartCondition> = {
  any: RestartCondition.ANY,
  "on-failure": RestartCondition.ON_FAILURE,
  none: RestartCondition.NONE,
};

export function buildServiceSpec(image: string, args: readonly string[], flags: CreateFlags): ServiceSpec {
  if (flags.mode !== "replicated" && flags.mode !== "global") {
    throw new InvalidArgumentError(`"${flags.mode}" is not a mode: use replicated or global`, { field: "--mode" });
  }
  if (flags.mode === "global" && flags.replicas !== undefined) {
    throw new InvalidArgumentError("replicas can only be used with replicated mode", { field: "--replicas" });
  }
  const replicas = flags.replicas === undefined ? 1 : wholeNumber(flags.replicas, "--replicas");
  const prefs = flags.placementPref.map((p) => {
    const m = /^spread=(.+)$/.exec(p);
    if (!m) throw new InvalidArgumentError(`"${p}" is not spread=node.labels.KEY`, { field: "--placement-pref" });
    return { preference: { $case: "spread" as const, value: { spreadDescriptor: m[1]! } } };
  });
  const resource = (
    cpu: string | undefined,
    mem: string | undefined,
    kind: string,
  ): { nanoCpus: number; memoryBytes: number } | undefined =>
    cpu === undefined && mem === undefined
      ? undefined
      : {
          nanoCpus: cpu === undefined ? 0 : parseCpus(cpu, `--${kind}-cpu`),
          memoryBytes: mem === undefined ? 0 : parseBytes(mem, `--${kind}-memory`),
        };
  const limits = resource(flags.limitCpu, flags.limitMemory, "limit");
  const reservations = resource(flags.reserveCpu, flags.reserveMemory, "reserve");
  let condition: RestartCondition | undefined;
  if (flags.restartCondition !== undefined) {
    condition = CONDITIONS[flags.restartCondition];
    if (condition === undefined) {
      throw new InvalidArgumentError(`"${flags.restartCondition}" is not any, on-failure or none`, {
        field: "--restart-condition",
      });
    }
  }
  const restartSet = [flags.restartCondition, flags.restartDelay, flags.restartMaxAttempts, flags.restartWindow].some(
    (v) => v !== undefined,
  );
  const healthSet = [
    flags.healthCmd,
    flags.healthInterval,
    flags.healthTimeout,
    flags.healthRetries,
    flags.healthStartPeriod,
  ].some((v) => v !== undefined);
  if (flags.noHealthcheck && healthSet) {
    throw new InvalidArgumentError("cannot be combined with --health-* flags", { field: "--no-healthcheck" });
  }
  const spec: DeepPartial<ServiceSpec> = {
    annotations: { name: flags.name ?? "", labels: keyValues(flags.label, "--label") },
    taskTemplate: {
      container: {
        image,
        args: [...args],
        env: flags.env,
        labels: keyValues(flags.containerLabel, "--container-label"),
        command: flags.entrypoint ? flags.entrypoint.split(" ").filter(Boolean) : [],
        ...(flags.noHealthcheck ? { healthcheck: { test: ["NONE"] } } : {}),
        ...(healthSet
          ? {
              healthcheck: {
                test: flags.healthCmd !== undefined ? ["CMD-SHELL", flags.healthCmd] : [],
                ...(flags.healthInterval !== undefined
                  ? { interval: durationFromMs(parseDuration(flags.healthInterval, "--health-interval")) }
                  : {}),
                ...(flags.healthTimeout !== undefined
                  ? { timeout: durationFromMs(parseDuration(flags.healthTimeout, "--health-timeout")) }
                  : {}),
                ...(flags.healthStartPeriod !== undefined
                  ? { startPeriod: durationFromMs(parseDuration(flags.healthStartPeriod, "--health-start-period")) }
                  : {}),
                retries: flags.healthRetries !== undefined ? wholeNumber(flags.healthRetries, "--health-retries") : 0,
              },
            }
          : {}),
        ...(flags.stopGracePeriod !== undefined
          ? { stopGracePeriod: durationFromMs(parseDuration(flags.stopGracePeriod, "--stop-grace-period")) }
          : {}),
      },
      ...(limits || reservations ? { resources: { limits, reservations } } : {}),
      ...(restartSet
        ? {
            restartPolicy: {
              condition: condition ?? RestartCondition.ANY,
              ...(flags.restartDelay !== undefined
                ? { delay: durationFromMs(parseDuration(flags.restartDelay, "--restart-delay")) }
                : {}),
              maxAttempts:
                flags.restartMaxAttempts !== undefined
                  ? wholeNumber(flags.restartMaxAttempts, "--restart-max-attempts")
                  : 0,
              ...(flags.restartWindow !== undefined
                ? { window: durationFromMs(parseDuration(flags.restartWindow, "--restart-window")) }
                : {}),
            },
          }
        : {}),
      placement: {
        constraints: flags.constraint,
        preferences: prefs,
        maxReplicasPerNode:
          flags.maxReplicasPerNode !== undefined ? wholeNumber(flags.maxReplicasPerNode, "--max-replicas-per-node") : 0,
      },
    },
    mode: flags.mode === "global" ? { $case: "global", value: {} } : { $case: "replicated", value: { replicas } },
    endpoint: { ports: flags.publish.map(parsePort) },
  };
  return ServiceSpec.fromPartial(spec);
}
