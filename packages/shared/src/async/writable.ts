// Backpressure for streams that buffer without bound (grpc-js calls, HTTP responses): a writer
// whose write() returned false waits here before it writes more.
import type { EventEmitter } from "node:events";

const ENDS = ["drain", "close", "error", "cancelled", "finish"] as const;

/**
 * Resolves when `stream` wants more data ("drain") or can take none any more (closed, errored,
 * cancelled, finished), so that a writer never waits on a call that has gone away.
 */
export function whenWritable(stream: EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      for (const event of ENDS) stream.off(event, done);
      resolve();
    };
    for (const event of ENDS) stream.once(event, done);
  });
}
