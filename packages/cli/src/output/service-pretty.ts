// `service inspect --pretty`: a service as `docker service inspect --pretty` shows one, with the
// update status and the update and rollback configs (unset fields shown with their defaults).
import {
  RebalanceMode,
  UpdateFailureAction,
  UpdateOrder,
  durationToMs,
  type Service,
  type UpdateConfig,
} from "@shoal/shared";
import { containerSpecLines } from "./container-pretty.js";
import { formatDuration } from "./duration.js";
import { jobStatusLines, modeName } from "./job.js";
import { mountLines } from "./mounts-pretty.js";
import { networkLines } from "./network-pretty.js";
import { secretRefLines } from "./secret-refs-pretty.js";
import { scheduleLines } from "./schedule.js";
import { updateStateName } from "./json.js";

const capital = (s: string): string => s.replace(/^./, (c) => c.toUpperCase());
const lower = (name: string | undefined): string => (name ?? "").toLowerCase();

function ago(date: Date | undefined, now: number): string {
  if (!date) return "";
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  const text = s < 60 ? `${s} seconds` : s < 3600 ? `${Math.round(s / 60)} minutes` : `${Math.round(s / 3600)} hours`;
  return `${text} ago`;
}

function configLines(title: string, c: UpdateConfig | undefined): string[] {
  const parallelism = c === undefined ? 1 : c.parallelism;
  return [
    `${title}:`,
    ` Parallelism:\t${parallelism === 0 ? "0 (all at once)" : parallelism}`,
    ...(c?.delay && durationToMs(c.delay, 0) > 0 ? [` Delay:\t\t${formatDuration(durationToMs(c.delay, 0))}`] : []),
    ` On failure:\t${lower(UpdateFailureAction[c?.failureAction ?? UpdateFailureAction.PAUSE])}`,
    ` Monitoring Period: ${formatDuration(durationToMs(c?.monitor, 5000))}`,
    ` Max failure ratio: ${c?.maxFailureRatio ?? 0}`,
    ` Update order:      ${lower(UpdateOrder[c?.order ?? UpdateOrder.STOP_FIRST]).replace("_", "-")}`,
  ];
}

export function prettyService(service: Service, now = Date.now()): string {
  const spec = service.spec;
  const mode = spec?.mode;
  const container = spec?.taskTemplate?.container;
  const status = service.updateStatus;
  const lines = [
    `ID:\t\t${service.id}`,
    `Name:\t\t${spec?.annotations?.name ?? ""}`,
    ...Object.entries(spec?.annotations?.labels ?? {}).map(([k, v], i) => `${i === 0 ? "Labels:\n" : ""} ${k}=${v}`),
    `Service Mode:\t${capital(modeName(service))}`,
    ...(mode?.$case === "replicated" ? [` Replicas:\t${mode.value.replicas}`] : []),
    ...(mode?.$case === "replicatedJob"
      ? [` Max Concurrent:\t${mode.value.maxConcurrent}`, ` Total Completions:\t${mode.value.totalCompletions}`]
      : []),
    ...jobStatusLines(service),
    ...scheduleLines(service, now),
  ];
  const state = updateStateName(status?.state);
  if (status && state !== "") {
    lines.push("UpdateStatus:", ` State:\t\t${state}`);
    if (status.startedAt) lines.push(` Started:\t${ago(status.startedAt, now)}`);
    if (status.completedAt) lines.push(` Completed:\t${ago(status.completedAt, now)}`);
    lines.push(` Message:\t${status.message}`);
  }
  const rebalance = service.rebalanceStatus;
  if (spec?.rebalance === RebalanceMode.AUTO) lines.push("Rebalance:\tauto");
  if (rebalance && updateStateName(rebalance.state) !== "") {
    lines.push("RebalanceStatus:", ` State:\t\t${updateStateName(rebalance.state)}`);
    if (rebalance.startedAt) lines.push(` Started:\t${ago(rebalance.startedAt, now)}`);
    if (rebalance.completedAt) lines.push(` Completed:\t${ago(rebalance.completedAt, now)}`);
    lines.push(` Moved:\t\t${rebalance.moved}`, ` Message:\t${rebalance.message}`);
  }
  const placement = spec?.taskTemplate?.placement;
  if (placement && (placement.constraints.length > 0 || placement.maxReplicasPerNode > 0)) {
    lines.push("Placement:");
    if (placement.constraints.length > 0) lines.push(` Constraints:\t[${placement.constraints.join(" ")}]`);
    if (placement.maxReplicasPerNode > 0) lines.push(` Max Replicas Per Node:  ${placement.maxReplicasPerNode}`);
  }
  // A job has no rollout, and so no update or rollback config.
  if (service.jobStatus === undefined) {
    lines.push(
      ...configLines("UpdateConfig", spec?.updateConfig),
      ...configLines("RollbackConfig", spec?.rollbackConfig),
    );
  }
  lines.push("ContainerSpec:", ` Image:\t\t${container?.image ?? ""}`);
  if (container?.args.length) lines.push(` Args:\t\t${container.args.join(" ")}`);
  if (container?.env.length) lines.push(` Env:\t\t${container.env.join(" ")}`);
  const health = container?.healthcheck?.test;
  if (health?.length) lines.push(` Healthcheck:\t${health.join(" ")}`);
  if (spec?.taskTemplate?.forceUpdate) lines.push(` Force update:\t${spec.taskTemplate.forceUpdate}`);
  lines.push(...containerSpecLines(spec?.taskTemplate));
  lines.push(...mountLines(container?.mounts));
  lines.push(...secretRefLines(container));
  lines.push(...networkLines(service));
  return `${lines.join("\n")}\n`;
}
