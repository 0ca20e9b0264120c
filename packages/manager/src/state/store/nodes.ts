// The nodes table: by id and by name (the operator's name for the node if set, else its hostname).
// Names of nodes need not be unique: two hosts may share a hostname.
import { Node, type NodeRole } from "@shoal/shared";
import { namedLookups, namedMatches, nonEmpty, ownMetaDates, type NamedQuery } from "./query.js";
import { Table, type TableSchema } from "./table.js";

export interface NodeQuery extends NamedQuery {
  readonly role?: NodeRole | undefined;
}

/** The name a node is known by: `spec.annotations.name` when set, else its hostname. */
export function nodeName(node: Node): string | undefined {
  return nonEmpty(node.spec?.annotations?.name) ?? nonEmpty(node.description?.hostname);
}

export function copyNode(node: Node): Node {
  const copy = Node.fromPartial(node);
  ownMetaDates(copy.meta);
  return copy;
}

export const nodeSchema: TableSchema<Node, NodeQuery> = {
  table: "nodes",
  kind: "node",
  indexes: [{ name: "name", key: nodeName }],
  copy: copyNode,
  lookups: namedLookups,
  matches: (node, q) => namedMatches(node.id, nodeName(node), q) && (q.role === undefined || node.role === q.role),
};

export function createNodeTable(): Table<Node, NodeQuery> {
  return new Table(nodeSchema);
}
