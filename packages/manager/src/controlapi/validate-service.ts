// Validation of a ServiceSpec before it is stored. Every error names the field it is about.
import {
  InvalidArgumentError,
  PortProtocol,
  ScheduleOverlap,
  cronSchedule,
  PublishMode,
  RebalanceMode,
  RestartCondition,
  UpdateFailureAction,
  UpdateOrder,
  type ContainerSpec,
  type EndpointSpec,
  type JobSchedule,
  type ReplicatedJob,
  type RestartPolicy,
  type ServiceSpec,
  type UpdateConfig,
} from "@shoal/shared";
import { parseConstraints } from "../scheduler/index.js";
import { validateContainerSpecFields } from "./validate-container-spec.js";
import { validateDuration } from "./validate-duration.js";
import { validateGenericAndPlatforms } from "./validate-generic.js";
import { validateLabelKeys } from "./validate-labels.js";
import { validateMounts } from "./validate-mounts.js";
import { validateServiceNetworks } from "./validate-service-networks.js";
import { validateSecretRefs } from "./secret-refs.js";

/** Docker's rule for service names: letters, digits, '-' and '_', up to 63, no leading/trailing '-'. */
const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const ENV = /^[^=\s]+=/;
const MAX_REPLICAS = 100_000;

/** Whether `value` is one of a numeric enum's members (ts-proto enums map both ways). */
function isMember(e: Record<string, string | number>, value: number): boolean {
  return Number.isInteger(value) && typeof e[value] === "string";
}

export function validateServiceSpec(spec: ServiceSpec | undefined): ServiceSpec {
  if (!spec) throw new InvalidArgumentError("is required", { field: "spec" });
  const name = spec.annotations?.name ?? "";
  if (name === "") throw new InvalidArgumentError("a service needs a name", { field: "spec.annotations.name" });
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(
      `"${name}" is not a valid service name (letters, digits, '-' and '_', at most 63, starting and ending with a letter or digit)`,
      { field: "spec.annotations.name" },
    );
  }
  const container = spec.taskTemplate?.container;
  const image = container?.image ?? "";
  if (image === "")
    throw new InvalidArgumentError("an image is required", { field: "spec.task_template.container.image" });
  if (!isImageReference(image)) {
    throw new InvalidArgumentError(`"${image}" is not a valid image reference`, {
      field: "spec.task_template.container.image",
    });
  }
  validateLabelKeys(spec.annotations?.labels, "spec.annotations.labels");
  validateContainerSpecFields(spec.taskTemplate);
  validateSecretRefs(spec.taskTemplate);
  if (container) validateContainer(container);
  if (container) validateMounts(container.mounts, "spec.task_template.container.mounts");
  container?.env.forEach((e, i) => {
    if (!ENV.test(e)) {
      throw new InvalidArgumentError(`"${e}" is not of the form KEY=VALUE`, {
        field: `spec.task_template.container.env[${i}]`,
      });
    }
  });
  const mode = spec.mode;
  if (mode?.$case === "replicated") {
    const replicas = mode.value.replicas;
    if (!Number.isSafeInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
      throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_REPLICAS}, not ${replicas}`, {
        field: "spec.mode.replicated.replicas",
      });
    }
  }
  const job = mode?.$case === "replicatedJob" || mode?.$case === "globalJob";
  if (mode?.$case === "replicatedJob") validateReplicatedJob(mode.value);
  if (spec.schedule) validateSchedule(spec.schedule, mode?.$case);
  if (!isMember(RebalanceMode, spec.rebalance)) {
    throw new InvalidArgumentError(`${spec.rebalance} is not a rebalance mode (manual or auto)`, {
      field: "spec.rebalance",
    });
  }
  if (spec.rebalance === RebalanceMode.AUTO && mode !== undefined && mode.$case !== "replicated") {
    throw new InvalidArgumentError("automatic rebalancing applies to replicated services only", {
      field: "spec.rebalance",
    });
  }
  // Placement preferences are not checked: as SwarmKit, any spread descriptor is taken as given,
  // and one the scheduler cannot read (not node.labels.KEY or engine.labels.KEY) adds no level.
  const placement = spec.taskTemplate?.placement;
  if (placement) parseConstraints(placement.constraints);
  const resources = spec.taskTemplate?.resources;
  for (const [kind, r] of [
    ["limits", resources?.limits],
    ["reservations", resources?.reservations],
  ] as const) {
    if (r && (r.nanoCpus < 0 || r.memoryBytes < 0)) {
      throw new InvalidArgumentError("cannot be negative", { field: `spec.task_template.resources.${kind}` });
    }
  }
  validateGenericAndPlatforms(spec.taskTemplate);
  validateRestartPolicy(spec.taskTemplate?.restartPolicy);
  validateServiceNetworks(spec);
  validateEndpoint(spec.endpoint);
  if (job) {
    // As SwarmKit and the docker CLI: a job has no rollout, so nothing to configure one with.
    if (spec.updateConfig)
      throw new InvalidArgumentError("a job has no update config", { field: "spec.update_config" });
    if (spec.rollbackConfig)
      throw new InvalidArgumentError("a job has no rollback config", { field: "spec.rollback_config" });
  }
  validateUpdateConfig(spec.updateConfig, "spec.update_config");
  validateUpdateConfig(spec.rollbackConfig, "spec.rollback_config");
  return spec;
}

/** Completions and concurrency: whole numbers within the replica limit, concurrency <= completions. */
function validateReplicatedJob(job: ReplicatedJob): void {
  const field = "spec.mode.replicated_job";
  for (const [name, value] of [
    ["total_completions", job.totalCompletions],
    ["max_concurrent", job.maxConcurrent],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_REPLICAS) {
      throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_REPLICAS}, not ${value}`, {
        field: `${field}.${name}`,
      });
    }
  }
  if (job.totalCompletions > 0 && job.maxConcurrent > job.totalCompletions) {
    throw new InvalidArgumentError(
      `cannot be more than total_completions (${job.totalCompletions}), not ${job.maxConcurrent}`,
      { field: `${field}.max_concurrent` },
    );
  }
}

