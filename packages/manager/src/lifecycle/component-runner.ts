// Starts an ordered list of components one after another and stops them in reverse order.
//
// - start(): runs each component in turn, each once the one before it is up. If one fails, those
//   already started (the failed one included: its run() may have half set up) are stopped in
//   reverse order and start() rejects with the cause.
// - stop(): idempotent. During start-up, the component starting sees its signal abort, no further
//   one starts, and start() rejects with StartAbortedError; then every component whose run() was
//   called is stopped, in reverse order. Each component's signal aborts just before its stop();
//   a stop() that fails is logged, and the next one still runs.
import { ErrorCode, ShoalError, errorMessage, type Logger } from "@shoal/shared";
import type { Component } from "./component.js";

/** start() was cut short by stop(). */
export class StartAbortedError extends ShoalError {
  constructor(
    /** The component that was starting, or about to. */
    readonly component: string,
    cause?: unknown,
  ) {
    super(ErrorCode.Cancelled, `stopped while ${component} was starting`, cause === undefined ? {} : { cause });
  }
}

interface Started {
  readonly component: Component;
  readonly controller: AbortController;
}

export class ComponentRunner {
  /** Components whose run() was called, in start order. */
  private readonly started: Started[] = [];
  /** The run() in progress, during start-up. */
  private inFlight: Promise<void> | undefined;
  private startCalled = false;
  private stopRequested = false;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly components: readonly Component[],
    /** Tagged by the owner (the manager, the leader components). */
    private readonly logger: Logger,
  ) {}

  /** Names in start order. */
  get names(): string[] {
    return this.components.map((c) => c.name);
  }

  /** Starts every component in order; once only. */
  async start(): Promise<void> {
    if (this.startCalled) throw new ShoalError(ErrorCode.FailedPrecondition, "already started");
    this.startCalled = true;
    for (const component of this.components) {
      if (this.stopRequested) throw new StartAbortedError(component.name);
      const controller = new AbortController();
      this.started.push({ component, controller });
      this.logger.debug({ part: component.name }, "starting");
      let run: Promise<void>;
      try {
        run = component.run(controller.signal);
      } catch (err: unknown) {
        run = Promise.reject(err as Error);
      }
      this.inFlight = run.catch(() => undefined);
      try {
        await run;
      } catch (err: unknown) {
        this.inFlight = undefined;
        if (this.stopRequested) throw new StartAbortedError(component.name, err);
        this.logger.error({ part: component.name, err: errorMessage(err) }, "could not start");
        await this.stop();
        throw err;
      }
      this.inFlight = undefined;
      if (this.stopRequested) throw new StartAbortedError(component.name);
    }
  }

  /** Stops what started, in reverse order; idempotent. */
  stop(): Promise<void> {
    this.stopRequested = true;
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const inFlight = this.inFlight;
    if (inFlight) {
      // A start-up in progress: the component starting gives up first.
      this.started.at(-1)?.controller.abort();
      await inFlight;
    }
    for (const { component, controller } of [...this.started].reverse()) {
      controller.abort();
      try {
        await component.stop();
        this.logger.debug({ part: component.name }, "stopped");
      } catch (err: unknown) {
        this.logger.error({ part: component.name, err: errorMessage(err) }, "could not stop cleanly");
      }
    }
  }
}
