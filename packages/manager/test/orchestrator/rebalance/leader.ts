// A leader's components on one store (orchestrators, updater, scheduler, automatic rebalancer),
// fake agents that run what is assigned to them and stop what is shut down, and measures of a
// service at every step, for the rebalancing tests.
import { RebalanceMode, TaskState, type ManualClock, type Service, type Task } from "@shoal/shared";
import { ReplicatedOrchestrator } from "../../../src/orchestrator/replicated/orchestrator.js";
import { AutoRebalancer } from "../../../src/orchestrator/rebalance/auto-rebalancer.js";
import { RestartSupervisor } from "../../../src/orchestrator/restart/supervisor.js";
import { Updater } from "../../../src/orchestrator/update/updater.js";
import { Scheduler } from "../../../src/scheduler/index.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { node, service } from "../fixtures.js";
import { settle, setup, tasksOf } from "../helpers.js";
import { updateConfig, type ConfigOptions } from "../update/fixtures.js";

interface Component {
  run(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export interface Leader {
  readonly store: MemoryStore;
  readonly clock: ManualClock;
  stop(): Promise<void>;
}

/** The leader's components on a new store, or (a new term of leadership) on `on`'s. */
export function startLeader(cooldownMs = 10_000, on?: Leader): Leader {
  const fresh = setup();
  const { logger } = fresh;
  const store = on?.store ?? fresh.store;
  const clock = on?.clock ?? fresh.clock;
  const parts: Component[] = [
    new ReplicatedOrchestrator({ store, logger, clock }),
    new RestartSupervisor({ store, logger, clock }),
    new Updater({ store, logger, clock }),
    new AutoRebalancer({ store, logger, clock, cooldownMs }),
    new Scheduler({ store, logger, clock }),
  ];
  for (const p of parts) void p.run();
  return { store, clock, stop: async () => void (await Promise.all(parts.map((p) => p.stop()))) };
}

/**
 * One step of every agent: an assigned task starts running (is rejected on node `failOn`), a task
 * asked to stop stops. Only one of
 * the two per task and step, so a start-first replacement and its old task overlap for a step.
 */
export async function agents(store: MemoryStore, failOn = ""): Promise<void> {
  await store.update((tx) => {
    for (const t of tx.tasks.find()) {
      const state = t.status?.state ?? TaskState.NEW;
      if (t.desiredState >= TaskState.SHUTDOWN && state <= TaskState.RUNNING && state >= TaskState.ASSIGNED) {
        t.status = { ...t.status!, state: TaskState.SHUTDOWN };
        tx.tasks.update(t);
      } else if (t.desiredState <= TaskState.RUNNING && state >= TaskState.ASSIGNED && state < TaskState.RUNNING) {
        t.status = { ...t.status!, state: t.nodeId === failOn ? TaskState.REJECTED : TaskState.RUNNING };
        tx.tasks.update(t);
      }
    }
  });
}

/** Containers running (observed RUNNING, whatever is wanted of them), as the hosts would show. */
export function running(store: MemoryStore, serviceId: string): Task[] {
  return tasksOf(store, serviceId).filter((t) => t.status?.state === TaskState.RUNNING);
}

export function perNode(store: MemoryStore, serviceId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of running(store, serviceId)) out[t.nodeId] = (out[t.nodeId] ?? 0) + 1;
  return out;
}

/** Slots not at rest: anything but exactly one task, running and wanted, and nothing else alive. */
export function moving(store: MemoryStore, serviceId: string): number {
  const bySlot = new Map<number, Task[]>();
  for (const t of tasksOf(store, serviceId)) {
    if (t.desiredState >= TaskState.REMOVE) continue;
    const state = t.status?.state ?? TaskState.NEW;
    const alive = t.desiredState <= TaskState.RUNNING || (state >= TaskState.ASSIGNED && state <= TaskState.RUNNING);
    if (!alive) continue;
    bySlot.set(t.slot, [...(bySlot.get(t.slot) ?? []), t]);
  }
  let n = 0;
  const slots = new Set(tasksOf(store, serviceId).map((t) => t.slot));
  for (const slot of slots) {
    const tasks = bySlot.get(slot) ?? [];
    const settled =
      tasks.length === 1 &&
      tasks[0]!.status?.state === TaskState.RUNNING &&
      tasks[0]!.desiredState === TaskState.RUNNING;
    if (!settled) n++;
  }
  return n;
}

export interface Samples {
  readonly running: number[];
  readonly moving: number[];
}

/** Runs the agents and lets the components react until `done`, sampling the service at every step. */
export async function drive(
  leader: Leader,
  done: () => boolean,
  serviceId = "",
  samples: Samples = { running: [], moving: [] },
  stepMs = 500,
  failOn = "",
): Promise<Samples> {
  const { store, clock } = leader;
  const sample = (): void => {
    if (serviceId === "") return;
    samples.running.push(running(store, serviceId).length);
    samples.moving.push(moving(store, serviceId));
  };
  for (let i = 0; i < 400 && !done(); i++) {
    await settle();
    sample();
    await agents(store, failOn);
    await settle();
    sample();
    clock.advance(stepMs);
  }
  if (!done()) throw new Error("did not converge");
  return samples;
}

export interface ServiceSetup {
  readonly replicas: number;
  readonly nodes: string[];
  readonly update?: ConfigOptions;
  readonly constraints?: string[];
  readonly auto?: boolean;
}

/** Creates nodes and a service, and runs it until every replica runs. */
export async function runningService(leader: Leader, o: ServiceSetup): Promise<Service> {
  const svc = service("web", { replicas: o.replicas, constraints: o.constraints ?? [] });
  svc.spec!.updateConfig = o.update === undefined ? undefined : updateConfig(o.update);
  svc.spec!.rebalance = o.auto ? RebalanceMode.AUTO : RebalanceMode.MANUAL;
  await leader.store.update((tx) => {
    for (const id of o.nodes) tx.nodes.create(node(id));
    tx.services.create(svc);
  });
  await drive(leader, () => running(leader.store, svc.id).length === o.replicas);
  return svc;
}

export async function addNode(leader: Leader, id: string, labels: Record<string, string> = {}): Promise<void> {
  await leader.store.update((tx) => tx.nodes.create(node(id, { labels })));
}

export function serviceOf(leader: Leader, id: string): Service {
  return leader.store.view((tx) => tx.services.get(id))!;
}
