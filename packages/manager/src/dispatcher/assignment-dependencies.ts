// The secrets and configs one node's assignments stream carries: those its tasks use, counted per
// node. A task holds its references from the time it is dispatched to the node until it ends or
// leaves the node (as SwarmKit: an ended task needs no secret). The first task to hold one sends
// it (with its data) before the task itself; when the last one lets go, a REMOVE with the id only
// follows. Incremental: each task event touches that task's references alone.
import { AssignmentAction, type AssignmentChange, type Config, type Secret, type Task } from "@shoal/shared";
import { hasEnded } from "../orchestrator/task-states.js";

export type DependencyKind = "secret" | "config";

/** Reads a secret or config by id (undefined once it is gone). */
export type DependencyLookup = (kind: DependencyKind, id: string) => Secret | Config | undefined;

/** What a task event adds to the stream around the task's own change. */
export interface DependencyChanges {
  /** Secrets and configs to send before the task (the agent needs them to start it). */
  readonly before: AssignmentChange[];
  /** Removals to send after the task's own change. */
  readonly after: AssignmentChange[];
}

const key = (kind: DependencyKind, id: string): string => `${kind}:${id}`;

function split(k: string): [DependencyKind, string] {
  const at = k.indexOf(":");
  return [k.slice(0, at) as DependencyKind, k.slice(at + 1)];
}

/** The references a task holds while dispatched to the node and not ended. */
export function dependenciesOf(task: Task): string[] {
  if (hasEnded(task)) return [];
  const c = task.spec?.container;
  const out = new Set<string>();
  for (const r of c?.secrets ?? []) if (r.secretId !== "") out.add(key("secret", r.secretId));
  for (const r of c?.configs ?? []) if (r.configId !== "") out.add(key("config", r.configId));
  return [...out];
}

export function dependencyChange(
  action: AssignmentAction,
  kind: DependencyKind,
  obj: Secret | Config,
): AssignmentChange {
  return {
    action,
    task: undefined,
    secret: kind === "secret" ? obj : undefined,
    config: kind === "config" ? obj : undefined,
    network: undefined,
  };
}

export class NodeDependencies {
  /** Task id -> the references it holds. */
  private readonly held = new Map<string, readonly string[]>();
  /** Reference -> how many tasks hold it. */
  private readonly counts = new Map<string, number>();

  /** How many secrets and configs the node holds now. */
  get size(): number {
    return this.counts.size;
  }

  /**
   * The task `taskId` now holds what `task` references (none when `task` is undefined: it left the
   * node). Returns the changes that go around the task's own.
   */
  track(taskId: string, task: Task | undefined, lookup: DependencyLookup): DependencyChanges {
    const before: AssignmentChange[] = [];
    const after: AssignmentChange[] = [];
    const now = task === undefined ? [] : dependenciesOf(task);
    const was = this.held.get(taskId) ?? [];
    if (now.length === 0) this.held.delete(taskId);
    else this.held.set(taskId, now);
    for (const k of now) {
      if (was.includes(k)) continue;
      const count = (this.counts.get(k) ?? 0) + 1;
      this.counts.set(k, count);
      if (count > 1) continue;
      const [kind, id] = split(k);
      const obj = lookup(kind, id);
      // Gone already (removed after this task left its service): nothing to send.
      if (obj !== undefined) before.push(dependencyChange(AssignmentAction.UPDATE, kind, obj));
    }
    for (const k of was) {
      if (now.includes(k)) continue;
      const count = (this.counts.get(k) ?? 1) - 1;
      if (count > 0) {
        this.counts.set(k, count);
        continue;
      }
      this.counts.delete(k);
      const [kind, id] = split(k);
      after.push(dependencyChange(AssignmentAction.REMOVE, kind, { id, meta: undefined, spec: undefined }));
    }
    return { before, after };
  }
}
