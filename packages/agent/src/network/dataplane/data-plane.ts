// The data plane of one host: reconciles the host's network namespace and Docker's bridge
// networks with the node's NetworkStates (every state = a network needed on this host). One pass
// at a time, coalesced: changes during a pass make one more pass after it. A failed pass is
// retried with backoff; a network that cannot be removed yet (containers still attached) is
// retried every few seconds. Every step is idempotent, so a restarted agent's first pass
// rebuilds the same state without disturbing running containers.
import { Backoff, componentLogger, errorMessage, type BackoffOptions, type Logger } from "@shoal/shared";
import type { HostNetworks, NetworkReadiness, ReadyNetwork } from "../../exec/host-networks.js";
import type { NetworkStates } from "../network-states.js";
import { bridgeName, vxlanName } from "../names.js";
import { spawnRunner, type CommandRunner } from "../command-runner.js";
import { desiredNetwork, InvalidNetworkStateError, type DesiredNetwork } from "./desired.js";
import { networkCommands } from "./diff.js";
import { HostDevices, VXLAN_OVERHEAD, type Underlay } from "./host-devices.js";

export interface DataPlaneOptions {
  readonly states: NetworkStates;
  /** Docker's bridge networks. */
  readonly networks: HostNetworks;
  readonly logger: Logger;
  /** The address VXLAN packets leave from and arrive at (asked again until a pass succeeds). */
  readonly dataPathAddr: () => Promise<string>;
  /** Runs ip, bridge and sysctl; default: the binaries themselves (tests: nsenter into a namespace). */
  readonly runner?: CommandRunner;
  /** Retries of failed passes; default 500 ms doubling up to 30 s. */
  readonly backoff?: BackoffOptions;
  /** How often a network waiting for its containers to go is tried again; default 5 s. */
  readonly removalRetryMs?: number;
  /** A pass this often even without changes, to repair what changed behind the agent; default 60 s. */
  readonly resyncMs?: number;
}

export class DataPlane implements NetworkReadiness {
  private readonly states: NetworkStates;
  private readonly networks: HostNetworks;
  private readonly logger: Logger;
  private readonly devices: HostDevices;
  private readonly backoff: Backoff;
  private readonly removalRetryMs: number;
  private readonly ready = new Map<string, ReadyNetwork>();
  private readonly waiters = new Set<() => void>();
  /** The last invalid-state message per network, so that it is logged once. */
  private readonly invalid = new Map<string, string>();
  private local: { address: string; underlay: Underlay | undefined } | undefined;
  private unsubscribe: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;

  constructor(private readonly options: DataPlaneOptions) {
    this.states = options.states;
    this.networks = options.networks;
    this.logger = componentLogger(options.logger, "dataplane");
    this.devices = new HostDevices(options.runner ?? spawnRunner());
    this.backoff = new Backoff({ initialMs: 500, maxMs: 30_000, ...options.backoff });
    this.removalRetryMs = options.removalRetryMs ?? 5_000;
  }

  /** Starts reconciling: now, after every change of the NetworkStates, and every resyncMs. */
  start(): void {
    if (this.unsubscribe !== undefined || this.stopped) return;
    this.unsubscribe = this.states.onChange(() => this.kick());
    this.networks.setReadiness(this);
    this.resync = setInterval(() => this.kick(), this.options.resyncMs ?? 60_000);
    this.resync.unref();
    this.kick();
  }

  /** Stops reconciling (the host keeps what was made); waits for a pass under way. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.resync !== undefined) clearInterval(this.resync);
    this.timer = undefined;
    this.networks.setReadiness(undefined);
    this.wake();
    await this.loop;
  }

  /** Resolves once the pass that follows the latest change has ended (for tests). */
  async settled(): Promise<void> {
    while (this.loop !== undefined) await this.loop;
  }

