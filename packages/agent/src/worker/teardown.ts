// Taking a container down for good: stop it (its stop signal, then SIGKILL after the grace
// period) and remove it. Used for tasks that are no longer assigned and for containers found on
// the host whose task is not assigned.
import { Backoff, errorMessage, type BackoffOptions, type Clock, type Logger } from "@shoal/shared";
import { isTemporary } from "../exec/errors.js";
import type { Controller } from "../exec/executor.js";

export interface TeardownOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
}

/**
 * Stops and removes the controller's container. Temporary errors (daemon away) are retried with
 * backoff until `signal` aborts; a fatal error of the stop still lets the removal (which kills)
 * go ahead, a fatal error of the removal gives up. Resolves true once the container is gone.
 */
export async function shutdownAndRemove(
  controller: Controller,
  signal: AbortSignal,
  options: TeardownOptions,
): Promise<boolean> {
  const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, ...options.backoff });
  const logger = options.logger;
  let stopped = false;
  while (!signal.aborted) {
    try {
      if (!stopped) {
        await controller.shutdown(signal);
        stopped = true;
      }
      await controller.remove(signal);
      return true;
    } catch (err: unknown) {
      if (signal.aborted) break;
      if (!isTemporary(err)) {
        if (stopped) {
          logger.warn({ taskId: controller.taskId, err: errorMessage(err) }, "could not remove the container");
          return false;
        }
        logger.warn({ taskId: controller.taskId, err: errorMessage(err) }, "could not stop the container; removing it");
        stopped = true;
        continue;
      }
      const delay = backoff.next();
      logger.debug({ taskId: controller.taskId, err: errorMessage(err), retryInMs: delay }, "teardown failed");
      await options.clock.sleep(delay, signal).catch(() => undefined);
    }
  }
  return false;
}
