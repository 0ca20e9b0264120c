// NodeFilters of ListNodes: fields combine with AND, values within a field with OR.
import type { Node, NodeFilters } from "@shoal/shared";

export function matchesNodeFilters(node: Node, filters: NodeFilters | undefined): boolean {
  if (!filters) return true;
  const hostname = node.description?.hostname ?? "";
  const labels = node.spec?.annotations?.labels ?? {};
  if (filters.names.length > 0 && !filters.names.includes(hostname)) return false;
  if (filters.namePrefixes.length > 0 && !filters.namePrefixes.some((p) => hostname.startsWith(p))) return false;
  if (filters.idPrefixes.length > 0 && !filters.idPrefixes.some((p) => node.id.startsWith(p))) return false;
  if (filters.roles.length > 0 && !filters.roles.includes(node.role)) return false;
  for (const [key, value] of Object.entries(filters.labels)) {
    if (!(key in labels) || (value !== "" && labels[key] !== value)) return false;
  }
  return true;
}
