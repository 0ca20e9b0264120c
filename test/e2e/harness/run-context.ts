// What the parts of one run share: its id, directory, tools, subnet, and the set of processes it
// started (journaled on disk as well, for the cleanup of a crashed run).
import { LinkDelayer } from "./link-delay.js";
import type { Tools } from "./prerequisites.js";
import { isAlive, type ProcessRef } from "./processes.js";
import { journalPid } from "./run-state.js";
import type { Subnet } from "./subnet.js";

export class RunContext {
  readonly runId: string;
  readonly dir: string;
  readonly tools: Tools;
  readonly subnet: Subnet;
  /** `ADDR:PORT` of the run's registry. */
  readonly registry: string;
  readonly #started = new Map<number, ProcessRef>();
  #linkDelayer: Promise<LinkDelayer> | undefined;

  constructor(runId: string, dir: string, tools: Tools, subnet: Subnet, registry: string) {
    this.runId = runId;
    this.dir = dir;
    this.tools = tools;
    this.subnet = subnet;
    this.registry = registry;
  }

  track(ref: ProcessRef, label: string): void {
    this.#started.set(ref.pid, ref);
    journalPid(this.runId, ref, label);
  }

  /** The run's link delay listener, started on first use. */
  linkDelayer(): Promise<LinkDelayer> {
    this.#linkDelayer ??= LinkDelayer.start(this);
    this.#linkDelayer.catch(() => (this.#linkDelayer = undefined)); // a failed start is tried again
    return this.#linkDelayer;
  }

  /** Stops the link delay listener if it runs (held frames are let go). */
  async closeLinkDelayer(): Promise<void> {
    const delayer = await this.#linkDelayer?.catch(() => undefined);
    await delayer?.close();
  }

  /** Every process this run started that is still alive. */
  liveProcesses(): ProcessRef[] {
    return [...this.#started.values()].filter(isAlive);
  }
}
