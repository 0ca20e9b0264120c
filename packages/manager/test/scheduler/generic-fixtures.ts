// Nodes with generic resources and tasks that reserve them or list platforms, for the scheduler's
// tests (on top of fixtures.ts).
import type { Task } from "@shoal/shared";
import { discreteResource, namedResource, type GenericResource, type Node } from "@shoal/shared";
import { makeNode, makeTask, type NodeOptions, type TaskOptions } from "./fixtures.js";

/** A ready worker that advertises `generic` (e.g. gpuUnits("a0", "a1")). */
export function genericNode(hostname: string, generic: GenericResource[], o: NodeOptions = {}): Node {
  const node = makeNode(hostname, o);
  node.description!.resources!.generic = generic;
  return node;
}

/** Named gpu units. */
export const gpuUnits = (...names: string[]): GenericResource[] => names.map((n) => namedResource("gpu", n));

/** A task that reserves `count` of each kind in `wants`, and (optionally) lists platforms. */
export function genericTask(
  serviceId: string,
  slot: number,
  wants: Record<string, number>,
  o: TaskOptions & { platforms?: { os: string; architecture: string }[]; assigned?: GenericResource[] } = {},
): Task {
  const task = makeTask(serviceId, slot, o);
  task.spec!.resources!.reservations!.generic = Object.entries(wants).map(([k, n]) => discreteResource(k, n));
  task.spec!.placement!.platforms = o.platforms ?? [];
  task.assignedGenericResources = o.assigned ?? [];
  return task;
}
