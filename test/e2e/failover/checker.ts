// The checker: pure functions from what the writer saw and what the cluster shows at the end to
// a list of violations (empty when all is well).
//
// Writes: each service sees its writes one at a time, and each write sets the whole outcome
// (create and scale set the replicas, remove deletes), so the final state of a service is the
// effect of its last acknowledged write, or of a write left ambiguous (a timed-out write may be
// applied late, after writes that followed it). A refused write must have no effect.
//
// Tasks: every service runs as many tasks as its spec asks, each slot once, and the hosts'
// dockerds run exactly those containers: none for a removed service, never two for one slot.
import type { WriteRecord } from "./history.js";

/** The final state of a service: its replicas, or undefined when it does not exist. */
export type ServiceState = number | undefined;

function effect(w: WriteRecord): ServiceState {
  return w.kind === "remove" ? undefined : w.replicas;
}

function show(s: ServiceState): string {
  return s === undefined ? "absent" : `${s} replicas`;
}

/** Violations of the history by the services seen at the end (name -> replicas), for the writer's names. */
export function checkWrites(records: readonly WriteRecord[], observed: ReadonlyMap<string, number>): string[] {
  const byService = new Map<string, WriteRecord[]>();
  for (const r of records) {
    const list = byService.get(r.service) ?? [];
    list.push(r);
    byService.set(r.service, list);
  }
  const violations: string[] = [];
  for (const [name, writes] of byService) {
    const acked = writes.filter((w) => w.outcome === "acked");
    const last = acked.at(-1);
    const allowed = new Set<ServiceState>([last ? effect(last) : undefined]);
    for (const w of writes) if (w.outcome === "ambiguous") allowed.add(effect(w));
    const seen = observed.get(name);
    if (allowed.has(seen)) continue;
    const refused = writes.filter((w) => w.outcome === "refused" && effect(w) === seen);
    const why = refused.length > 0 ? ` (a refused ${refused[0]!.kind} would explain it: ${refused[0]!.error})` : "";
    violations.push(
      `${name}: ${show(seen)}, expected ${[...allowed].map(show).join(" or ")}${why}; writes: ${writes
        .map((w) => `${w.kind}${w.replicas !== undefined ? `(${w.replicas})` : ""}:${w.outcome}`)
        .join(", ")}`,
    );
  }
  return violations;
}

export interface ServiceView {
  readonly id: string;
  readonly name: string;
  readonly replicas: number;
}

export interface TaskView {
  readonly id: string;
  readonly serviceId: string;
  readonly slot: number;
  readonly nodeId: string;
  /** Desired running and running. */
  readonly running: boolean;
}

export interface ContainerView {
  readonly host: string;
  readonly id: string;
  readonly serviceId: string;
  readonly slot: string;
  readonly taskId: string;
}

/** Violations of the services' specs by the task list and by the containers the dockerds run. */
export function checkTasks(
  services: readonly ServiceView[],
  tasks: readonly TaskView[],
  containers: readonly ContainerView[],
): string[] {
  const violations: string[] = [];
  const known = new Set(services.map((s) => s.id));
  for (const s of services) {
    const running = tasks.filter((t) => t.serviceId === s.id && t.running);
    const slots = new Set(running.map((t) => t.slot));
    if (running.length !== s.replicas || slots.size !== running.length) {
      violations.push(`${s.name}: ${running.length} running tasks in ${slots.size} slots, spec ${s.replicas}`);
    }
    const mine = containers.filter((c) => c.serviceId === s.id);
    if (mine.length !== s.replicas) {
      violations.push(
        `${s.name}: ${mine.length} running containers (${mine.map((c) => `${c.host}/slot ${c.slot}`).join(", ")}), spec ${s.replicas}`,
      );
    }
    const perSlot = new Map<string, ContainerView[]>();
    for (const c of mine) perSlot.set(c.slot, [...(perSlot.get(c.slot) ?? []), c]);
    for (const [slot, list] of perSlot) {
      if (list.length > 1) {
        violations.push(
          `${s.name}: slot ${slot} has ${list.length} running containers on ${list.map((c) => c.host).join(", ")}`,
        );
      }
    }
    const taskIds = new Set(running.map((t) => t.id));
    for (const c of mine) {
      if (!taskIds.has(c.taskId))
        violations.push(`${s.name}: container ${c.id} on ${c.host} runs task ${c.taskId}, not a running task`);
    }
  }
  for (const c of containers) {
    if (!known.has(c.serviceId))
      violations.push(`container ${c.id} on ${c.host} runs for service ${c.serviceId}, which does not exist`);
  }
  return violations;
}
