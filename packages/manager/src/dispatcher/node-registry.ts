// The nodes a manager knows, and what their heartbeats say about them. Until the Raft store
// lands (issue "Raft"), this in-memory table is the manager's state; the dispatcher writes it and
// the Control API reads it. Reads return copies.
import { Node, NodeAvailability, NodeRole, NodeState, type Clock, type NodeDescription } from "@shoal/shared";

export interface NodeRegistryEvents {
  onStateChange?(node: Node, previous: NodeState): void;
}

export class NodeRegistry {
  private readonly nodes = new Map<string, Node>();
  private version = 0;

  constructor(
    private readonly clock: Clock,
    private readonly events: NodeRegistryEvents = {},
  ) {}

  /** Adds a node or refreshes its description; returns a copy of it. */
  register(id: string, description: NodeDescription, addr: string): Node {
    const now = new Date(this.clock.now());
    const existing = this.nodes.get(id);
    const node =
      existing ??
      Node.create({
        id,
        meta: { createdAt: now },
        role: NodeRole.WORKER,
        spec: { availability: NodeAvailability.ACTIVE, desiredRole: NodeRole.WORKER },
        status: { state: NodeState.UNKNOWN },
      });
    node.description = description;
    node.meta = { ...node.meta!, version: { index: ++this.version }, updatedAt: now };
    this.nodes.set(id, node);
    this.setState(id, NodeState.READY, "", addr);
    return this.get(id)!;
  }

  setState(id: string, state: NodeState, message: string, addr?: string): void {
    const node = this.nodes.get(id);
    if (!node) return;
    const previous = node.status?.state ?? NodeState.UNKNOWN;
    node.status = { state, message, addr: addr ?? node.status?.addr ?? "" };
    if (previous !== state) {
      node.meta = { ...node.meta!, version: { index: ++this.version }, updatedAt: new Date(this.clock.now()) };
      this.events.onStateChange?.(Node.fromPartial(node), previous);
    }
  }

  get(id: string): Node | undefined {
    const node = this.nodes.get(id);
    return node && Node.fromPartial(node);
  }

  list(): Node[] {
    return [...this.nodes.values()].map((node) => Node.fromPartial(node));
  }
}