/** A schedule: only on a job, a five-field cron expression, a known time zone, a known overlap. */
function validateSchedule(schedule: JobSchedule, mode: string | undefined): void {
  if (mode !== "replicatedJob" && mode !== "globalJob") {
    throw new InvalidArgumentError("a schedule is only for jobs (mode replicated-job or global-job)", {
      field: "spec.schedule",
    });
  }
  cronSchedule(schedule);
  if (!isMember(ScheduleOverlap, schedule.overlap)) {
    throw new InvalidArgumentError(`${schedule.overlap} is not skip, allow or replace`, {
      field: "spec.schedule.overlap",
    });
  }
}

function validateContainer(c: ContainerSpec): void {
  const field = "spec.task_template.container";
  validateLabelKeys(c.labels, `${field}.labels`);
  validateDuration(c.stopGracePeriod, `${field}.stop_grace_period`);
  const h = c.healthcheck;
  if (h === undefined) return;
  // As Docker: a set interval, timeout or start period is at least 1ms (0 means the default).
  const atLeast1ms = { min: { ms: 1, text: "1ms (or 0 for the default)" } };
  for (const [name, d] of [
    ["interval", h.interval],
    ["timeout", h.timeout],
    ["start_period", h.startPeriod],
  ] as const) {
    const isZero = d !== undefined && d.seconds === 0 && d.nanos === 0;
    validateDuration(d, `${field}.healthcheck.${name}`, isZero ? {} : atLeast1ms);
  }
  if (!Number.isSafeInteger(h.retries) || h.retries < 0) {
    throw new InvalidArgumentError(`must be a whole number, 0 (the default) or more, not ${h.retries}`, {
      field: `${field}.healthcheck.retries`,
    });
  }
}

function validateRestartPolicy(r: RestartPolicy | undefined): void {
  if (r === undefined) return;
  const field = "spec.task_template.restart_policy";
  if (!isMember(RestartCondition, r.condition)) {
    throw new InvalidArgumentError(`unknown restart condition ${r.condition}`, { field: `${field}.condition` });
  }
  validateDuration(r.delay, `${field}.delay`);
  validateDuration(r.window, `${field}.window`);
  if (!Number.isSafeInteger(r.maxAttempts) || r.maxAttempts < 0) {
    throw new InvalidArgumentError(`must be a whole number, 0 (no limit) or more, not ${r.maxAttempts}`, {
      field: `${field}.max_attempts`,
    });
  }
}

function validateEndpoint(e: EndpointSpec | undefined): void {
  e?.ports.forEach((p, i) => {
    const field = `spec.endpoint.ports[${i}]`;
    if (!Number.isInteger(p.targetPort) || p.targetPort < 1 || p.targetPort > 65535) {
      throw new InvalidArgumentError(`must be a port from 1 to 65535, not ${p.targetPort}`, {
        field: `${field}.target_port`,
      });
    }
    if (!Number.isInteger(p.publishedPort) || p.publishedPort < 0 || p.publishedPort > 65535) {
      throw new InvalidArgumentError(`must be a port from 1 to 65535, or 0 to pick one, not ${p.publishedPort}`, {
        field: `${field}.published_port`,
      });
    }
    if (!isMember(PortProtocol, p.protocol)) {
      throw new InvalidArgumentError(`unknown protocol ${p.protocol}`, { field: `${field}.protocol` });
    }
    if (!isMember(PublishMode, p.publishMode)) {
      throw new InvalidArgumentError(`unknown publish mode ${p.publishMode}`, { field: `${field}.publish_mode` });
    }
  });
}

function validateUpdateConfig(config: UpdateConfig | undefined, field: string): void {
  if (config === undefined) return;
  if (!Number.isSafeInteger(config.parallelism) || config.parallelism < 0) {
    throw new InvalidArgumentError(`must be a whole number, 0 (all at once) or more, not ${config.parallelism}`, {
      field: `${field}.parallelism`,
    });
  }
  const ratio = config.maxFailureRatio;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new InvalidArgumentError(`must be from 0 to 1, not ${ratio}`, { field: `${field}.max_failure_ratio` });
  }
  validateDuration(config.delay, `${field}.delay`);
  validateDuration(config.monitor, `${field}.monitor`);
  if (!isMember(UpdateFailureAction, config.failureAction)) {
    throw new InvalidArgumentError(`unknown failure action ${config.failureAction}`, {
      field: `${field}.failure_action`,
    });
  }
  if (!isMember(UpdateOrder, config.order)) {
    throw new InvalidArgumentError(`unknown order ${config.order}`, { field: `${field}.order` });
  }
}

/** Docker's image reference grammar: [registry[:port]/]path[:tag][@sha256:digest]. */
export function isImageReference(image: string): boolean {
  const at = image.indexOf("@");
  const nameAndTag = at === -1 ? image : image.slice(0, at);
  if (at !== -1 && !/^sha256:[a-f0-9]{64}$/.test(image.slice(at + 1))) return false;
  const colon = nameAndTag.lastIndexOf(":");
  const hasTag = colon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  if (hasTag && !TAG.test(nameAndTag.slice(colon + 1))) return false;
  const parts = name.split("/");
  const first = parts[0]!;
  const isHost = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (isHost && !REGISTRY_HOST.test(first)) return false;
  return parts.slice(isHost ? 1 : 0).every((p) => PATH_COMPONENT.test(p)) && parts.length > (isHost ? 1 : 0);
}
