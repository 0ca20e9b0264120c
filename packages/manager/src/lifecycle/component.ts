// The one lifecycle of a manager's parts: `run(signal)` starts a part and resolves once it is up
// (its work goes on until it is stopped); `stop()` ends it. A ComponentRunner starts a list of
// them in order and stops them in reverse.

export interface Component {
  /** For logs: what is starting, what failed, what is stopping. */
  readonly name: string;
  /**
   * Starts; resolves once up, rejects if it cannot come up. The signal aborts when the component
   * is to stop, also while it is starting: a start-up that waits (for an unlock, a leader) gives up.
   */
  run(signal: AbortSignal): Promise<void>;
  /** Stops; idempotent, and safe after a run() that failed, was cut short or never came. */
  stop(): void | Promise<void>;
}

/** A component with nothing to start, only something to end: a resource made beforehand. */
export function stopOnly(name: string, stop: () => void | Promise<void>): Component {
  let stopped = false;
  return {
    name,
    run: () => Promise.resolve(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      return stop();
    },
  };
}

/** A loop whose `run(signal)` lasts until it is stopped (an orchestrator, a reconciler). */
export interface Loop {
  run(signal: AbortSignal): Promise<void>;
  stop(): void | Promise<void>;
}

/**
 * A loop as a component: run() starts it in the background and resolves at once; a failure of
 * the loop (other than its being stopped) is passed to `onFailure`.
 */
export function backgroundLoop(name: string, loop: Loop, onFailure: (err: unknown) => void): Component {
  return {
    name,
    run: (signal) => {
      loop.run(signal).catch((err: unknown) => {
        if (!signal.aborted) onFailure(err);
      });
      return Promise.resolve();
    },
    stop: () => loop.stop(),
  };
}
