// What the orchestrators ask about a node. Placement constraints are the scheduler's language; the
// global orchestrator takes its matcher as a function (`NodeMatcher`) so that it checks them the
// same way the scheduler does.
import { NodeAvailability, NodeState, type Node, type TaskSpec } from "@shoal/shared";

/** Whether `node` satisfies the placement constraints of `spec`. */
export type NodeMatcher = (node: Node, spec: TaskSpec | undefined) => boolean;

/** The default matcher: every node matches (no constraint is checked). */
export const matchEveryNode: NodeMatcher = () => true;

export function nodeAvailability(node: Node): NodeAvailability {
  return node.spec?.availability ?? NodeAvailability.ACTIVE;
}

export function nodeState(node: Node): NodeState {
  return node.status?.state ?? NodeState.UNKNOWN;
}

/**
 * A replicated task on this node must move: the node is gone from the store, DOWN (missed its
 * heartbeats past the grace time) or drained. UNKNOWN and DISCONNECTED nodes keep their tasks.
 */
export function nodeLost(node: Node | undefined): boolean {
  return node === undefined || nodeState(node) === NodeState.DOWN || nodeAvailability(node) === NodeAvailability.DRAIN;
}

/** A global service may start a new task on this node: up (not DOWN), ACTIVE, constraints met. */
export function acceptsNewTask(node: Node | undefined, spec: TaskSpec | undefined, matches: NodeMatcher): boolean {
  return (
    node !== undefined &&
    nodeState(node) !== NodeState.DOWN &&
    nodeAvailability(node) === NodeAvailability.ACTIVE &&
    matches(node, spec)
  );
}

/**
 * A global service keeps its task on this node: the node exists, is not drained, and meets the
 * constraints. A paused node keeps its task; a DOWN one too (it may still run it, cut off).
 */
export function keepsTask(node: Node | undefined, spec: TaskSpec | undefined, matches: NodeMatcher): boolean {
  return node !== undefined && nodeAvailability(node) !== NodeAvailability.DRAIN && matches(node, spec);
}

/** What about a node can change where per-node tasks go (global services and jobs). */
export function placementKey(node: Node): string {
  return JSON.stringify([
    nodeState(node),
    nodeAvailability(node),
    node.role,
    node.spec?.annotations?.labels ?? {},
    node.description?.hostname ?? "",
    node.description?.platform ?? {},
    node.description?.engine?.labels ?? {},
  ]);
}
