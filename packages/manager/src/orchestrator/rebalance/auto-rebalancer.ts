// The automatic rebalancer (leader only): services with `rebalance: auto` rebalance by themselves
// when a node becomes ready (joins, comes back, or is made ACTIVE again), after a cool-down, so
// that a flapping node does not churn tasks:
// - a node must stay ready (READY and ACTIVE) for `cooldownMs` before it counts; a node that
//   leaves READY (or ACTIVE) meanwhile starts over when it comes back;
// - then every auto service is looked at, at most one automatic rebalance per service per
//   cool-down window (since its last rebalance started, manual or automatic: rebalance_status
//   started_at, in the store); a service being updated or rebalanced is looked at again once that
//   is done (its service event);
// - a look plans with the scheduler (startRebalance): a service whose spread is right is left
//   alone, so a node that comes back empty and finds nothing to take costs nothing.
// In memory only: when each node became ready, and the services waiting for a look. A new leader
// counts every ready node as ready since it took over: one look per auto service a cool-down
// later (a node that joined just before the change is not missed; a balanced service stays put).
import { componentLogger, type Clock, type Logger, type Node, type Timer } from "@shoal/shared";
import { RebalanceMode, NodeAvailability, NodeState } from "@shoal/shared";
import { ReconcileLoop } from "../../reconcile/index.js";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { serviceName } from "../task-factory.js";
import { rebalanceMessages } from "./rollout.js";
import { isRebalancing, rebalanceRefusal, startRebalance, type ClusterView } from "./start.js";

/** How long a node must stay ready before services rebalance onto it; also the per-service window. */
export const DEFAULT_REBALANCE_COOLDOWN_MS = 30_000;

export interface AutoRebalancerOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly cooldownMs?: number | undefined;
}

/** A node that may take new tasks: READY and ACTIVE. */
function takesTasks(node: Node | undefined): boolean {
  return (
    node !== undefined &&
    node.status?.state === NodeState.READY &&
    (node.spec?.availability ?? NodeAvailability.ACTIVE) === NodeAvailability.ACTIVE
  );
}

export class AutoRebalancer {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cooldownMs: number;
  private readonly loop: ReconcileLoop;
  /** Nodes that became ready, and when, waiting out the cool-down. */
  private readonly readySince = new Map<string, number>();
  /** Services to look at, with the node whose readiness asked for it. */
  private readonly waiting = new Map<string, string>();
  /** Services whose window or rollout holds them back: a service event or the timer brings them back. */
  private readonly heldUntil = new Map<string, number>();
  private timer: { at: number; timer: Timer } | undefined;
  private kicked = false;

  constructor(options: AutoRebalancerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/rebalance");
    this.cooldownMs = Math.max(0, options.cooldownMs ?? DEFAULT_REBALANCE_COOLDOWN_MS);
    this.loop = new ReconcileLoop(
      {
        tables: ["nodes", "services"],
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.hasWork(),
        pass: (signal) => this.pass(signal),
        stopped: () => this.cancelTimer(),
      },
      { store: this.store, clock: this.clock, logger: this.logger },
    );
  }

  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private reset(tx: ReadTx): void {
    const now = this.clock.now();
    this.readySince.clear();
    for (const node of tx.nodes.find()) if (takesTasks(node)) this.readySince.set(node.id, now);
    this.kicked = true;
  }

  private observe(e: ObjectEvent): void {
    if (e.table === "nodes") {
      const ready = e.kind !== "delete" && takesTasks(e.object);
      const was = e.kind === "update" && takesTasks(e.oldObject);
      if (!ready) this.readySince.delete(e.object.id);
      else if (!was) this.readySince.set(e.object.id, this.clock.now());
      this.kicked = true;
    } else if (e.table === "services" && this.waiting.has(e.object.id)) {
      this.heldUntil.delete(e.object.id); // its rollout may have ended: look again
      this.kicked = true;
    }
  }

  private hasWork(): boolean {
    const work = this.kicked;
    this.kicked = false;
    return work || this.due(this.clock.now());
  }

  /** Whether a node's cool-down or a service's hold has ended. */
  private due(now: number): boolean {
    for (const since of this.readySince.values()) if (since + this.cooldownMs <= now) return true;
    for (const [id, until] of this.heldUntil) if (this.waiting.has(id) && until <= now) return true;
    return false;
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const nodes: string[] = [];
    for (const [id, since] of this.readySince) {
      if (since + this.cooldownMs > now) continue;
      this.readySince.delete(id);
      nodes.push(id);
    }
    const looks = [...this.waiting.keys()].filter((id) => (this.heldUntil.get(id) ?? 0) <= now);
    if (nodes.length === 0 && looks.length === 0) {
      this.arm(now);
      return;
    }
    const started: { service: string; toMove: number }[] = [];
    const before = new Map(this.waiting);
    try {
      await this.store.update(
        (tx) => {
          started.length = 0;
          for (const id of nodes) {
            const name = tx.nodes.get(id)?.description?.hostname || id;
            for (const s of tx.services.find()) {
              if (s.spec?.rebalance === RebalanceMode.AUTO) this.waiting.set(s.id, name);
            }
          }
          let cluster: ClusterView | undefined;
          const read = (): ClusterView => (cluster ??= { nodes: tx.nodes.find(), tasks: tx.tasks.find() });
          for (const [id, node] of [...this.waiting]) this.look(tx, id, node, now, started, read);
        },
        { signal },
      );
    } catch (err: unknown) {
      for (const [id, node] of before) if (!this.waiting.has(id)) this.waiting.set(id, node);
      throw err;
    }
    for (const s of started) this.logger.info(s, "automatic rebalance started");
    this.arm(now);
  }

  /** Starts the service's rebalance if it may run now; else keeps it waiting. */
  private look(
    tx: WriteTx,
    id: string,
    node: string,
    now: number,
    started: { service: string; toMove: number }[],
    cluster: () => ClusterView,
  ): void {
    const held = this.heldUntil.get(id);
    if (held !== undefined && held > now) return;
    this.heldUntil.delete(id);
    const service = tx.services.get(id);
    if (service === undefined || service.spec?.rebalance !== RebalanceMode.AUTO) {
      this.waiting.delete(id);
      return;
    }
    const tasks = tx.tasks.find({ serviceId: id });
    if (isRebalancing(service) || rebalanceRefusal(service, tasks) !== undefined) {
      this.heldUntil.set(id, Infinity); // until its service event
      return;
    }
    const last = service.rebalanceStatus?.startedAt?.getTime();
    if (last !== undefined && last + this.cooldownMs > now) {
      this.heldUntil.set(id, last + this.cooldownMs);
      return;
    }
    this.waiting.delete(id);
    const toMove = startRebalance(tx, service, now, (n) => rebalanceMessages.auto(n, node), cluster());
    if (toMove > 0) started.push({ service: serviceName(service), toMove });
  }

  /** One timer, at the next end of a node's cool-down or of a service's hold. */
  private arm(now: number): void {
    let at = Infinity;
    for (const since of this.readySince.values()) at = Math.min(at, since + this.cooldownMs);
    for (const [id, until] of this.heldUntil) if (this.waiting.has(id)) at = Math.min(at, until);
    if (this.timer?.at === at) return;
    this.cancelTimer();
    if (at === Infinity) return;
    const timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        // A pass, due or not: a timer may fire a millisecond before the clock reads `at`; the
        // pass then arms it again.
        this.kicked = true;
        this.loop.kick();
      },
      Math.max(0, at - now),
    );
    this.timer = { at, timer };
  }

  private cancelTimer(): void {
    this.timer?.timer.cancel();
    this.timer = undefined;
  }
}
