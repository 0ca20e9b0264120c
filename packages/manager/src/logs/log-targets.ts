// Which nodes can have the lines of a log subscription: those of its tasks, and those of every
// task of its services that the store still holds. A subscription that follows a service goes to
// every agent instead, since the service's next tasks may start on any node.
import type { SubscribeLogsRequest } from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";

export function logNodes(store: MemoryStore, request: SubscribeLogsRequest): ReadonlySet<string> | undefined {
  const selector = request.selector;
  if (!selector) return new Set();
  if (request.options?.follow && selector.serviceIds.length > 0) return undefined;
  return store.view((tx) => {
    const nodes = new Set<string>();
    const add = (nodeId: string | undefined): void => {
      if (nodeId) nodes.add(nodeId);
    };
    for (const id of selector.taskIds) add(tx.tasks.get(id)?.nodeId);
    for (const serviceId of selector.serviceIds) for (const t of tx.tasks.find({ serviceId })) add(t.nodeId);
    return nodes;
  });
}
