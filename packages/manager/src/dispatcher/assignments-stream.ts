// One node's Assignments stream: the complete set of the tasks dispatched to it, then the changes
// of each commit that touches them. The secrets and configs those tasks use go along, each before
// the first task that needs it and removed after the last (assignment-dependencies.ts); so do the
// states of the networks the node needs (node-networks.ts). A resync of the store (a snapshot installed) ends the stream;
// the agent opens it again and gets a complete set.
import type * as grpc from "@grpc/grpc-js";
import {
  AssignmentAction,
  AssignmentsType,
  TaskState,
  errorMessage,
  whenWritable,
  type AssignmentChange,
  type AssignmentsRequest,
  type AssignmentsResponse,
  type Logger,
  type Task,
} from "@shoal/shared";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { NodeDependencies, type DependencyLookup } from "./assignment-dependencies.js";
import { NodeNetworks } from "./node-networks.js";

/** Tasks an agent is told about: assigned to it and past the scheduler. */
export function isDispatched(task: Task, nodeId: string): boolean {
  return task.nodeId === nodeId && (task.status?.state ?? TaskState.NEW) >= TaskState.ASSIGNED;
}

/**
 * Writes node `nodeId`'s assignments to `call` until the call is cancelled, the store resyncs or
 * the returned stop function is called (idempotent); the call is ended then.
 */
export function streamAssignments(
  store: MemoryStore,
  nodeId: string,
  call: grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>,
  logger: Logger,
): () => void {
  const deps = new NodeDependencies();
  const nets = new NodeNetworks(store, nodeId); // before the view: the index is not older than it
  const { result: initial, subscription } = store.viewAndWatch(
    (tx) => {
      const tasks = tx.tasks.find({ nodeId }).filter((t) => isDispatched(t, nodeId));
      const before = tasks.flatMap((t) => deps.track(t.id, t, lookupIn(tx)).before);
      return { tasks, before };
    },
    {
      tables: ["tasks"],
      commits: "always",
      capacity: 100_000,
      // Only this node's tasks (now or before the change) are copied for this session.
      peek: (_table, object, oldObject) =>
        (object as Task).nodeId === nodeId || (oldObject as Task | undefined)?.nodeId === nodeId,
    },
  );
  // What the agent holds: task id -> desired state and spec version we sent.
  const sent = new Map<string, string>();
  const fingerprint = (t: Task): string => `${t.desiredState}/${t.specVersion?.index ?? 0}`;
  let version = 0;
  for (const t of initial.tasks) sent.set(t.id, fingerprint(t));
  for (const t of initial.tasks) nets.track(t.id, t);
  call.write({
    type: AssignmentsType.COMPLETE,
    appliesTo: "",
    resultsIn: String(++version),
    changes: [
      ...nets.complete(),
      ...initial.before,
      ...initial.tasks.map((task) => ({
        action: AssignmentAction.UPDATE,
        task,
        secret: undefined,
        config: undefined,
        network: undefined,
      })),
    ],
  });
  const lookup: DependencyLookup = (kind, id) => store.view((tx) => lookupIn(tx)(kind, id));
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    subscription.close();
    nets.close();
  };
  call.on("cancelled", stop);
  void (async () => {
    let changes: AssignmentChange[] = [];
    try {
      for await (const ev of subscription) {
        if (ev.kind === "commit") {
          changes = nets.around(changes); // the networks' states before the tasks, removals after
          if (changes.length > 0) {
            const appliesTo = String(version);
            const more = call.write({
              type: AssignmentsType.INCREMENTAL,
              appliesTo,
              resultsIn: String(++version),
              changes,
            });
            changes = [];
            // A slow agent is not buffered for without bound: the store's events wait in this
            // subscription's queue (bounded: past it the stream ends and the agent resyncs).
            if (!more) await whenWritable(call);
          }
          continue;
        }
        if (ev.kind === "resync") {
          stop();
          call.end(); // the agent opens the stream again and gets a complete set
          return;
        }
        if (ev.table !== "tasks") continue;
        const task = ev.object;
        const mine = ev.kind !== "delete" && isDispatched(task, nodeId);
        const { before, after } = deps.track(task.id, mine ? task : undefined, lookup);
        nets.track(task.id, mine ? task : undefined);
        changes.push(...before);
        if (mine) {
          if (sent.get(task.id) !== fingerprint(task)) {
            sent.set(task.id, fingerprint(task));
            changes.push({
              action: AssignmentAction.UPDATE,
              task,
              secret: undefined,
              config: undefined,
              network: undefined,
            });
          }
        } else if (sent.delete(task.id)) {
          changes.push({
            action: AssignmentAction.REMOVE,
            task,
            secret: undefined,
            config: undefined,
            network: undefined,
          });
        }
        changes.push(...after);
      }
    } catch (err: unknown) {
      logger.warn({ nodeId, err: errorMessage(err) }, "assignments stream ended");
    } finally {
      stop();
      call.end();
    }
  })();
  return stop;
}

/** Secrets and configs as read in `tx` (valid while `tx` is). */
function lookupIn(tx: ReadTx): DependencyLookup {
  return (kind, id) => (kind === "secret" ? tx.secrets.get(id) : tx.configs.get(id));
}
