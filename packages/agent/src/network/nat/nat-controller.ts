// Keeps the host's iptables rules (virtual IPs, hairpin, routing mesh, isolation) in line with
// the node's NetworkStates: on each change (coalesced), and every 30 s, it rewrites Shoal's
// chains, one iptables-restore transaction per table, and makes sure the jumps into them come
// first in the built-in chains (Docker inserts its own above them when it makes a network: the
// data plane may call resync() after it did); it also turns hairpin mode on for the ports of the
// bridges of networks with a virtual IP (hairpin.ts). A failure is logged and retried with backoff; it
// never throws into the agent. Stopping leaves the rules in place (a restarted agent must not
// disturb running tasks); remove() takes them away.
import {
  Backoff,
  errorMessage,
  every,
  systemClock,
  type BackoffOptions,
  type Clock,
  type Logger,
  type Timer,
} from "@shoal/shared";
import type { NetworkStates } from "../network-states.js";
import { ensureHairpin, hairpinBridges } from "./hairpin.js";
import { spawnRunner, type CommandRunner } from "../command-runner.js";
import { Iptables } from "./iptables.js";
import { iptablesRules, removalRules } from "./rules.js";

export interface NatControllerOptions {
  readonly states: NetworkStates;
  /** This node's id (read at each sync; empty while unknown: then no endpoint counts as local). */
  readonly nodeId: () => string;
  readonly logger: Logger;
  /** Runs iptables commands; default: spawned in the agent's own network namespace. */
  readonly run?: CommandRunner;
  readonly clock?: Clock;
  /** Retries of a failed sync; default 500 ms doubling up to 30 s. */
  readonly backoff?: BackoffOptions;
  /** Syncs again this often even without a change (rules or jumps someone else moved); default 30 s. */
  readonly resyncMs?: number;
}

const DEFAULT_RESYNC_MS = 30_000;

export class NatController {
  private readonly iptables: Iptables;
  private readonly run: CommandRunner;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private unsubscribe: (() => void) | undefined;
  private dirty = false;
  private looping: Promise<void> | undefined;
  private retry: Timer | undefined;
  private periodic: Timer | undefined;
  private stopped = false;
  private lastError: unknown;
  /** The states were set at least once since start(). */
  private heard = false;
  /** remove() ran and no network came since: syncs without a network leave the host clean. */
  private removed = false;
  /** Serializes syncs and remove(). */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: NatControllerOptions) {
    this.run = options.run ?? spawnRunner();
    this.iptables = new Iptables(this.run);
    this.logger = options.logger.child({ component: "nat" });
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 500, maxMs: 30_000, ...options.backoff });
  }

  /**
   * Subscribes to the states. Nothing is written before they are first set (a change, or a set
   * already there): a restarted agent, whose states are empty until its first assignments, must
   * not take the running tasks' rules away.
   */
  start(): void {
    if (this.unsubscribe !== undefined || this.stopped) return;
    this.unsubscribe = this.options.states.onChange(() => {
      this.heard = true;
      this.kick();
    });
    this.periodic = every(this.clock, this.options.resyncMs ?? DEFAULT_RESYNC_MS, () => this.resync());
    if (this.options.states.all().length > 0) {
      this.heard = true;
      this.kick();
    }
  }

  /** Syncs again soon (after the data plane made a Docker network, whose rules go on top). */
  resync(): void {
    if (this.heard) this.kick();
  }

  /** Stops following the states; the rules stay. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.periodic?.cancel();
    this.periodic = undefined;
    this.retry?.cancel();
    this.retry = undefined;
    await this.looping;
    await this.tail;
  }

  /**
   * Removes the jumps and every SHOAL-* chain (for a node with no network left). They stay away
   * until the node has a network again (then the next sync writes them). Throws when iptables
   * fails.
   */
  remove(): Promise<void> {
    return this.serial(async () => {
      await this.iptables.removeJumps();
      const rules = removalRules(await this.iptables.existingChains());
      await this.iptables.restore(rules.nat);
      await this.iptables.restore(rules.filter);
      this.removed = true;
      this.logger.info("removed the NAT and isolation rules");
    });
  }

  /**
   * Resolves once the rules reflect every change so far; rejects with the error of the last
   * attempt when it failed (a retry is then pending).
   */
  async idle(): Promise<void> {
    while (this.looping !== undefined) await this.looping;
    await this.tail;
    if (this.lastError !== undefined) throw this.lastError;
  }

  private kick(): void {
    this.dirty = true;
    if (this.stopped || this.looping !== undefined || this.retry !== undefined) return;
    this.looping = this.loop().finally(() => (this.looping = undefined));
  }

  private async loop(): Promise<void> {
    // Changes that come in one burst (a full assignments message) make one sync.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.serial(() => this.sync());
        this.lastError = undefined;
        this.backoff.reset();
      } catch (err) {
        this.lastError = err;
        this.dirty = true;
        const delay = this.backoff.next();
        this.logger.warn({ err: errorMessage(err), retryMs: delay }, "could not write the NAT rules; retrying");
        this.retry = this.clock.setTimeout(() => {
          this.retry = undefined;
          this.kick();
        }, delay);
        return;
      }
    }
  }

  private async sync(): Promise<void> {
    const states = this.options.states.all();
    if (states.length === 0 && this.removed) return;
    this.removed = false;
    const rules = iptablesRules({
      states,
      nodeId: this.options.nodeId(),
      existing: await this.iptables.existingChains(),
    });
    await this.iptables.restore(rules.nat);
    await this.iptables.restore(rules.filter);
    await this.iptables.ensureJumps();
    for (const bridge of hairpinBridges(states)) await ensureHairpin(this.run, bridge);
    this.logger.debug({ networks: states.length }, "NAT rules written");
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
