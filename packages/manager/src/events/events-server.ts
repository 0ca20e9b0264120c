// The Events gRPC service: each WatchEvents call is one listener of the manager's event log,
// written to the client batch by batch. A write the client does not take yet holds the next read
// (the listener's bounded queue takes the slack); a client that falls too far behind is ended
// with UNAVAILABLE.
import type * as grpc from "@grpc/grpc-js";
import { toServiceError, type EventsServer, type WatchEventsRequest, type WatchEventsResponse } from "@shoal/shared";
import type { EventLog } from "./event-log.js";

/** Events per message of a replayed history. */
const REPLAY_CHUNK = 500;

export function eventsHandlers(log: EventLog): EventsServer {
  return {
    watchEvents: (call: grpc.ServerWritableStream<WatchEventsRequest, WatchEventsResponse>) => {
      void serve(log, call);
    },
  };
}

async function serve(log: EventLog, call: grpc.ServerWritableStream<WatchEventsRequest, WatchEventsResponse>) {
  const listener = log.listen({ types: call.request.types, since: call.request.since });
  const gone = (): void => listener.close();
  call.once("cancelled", gone);
  call.once("close", gone);
  try {
    for (;;) {
      const batch = await listener.next();
      if (batch === undefined) break;
      for (let i = 0; i < batch.length; i += REPLAY_CHUNK) {
        const more = call.write({ events: batch.slice(i, i + REPLAY_CHUNK) });
        if (!more) await new Promise<void>((resolve) => call.once("drain", () => resolve()));
      }
    }
    call.end();
  } catch (err: unknown) {
    if (!call.cancelled) call.destroy(toServiceError(err) as Error);
  } finally {
    listener.close();
  }
}