  async waitReady(ids: readonly string[], signal: AbortSignal): Promise<ReadyNetwork[]> {
    for (;;) {
      signal.throwIfAborted();
      const found = ids.map((id) => this.ready.get(id));
      if (found.every((n) => n !== undefined)) return found;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.waiters.delete(done);
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        };
        const done = (): void => {
          signal.removeEventListener("abort", onAbort);
          this.waiters.delete(done);
          resolve();
        };
        this.waiters.add(done);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      if (this.stopped) throw new Error("the data plane stopped");
    }
  }

  /** Asks for a pass (coalesced with the others pending). */
  kick(): void {
    if (this.stopped) return;
    this.dirty = true;
    this.loop ??= this.run().finally(() => (this.loop = undefined));
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        const waiting = await this.pass();
        this.backoff.reset();
        if (waiting) this.retryIn(this.removalRetryMs);
      } catch (err: unknown) {
        const delay = this.backoff.next();
        this.logger.warn({ err: errorMessage(err), retryInMs: delay }, "reconciling the data plane failed");
        this.retryIn(delay);
      }
    }
  }

  private retryIn(ms: number): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, ms);
    this.timer.unref();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** One reconciliation of the whole host; true when a network waits to be removed. */
  private async pass(): Promise<boolean> {
    const wanted = this.wanted();
    for (const id of [...this.ready.keys()]) if (!wanted.has(id)) this.ready.delete(id);
    let failure: unknown;
    if (wanted.size > 0) await this.devices.sysctl("net.ipv4.ip_forward", "1");
    for (const want of wanted.values()) {
      try {
        const local = await this.localAddress();
        await this.setUp(want, local.address, local.underlay);
        if (!this.ready.has(want.id)) {
          this.ready.set(want.id, { id: want.id, name: want.dockerName, gateway: want.gateway });
          this.logger.info({ network: want.id, vni: want.vni }, "network set up on the host");
          this.wake();
        }
      } catch (err: unknown) {
        this.logger.warn({ network: want.id, err: errorMessage(err) }, "setting up network failed");
        failure ??= err;
      }
    }
    const waiting = await this.removeUnwanted(wanted);
    if (failure !== undefined) throw failure;
    return waiting;
  }

  private wanted(): Map<string, DesiredNetwork> {
    const wanted = new Map<string, DesiredNetwork>();
    for (const state of this.states.all()) {
      try {
        const want = desiredNetwork(state);
        wanted.set(want.id, want);
        this.invalid.delete(want.id);
      } catch (err: unknown) {
        if (!(err instanceof InvalidNetworkStateError)) throw err;
        if (this.invalid.get(err.networkId) !== err.message) this.logger.warn({ err: err.message }, "network skipped");
        this.invalid.set(err.networkId, err.message);
      }
    }
    return wanted;
  }

  private async setUp(want: DesiredNetwork, local: string, underlay: Underlay | undefined): Promise<void> {
    const mtu = underlay !== undefined ? underlay.mtu - VXLAN_OVERHEAD : 0;
    await this.networks.ensure({
      id: want.id,
      name: want.dockerName,
      bridge: want.bridge,
      subnet: want.subnet,
      gateway: want.gateway,
      mtu,
    });
    await this.devices.prepareBridge(want.bridge);
    await this.devices.ensureVxlan(want, local, underlay);
    await this.devices.apply(networkCommands(want, await this.devices.current(want)));
  }

  /**
   * Removes the Docker networks of networks no longer wanted (Docker refuses while containers
   * are attached: true, try again later), then the VXLAN devices whose bridge is gone with them
   * (their routes, neighbours and FDB entries go with the device).
   */
  private async removeUnwanted(wanted: ReadonlyMap<string, DesiredNetwork>): Promise<boolean> {
    let waiting = false;
    for (const id of await this.networks.list()) {
      if (wanted.has(id)) continue;
      if (await this.networks.remove(id)) this.logger.info({ network: id }, "network removed from the host");
      else waiting = true;
    }
    const vnis = new Set([...wanted.values()].map((w) => w.vni));
    for (const vni of await this.devices.vxlanVnis()) {
      if (vnis.has(vni) || (await this.devices.exists(bridgeName(vni)))) continue;
      await this.devices.removeLink(vxlanName(vni));
    }
    return waiting;
  }

  private async localAddress(): Promise<{ address: string; underlay: Underlay | undefined }> {
    if (this.local === undefined) {
      const address = await this.options.dataPathAddr();
      if (address === "") throw new Error("no data-path address (set --data-path-addr)");
      this.local = { address, underlay: await this.devices.underlay(address) };
      this.logger.info({ dataPathAddr: address, dev: this.local.underlay?.dev }, "data-path address");
    }
    return this.local;
  }
}
