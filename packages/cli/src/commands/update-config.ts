// The --update-* and --rollback-* flags of `service create` and `service update`: how a service is
// rolled to a new spec, and back. As with Docker, a flag changes one field of the config; the
// others keep their value (on create: Swarm's defaults, parallelism 1, monitor 5s, pause, stop-first).
import type { Command } from "commander";
import {
  InvalidArgumentError,
  UpdateConfig,
  UpdateFailureAction,
  UpdateOrder,
  durationFromMs,
  type DeepPartial,
} from "@shoal/shared";
import { parseDuration } from "../output/duration.js";
import { wholeNumber } from "./task-flags.js";

export type UpdateKind = "update" | "rollback";

export interface UpdateConfigFlags {
  updateParallelism?: string;
  updateDelay?: string;
  updateOrder?: string;
  updateFailureAction?: string;
  updateMonitor?: string;
  updateMaxFailureRatio?: string;
  rollbackParallelism?: string;
  rollbackDelay?: string;
  rollbackOrder?: string;
  rollbackFailureAction?: string;
  rollbackMonitor?: string;
  rollbackMaxFailureRatio?: string;
}

/** What the flags of one kind change; a field left out is kept. */
export type UpdateConfigEdit = Partial<UpdateConfig>;

/** Swarm's defaults: one task at a time, watched 5 s, pause on failure, stop the old task first. */
export const DEFAULT_UPDATE_CONFIG: UpdateConfig = UpdateConfig.fromPartial({
  parallelism: 1,
  delay: durationFromMs(0),
  failureAction: UpdateFailureAction.PAUSE,
  monitor: durationFromMs(5000),
  maxFailureRatio: 0,
  order: UpdateOrder.STOP_FIRST,
});

export const ORDER_NAMES: Record<string, UpdateOrder> = {
  "stop-first": UpdateOrder.STOP_FIRST,
  "start-first": UpdateOrder.START_FIRST,
};

export const FAILURE_ACTION_NAMES: Record<string, UpdateFailureAction> = {
  pause: UpdateFailureAction.PAUSE,
  continue: UpdateFailureAction.CONTINUE,
  rollback: UpdateFailureAction.ROLLBACK,
};

/** Registers --update-* and --rollback-* on a command. */
export function addUpdateConfigOptions(cmd: Command): Command {
  for (const kind of ["update", "rollback"] as const) {
    const actions = kind === "update" ? "pause, continue or rollback" : "pause or continue";
    const a = kind === "update" ? "an update" : "a rollback";
    cmd
      .option(`--${kind}-parallelism <n>`, `tasks replaced at once in ${a} (0: all at once; default 1)`)
      .option(`--${kind}-delay <d>`, `wait between two batches of ${a} (default 0s)`)
      .option(`--${kind}-order <order>`, `stop-first (default) or start-first`)
      .option(`--${kind}-failure-action <action>`, `on a failed task in ${a}: ${actions} (default pause)`)
      .option(`--${kind}-monitor <d>`, `how long a replaced task is watched for failure (default 5s)`)
      .option(`--${kind}-max-failure-ratio <f>`, `fraction of failed tasks tolerated, 0 to 1 (default 0)`);
  }
  return cmd;
}

function flagValues(flags: UpdateConfigFlags, kind: UpdateKind): (string | undefined)[] {
  return kind === "update"
    ? [
        flags.updateParallelism,
        flags.updateDelay,
        flags.updateOrder,
        flags.updateFailureAction,
        flags.updateMonitor,
        flags.updateMaxFailureRatio,
      ]
    : [
        flags.rollbackParallelism,
        flags.rollbackDelay,
        flags.rollbackOrder,
        flags.rollbackFailureAction,
        flags.rollbackMonitor,
        flags.rollbackMaxFailureRatio,
      ];
}

/** The fields the --KIND-* flags set; undefined when none is given. Bad values name their flag. */
export function parseUpdateConfigFlags(flags: UpdateConfigFlags, kind: UpdateKind): UpdateConfigEdit | undefined {
  const [parallelism, delay, order, failureAction, monitor, ratio] = flagValues(flags, kind);
  const edit: UpdateConfigEdit = {};
  if (parallelism !== undefined) edit.parallelism = wholeNumber(parallelism, `--${kind}-parallelism`);
  if (delay !== undefined) edit.delay = durationFromMs(parseDuration(delay, `--${kind}-delay`));
  if (monitor !== undefined) edit.monitor = durationFromMs(parseDuration(monitor, `--${kind}-monitor`));
  if (order !== undefined) {
    const value = ORDER_NAMES[order];
    if (value === undefined) {
      throw new InvalidArgumentError(`"${order}" is not stop-first or start-first`, { field: `--${kind}-order` });
    }
    edit.order = value;
  }
  if (failureAction !== undefined) {
    const value = FAILURE_ACTION_NAMES[failureAction];
    // A rollback that fails cannot roll back again.
    if (value === undefined || (kind === "rollback" && value === UpdateFailureAction.ROLLBACK)) {
      const allowed = kind === "update" ? "pause, continue or rollback" : "pause or continue";
      throw new InvalidArgumentError(`"${failureAction}" is not ${allowed}`, { field: `--${kind}-failure-action` });
    }
    edit.failureAction = value;
  }
  if (ratio !== undefined) {
    const n = Number(ratio);
    if (!/^\d*\.?\d+$/.test(ratio) || !(n >= 0 && n <= 1)) {
      throw new InvalidArgumentError(`"${ratio}" is not a number from 0 to 1`, {
        field: `--${kind}-max-failure-ratio`,
      });
    }
    edit.maxFailureRatio = n;
  }
  return Object.keys(edit).length > 0 ? edit : undefined;
}

/** The config with the edit applied; an unset config starts from Swarm's defaults. */
export function applyUpdateConfig(base: UpdateConfig | undefined, edit: UpdateConfigEdit | undefined): UpdateConfig {
  const start: DeepPartial<UpdateConfig> = base ?? DEFAULT_UPDATE_CONFIG;
  return UpdateConfig.fromPartial({ ...start, ...edit });
}
