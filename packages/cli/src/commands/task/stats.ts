// Stats and top of task containers: one call per container through the managers, in parallel,
// each row named by its task container and node (from the manager's tasks). Stats streams (a
// table redrawn every second) unless --no-stream.
import { containerName } from "@shoal/agent";
import {
  containerOpen,
  ContainerOp,
  TaskState,
  errorMessage,
  type ContainerCallStarted,
  type Node,
  type Task,
} from "@shoal/shared";
import type { Control } from "../../client.js";
import { type ContainerCalls } from "./container-call.js";
import {
  serviceTopTable,
  statsJson,
  statsRow,
  statsTable,
  topAnswer,
  type StatsRow,
  type TaskTop,
} from "./container-output.js";
import { abortOnSignals } from "./terminal.js";
import { allNodes, serviceTasks } from "../../list.js";

/** Task containers by task id, and node names by node id, to label rows with. */
export interface ClusterNames {
  tasks: ReadonlyMap<string, Task>;
  nodes: ReadonlyMap<string, string>;
}

export async function clusterNames(control: Pick<Control, "call">, serviceId?: string): Promise<ClusterNames> {
  const [tasks, nodes] = await Promise.all([serviceTasks(control, serviceId), allNodes(control)]);
  return {
    tasks: new Map(tasks.map((t) => [t.id, t])),
    nodes: new Map<string, string>(nodes.map((n: Node) => [n.id, n.description?.hostname || n.id])),
  };
}

/** The task ids of the running task containers (of one service, when names were listed for one). */
export function runningTaskIds(names: ClusterNames): string[] {
  return [...names.tasks.values()]
    .filter((t) => t.status?.state === TaskState.RUNNING && (t.status.containerStatus?.containerId ?? "") !== "")
    .sort((a, b) => containerName(a).localeCompare(containerName(b), undefined, { numeric: true }))
    .map((t) => t.id);
}

function label(
  names: ClusterNames,
  started: ContainerCallStarted | undefined,
  asked: string,
): { name: string; node: string } {
  const task = names.tasks.get(started?.taskId ?? "");
  return {
    name: task ? containerName(task) : asked,
    node: names.nodes.get(started?.nodeId ?? "") ?? started?.nodeId ?? "",
  };
}

/**
 * `each` of every target, in parallel: the results that worked, and the first failure (the
 * others are printed to stderr at once).
 */
async function settle<T>(
  targets: readonly string[],
  each: (target: string) => Promise<T>,
): Promise<{ ok: T[]; failure: Error | undefined }> {
  const results = await Promise.allSettled(targets.map(each));
  const failed = results.flatMap((r, i) =>
    r.status === "rejected" ? [new Error(`${targets[i]}: ${errorMessage(r.reason)}`)] : [],
  );
  for (const f of failed.slice(1)) process.stderr.write(`shoal: ${f.message}\n`);
  return { ok: results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])), failure: failed[0] };
}

/** One stats sample of each target (docker stats --no-stream), printed as a table or JSON. */
export async function printStatsOnce(
  calls: ContainerCalls,
  names: ClusterNames,
  targets: readonly string[],
  json: boolean,
): Promise<void> {
  const signal = new AbortController().signal;
  const { ok: rows, failure } = await settle(targets, async (target) => {
    const open = containerOpen(target, ContainerOp.STATS, { stats: { stream: false, oneShot: false } });
    const { started, json: docs } = await calls.collect(open, signal);
    const { name, node } = label(names, started, target);
    return statsRow(started?.containerId ?? "", name, node, docs[0]);
  });
  process.stdout.write(json ? statsJson(rows) : statsTable(rows));
  if (failure) throw failure;
}

/** Live stats of the targets: a table redrawn every second until interrupted. */
export async function streamStats(
  calls: ContainerCalls,
  names: ClusterNames,
  targets: readonly string[],
): Promise<void> {
  const controller = new AbortController();
  const signals = abortOnSignals(controller);
  const rows = new Map<string, StatsRow>();
  const tty = process.stdout.isTTY === true;
  const draw = (): void => {
    const ordered = targets.flatMap((t) => (rows.has(t) ? [rows.get(t)!] : []));
    process.stdout.write(`${tty ? "\x1b[2J\x1b[H" : ""}${statsTable(ordered)}`);
  };
  const timer = setInterval(draw, 1000);
  try {
    const done = settle(targets, async (target) => {
      const open = containerOpen(target, ContainerOp.STATS, { stats: { stream: true, oneShot: false } });
      await calls.collect(open, controller.signal, (doc, started) => {
        const { name, node } = label(names, started, target);
        rows.set(target, statsRow(started?.containerId ?? "", name, node, doc));
      });
      rows.delete(target);
    });
    const { failure } = await done;
    if (failure) throw failure;
  } finally {
    clearInterval(timer);
    signals.stop();
  }
}

/** The processes of each target (a service's tasks), in one table with TASK and NODE. */
export async function printServiceTop(
  calls: ContainerCalls,
  names: ClusterNames,
  targets: readonly string[],
  psArgs: string,
): Promise<void> {
  const signal = new AbortController().signal;
  const { ok: tops, failure } = await settle<TaskTop>(targets, async (target) => {
    const { started, json } = await calls.collect(containerOpen(target, ContainerOp.TOP, { top: { psArgs } }), signal);
    const { name, node } = label(names, started, target);
    return { task: name, node, top: topAnswer(json[0]) };
  });
  process.stdout.write(serviceTopTable(tops));
  if (failure) throw failure;
}
