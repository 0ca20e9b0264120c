// Validation of a ServiceSpec before it is stored. Every error names the field it is about.
import {
  InvalidArgumentError,
  UpdateFailureAction,
  UpdateOrder,
  type ServiceSpec,
  type UpdateConfig,
} from "@shoal/shared";
import { parseConstraints, parsePlacementPreferences } from "../scheduler/index.js";

/** Docker's rule for service names: letters, digits, '-' and '_', up to 63, no leading/trailing '-'. */
const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const ENV = /^[^=\s]+=/;
const MAX_REPLICAS = 100_000;

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
  const placement = spec.taskTemplate?.placement;
  if (placement) {
    parseConstraints(placement.constraints);
    parsePlacementPreferences(placement.preferences);
  }
  const resources = spec.taskTemplate?.resources;
  for (const [kind, r] of [
    ["limits", resources?.limits],
    ["reservations", resources?.reservations],
  ] as const) {
    if (r && (r.nanoCpus < 0 || r.memoryBytes < 0)) {
      throw new InvalidArgumentError("cannot be negative", { field: `spec.task_template.resources.${kind}` });
    }
  }
  validateUpdateConfig(spec.updateConfig, "spec.update_config");
  validateUpdateConfig(spec.rollbackConfig, "spec.rollback_config");
  return spec;
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
  for (const [name, d] of [
    ["delay", config.delay],
    ["monitor", config.monitor],
  ] as const) {
    if (d !== undefined && (d.seconds < 0 || d.nanos < 0)) {
      throw new InvalidArgumentError("cannot be negative", { field: `${field}.${name}` });
    }
  }
  if ((UpdateFailureAction[config.failureAction] as string | undefined) === undefined) {
    throw new InvalidArgumentError(`unknown failure action ${config.failureAction}`, {
      field: `${field}.failure_action`,
    });
  }
  if ((UpdateOrder[config.order] as string | undefined) === undefined) {
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
