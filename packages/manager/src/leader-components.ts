// The parts of a manager that run only on the leader (orchestrators, scheduler): made anew for
// each term of leadership, started together, stopped together when leadership is lost.
import { componentLogger, errorMessage, type Logger } from "@shoal/shared";

export interface LeaderComponent {
  run(signal: AbortSignal): Promise<void>;
  stop(): void | Promise<void>;
}

export type ComponentFactory = () => { readonly name: string; readonly component: LeaderComponent };

export class LeaderComponents {
  private running:
    { controller: AbortController; components: { name: string; component: LeaderComponent }[] } | undefined;
  private readonly logger: Logger;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly factories: readonly ComponentFactory[],
    logger: Logger,
  ) {
    this.logger = componentLogger(logger, "leader");
  }

  /** Starts (on gaining leadership) or stops (on losing it) every component; calls are serialized. */
  setLeader(isLeader: boolean): Promise<void> {
    this.chain = this.chain.then(() => (isLeader ? this.start() : this.stop()));
    return this.chain;
  }

  private async start(): Promise<void> {
    if (this.running) return;
    const controller = new AbortController();
    const components = this.factories.map((make) => make());
    this.running = { controller, components };
    for (const { name, component } of components) {
      component.run(controller.signal).catch((err: unknown) => {
        if (!controller.signal.aborted)
          this.logger.error({ component: name, err: errorMessage(err) }, "leader component failed");
      });
    }
    this.logger.info({ components: components.map((c) => c.name) }, "leader components started");
  }

  private async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.controller.abort();
    await Promise.all(running.components.map(async ({ component }) => component.stop()));
    this.logger.info("leader components stopped");
  }

  /** Stops everything; idempotent. */
  close(): Promise<void> {
    return this.setLeader(false);
  }
}
