// The --mode, --replicas and --max-concurrent flags of `shoal service create` and `update`, by
// the docker CLI's rules: replicated (the default), global, replicated-job, global-job; a
// replicated job's --replicas is its number of completions and --max-concurrent (default: the
// replicas) how many run at once.
import { InvalidArgumentError, type ServiceMode, type ServiceSpec } from "@shoal/shared";
import { wholeNumber } from "./task-flags.js";

export interface ModeFlags {
  mode: string;
  replicas?: string;
  maxConcurrent?: string;
}

const MODES = ["replicated", "global", "replicated-job", "global-job"];

export function isJobSpec(spec: ServiceSpec | undefined): boolean {
  const mode = spec?.mode?.$case;
  return mode === "replicatedJob" || mode === "globalJob";
}

/** The mode the flags ask for; each flag a mode cannot take is refused with its name. */
export function modeFromFlags(flags: ModeFlags): ServiceMode {
  const { mode } = flags;
  if (!MODES.includes(mode)) {
    throw new InvalidArgumentError(`"${mode}" is not a mode: use ${MODES.join(", ")}`, { field: "--mode" });
  }
  if (flags.maxConcurrent !== undefined && mode !== "replicated-job") {
    throw new InvalidArgumentError("max-concurrent can only be used with replicated-job mode", {
      field: "--max-concurrent",
    });
  }
  if (flags.replicas !== undefined && (mode === "global" || mode === "global-job")) {
    throw new InvalidArgumentError("replicas can only be used with replicated or replicated-job mode", {
      field: "--replicas",
    });
  }
  const replicas = flags.replicas === undefined ? undefined : wholeNumber(flags.replicas, "--replicas");
  switch (mode) {
    case "global":
      return { $case: "global", value: {} };
    case "global-job":
      return { $case: "globalJob", value: {} };
    case "replicated-job": {
      const concurrent =
        flags.maxConcurrent === undefined ? replicas : wholeNumber(flags.maxConcurrent, "--max-concurrent");
      return { $case: "replicatedJob", value: { totalCompletions: replicas ?? 0, maxConcurrent: concurrent ?? 0 } };
    }
    default:
      return { $case: "replicated", value: { replicas: replicas ?? 1 } };
  }
}

/** `spec`'s mode with `service update --replicas/--max-concurrent` applied (a copy). */
export function editMode(
  spec: ServiceSpec,
  replicas: number | undefined,
  maxConcurrent: number | undefined,
): ServiceMode | undefined {
  const mode = spec.mode;
  if (maxConcurrent !== undefined && mode?.$case !== "replicatedJob") {
    throw new InvalidArgumentError("max-concurrent can only be used with replicated-job mode", {
      field: "--max-concurrent",
    });
  }
  if (replicas === undefined && maxConcurrent === undefined) return mode;
  if (mode?.$case === "replicatedJob") {
    return {
      $case: "replicatedJob",
      value: {
        totalCompletions: replicas ?? mode.value.totalCompletions,
        maxConcurrent: maxConcurrent ?? mode.value.maxConcurrent,
      },
    };
  }
  if (mode?.$case === "global" || mode?.$case === "globalJob") {
    throw new InvalidArgumentError("replicas can only be used with replicated or replicated-job mode", {
      field: "--replicas",
    });
  }
  return { $case: "replicated", value: { replicas: replicas! } };
}
