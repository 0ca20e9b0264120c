// The pure mapping from a task to Docker's container-create body: nothing here talks to Docker.
import { ErrorCode, PortProtocol, PublishMode, type Duration, type PortConfig, type Task } from "@shoal/shared";
import type { ContainerCreateOptions } from "dockerode";
import { ExecError, ExecErrorReason } from "../errors.js";
import { containerName } from "../task-name.js";
import { containerSpecConfig } from "./container-config-spec.js";
import { mountsHostConfig } from "./container-config-mounts.js";
import { taskLabels } from "./labels.js";
import { genericResourceEnv } from "./container-config-generic.js";

/** Swarm's default time between the stop signal and SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/** A protobuf Duration in nanoseconds, as Docker's API wants durations. */
export function durationToNs(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.seconds * 1e9 + d.nanos;
}

/** The stop grace period in milliseconds (default 10 s). */
export function stopGraceMs(task: Task): number {
  const d = task.spec?.container?.stopGracePeriod;
  return d === undefined ? DEFAULT_STOP_GRACE_MS : d.seconds * 1000 + d.nanos / 1e6;
}

/** The key Docker uses for a container port: "80/tcp". */
export function portKey(port: PortConfig): string {
  return `${port.targetPort}/${port.protocol === PortProtocol.UDP ? "udp" : "tcp"}`;
}

function invalid(task: Task, message: string): ExecError {
  return new ExecError(ErrorCode.InvalidArgument, ExecErrorReason.InvalidSpec, `task ${task.id}: ${message}`);
}

/**
 * The body of `POST /containers/create` for `task`. Host-mode ports are published by the
 * container; ingress ports are not its business. Docker's restart policy is "no": when a task
 * ends, the manager decides whether a new task replaces it.
 */
export function containerConfig(task: Task, ports: readonly PortConfig[] = []): ContainerCreateOptions {
  const spec = task.spec?.container;
  if (spec === undefined) throw invalid(task, "the task has no container spec");
  if (spec.image === "") throw invalid(task, "the container spec has no image");

  const limits = task.spec?.resources?.limits;
  const hostPorts = ports.filter((p) => p.publishMode === PublishMode.HOST);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostPort: string }[]> = {};
  for (const port of hostPorts) {
    const key = portKey(port);
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostPort: port.publishedPort > 0 ? String(port.publishedPort) : "" });
  }

  const rest = containerSpecConfig(task.spec);
  const config: ContainerCreateOptions = {
    ...rest.config,
    name: containerName(task),
    Image: spec.image,
    Env: [...spec.env],
    Labels: { ...spec.labels, ...taskLabels(task) },
    StopTimeout: Math.ceil(stopGraceMs(task) / 1000),
    HostConfig: {
      RestartPolicy: { Name: "no" },
      ...(limits !== undefined && limits.nanoCpus > 0 ? { NanoCpus: limits.nanoCpus } : {}),
      ...(limits !== undefined && limits.memoryBytes > 0 ? { Memory: limits.memoryBytes } : {}),
      ...(hostPorts.length > 0 ? { PortBindings: bindings } : {}),
      ...rest.hostConfig,
      ...mountsHostConfig(spec.mounts),
    },
  };
  if (spec.command.length > 0) config.Entrypoint = [...spec.command];
  if (spec.args.length > 0) config.Cmd = [...spec.args];
  if (spec.dir !== "") config.WorkingDir = spec.dir;
  if (spec.user !== "") config.User = spec.user;
  if (spec.stopSignal !== "") config.StopSignal = spec.stopSignal;
  if (hostPorts.length > 0) config.ExposedPorts = exposed;
  // The generic resources (GPUs, ...) the scheduler gave the task, as Swarm's DOCKER_RESOURCE_* variables.
  config.Env = [...(config.Env ?? []), ...genericResourceEnv(task)];

  const hc = spec.healthcheck;
  if (hc !== undefined) {
    const interval = durationToNs(hc.interval);
    const timeout = durationToNs(hc.timeout);
    const startPeriod = durationToNs(hc.startPeriod);
    config.Healthcheck = {
      Test: [...hc.test],
      ...(interval !== undefined ? { Interval: interval } : {}),
      ...(timeout !== undefined ? { Timeout: timeout } : {}),
      ...(startPeriod !== undefined ? { StartPeriod: startPeriod } : {}),
      ...(hc.retries > 0 ? { Retries: hc.retries } : {}),
    };
  }
  return config;
}
