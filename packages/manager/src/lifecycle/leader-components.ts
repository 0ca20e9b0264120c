// The parts of a manager that run only on the leader (orchestrators, scheduler): made anew for
// each term of leadership, started together, stopped together when leadership is lost. The whole
// is itself a component of the manager: it runs nothing until leadership comes, and stop() ends
// the current term and any later one.
import { componentLogger, errorMessage, type Logger } from "@shoal/shared";
import type { Component } from "./component.js";
import { ComponentRunner } from "./component-runner.js";

/** Makes one leader component, anew for each term. */
export type ComponentFactory = () => Component;

export class LeaderComponents implements Component {
  readonly name = "leader";
  private readonly logger: Logger;
  private term: ComponentRunner | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly factories: readonly ComponentFactory[],
    logger: Logger,
  ) {
    this.logger = componentLogger(logger, "leader");
  }

  /** Nothing starts before leadership comes (setLeader). */
  run(): Promise<void> {
    return Promise.resolve();
  }

  /** Starts (on gaining leadership) or stops (on losing it) every component; calls are serialized. */
  setLeader(isLeader: boolean): Promise<void> {
    this.chain = this.chain.then(() => (isLeader ? this.startTerm() : this.stopTerm()));
    return this.chain;
  }

  private async startTerm(): Promise<void> {
    if (this.term || this.stopped) return;
    const term = new ComponentRunner(
      this.factories.map((make) => make()),
      this.logger,
    );
    this.term = term;
    try {
      await term.start();
    } catch (err: unknown) {
      // The runner stopped what had started; the next leadership tries again.
      this.term = undefined;
      this.logger.error({ err: errorMessage(err) }, "leader components failed to start");
      return;
    }
    this.logger.info({ components: term.names }, "leader components started");
  }

  private async stopTerm(): Promise<void> {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    await term.stop();
    this.logger.info("leader components stopped");
  }

  /** Stops the current term, and no other starts; idempotent. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.setLeader(false);
  }
}
