// A node's generic resources (GPUs, ...) as the scheduler counts them: what the node advertises
// (named units, or a count, per kind) and what the tasks it holds were given. A task reserves a
// count of a kind; placing it claims that many units: named ones by name, the first free in the
// order the node advertises them (so two tasks never share a GPU), or a part of a count. What a
// task holds is what the store says it was given (Task.assigned_generic_resources), so a new
// leader counts the same.
import { discreteResource, namedResource, resourceKind, type GenericResource } from "@shoal/shared";

/** A count of a kind that a task reserves. */
export interface GenericWant {
  readonly kind: string;
  readonly count: number;
}

interface Capacity {
  /** Named units in the order advertised; empty for a counted kind. */
  readonly named: string[];
  /** The count of a counted kind (named units win if a node gives both). */
  discrete: number;
}

export class GenericPool {
  private capacity = new Map<string, Capacity>();
  /** kind -> unit -> tasks holding it (more than one only if the store says so). */
  private readonly usedNamed = new Map<string, Map<string, number>>();
  /** kind -> count held. */
  private readonly usedDiscrete = new Map<string, number>();

  /** Takes what the node now advertises; what tasks hold is kept. */
  setCapacity(resources: readonly GenericResource[]): void {
    const capacity = new Map<string, Capacity>();
    for (const r of resources) {
      const kind = resourceKind(r);
      let c = capacity.get(kind);
      if (c === undefined) capacity.set(kind, (c = { named: [], discrete: 0 }));
      if (r.resource?.$case === "named") {
        if (!c.named.includes(r.resource.value.value)) c.named.push(r.resource.value.value);
      } else if (r.resource?.$case === "discrete") c.discrete += r.resource.value.value;
    }
    this.capacity = capacity;
  }

  /** Units of `kind` not held by a task. */
  available(kind: string): number {
    const c = this.capacity.get(kind);
    if (c === undefined) return 0;
    if (c.named.length === 0) return c.discrete - (this.usedDiscrete.get(kind) ?? 0);
    const used = this.usedNamed.get(kind);
    if (used === undefined) return c.named.length;
    let free = 0;
    for (const unit of c.named) if ((used.get(unit) ?? 0) === 0) free++;
    return free;
  }

  /** Whether every want fits in what is free. */
  fits(wants: readonly GenericWant[]): boolean {
    return wants.every((w) => w.count <= this.available(w.kind));
  }

  /**
   * The resources a task that wants `wants` would be given here (not yet held: `hold` does that),
   * or undefined if they do not fit.
   */
  claim(wants: readonly GenericWant[]): GenericResource[] | undefined {
    const out: GenericResource[] = [];
    for (const w of wants) {
      if (w.count > this.available(w.kind)) return undefined;
      const c = this.capacity.get(w.kind)!;
      if (c.named.length === 0) {
        out.push(discreteResource(w.kind, w.count));
        continue;
      }
      const used = this.usedNamed.get(w.kind);
      let n = 0;
      for (const unit of c.named) {
        if (n === w.count) break;
        if ((used?.get(unit) ?? 0) > 0) continue;
        out.push(namedResource(w.kind, unit));
        n++;
      }
    }
    return out;
  }

  /** Counts (sign 1) or releases (-1) what a task was given. */
  hold(assigned: readonly GenericResource[], sign: 1 | -1): void {
    for (const r of assigned) {
      const kind = resourceKind(r);
      if (r.resource?.$case === "named") {
        let used = this.usedNamed.get(kind);
        if (used === undefined) this.usedNamed.set(kind, (used = new Map()));
        const n = (used.get(r.resource.value.value) ?? 0) + sign;
        if (n > 0) used.set(r.resource.value.value, n);
        else used.delete(r.resource.value.value);
        if (used.size === 0) this.usedNamed.delete(kind);
      } else if (r.resource?.$case === "discrete") {
        const n = (this.usedDiscrete.get(kind) ?? 0) + sign * r.resource.value.value;
        if (n > 0) this.usedDiscrete.set(kind, n);
        else this.usedDiscrete.delete(kind);
      }
    }
  }
}

/** The counts a task's reservations ask for, one per kind (named entries are not a request). */
export function genericWants(reservations: readonly GenericResource[] | undefined): GenericWant[] {
  const byKind = new Map<string, number>();
  for (const r of reservations ?? []) {
    if (r.resource?.$case !== "discrete" || r.resource.value.value <= 0) continue;
    const kind = r.resource.value.kind;
    byKind.set(kind, (byKind.get(kind) ?? 0) + r.resource.value.value);
  }
  return [...byKind].map(([kind, count]) => ({ kind, count }));
}

/** Two lists of given resources are the same (in order). */
export function sameResources(a: readonly GenericResource[], b: readonly GenericResource[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((r, i) => {
    const o = b[i]!;
    return (
      r.resource?.$case === o.resource?.$case &&
      r.resource?.value.kind === o.resource?.value.kind &&
      r.resource?.value.value === o.resource?.value.value
    );
  });
}
