// The live events feed (/api/v1/events), newest first.
import { useSignal } from "@preact/signals";
import type { ClusterEventView } from "../api.js";
import { time } from "./format.js";
import { useFramedStream } from "./streams.js";

const MAX_EVENTS = 500;

export function EventsPage() {
  const events = useSignal<readonly ClusterEventView[]>([]);
  const ended = useSignal(false);
  useFramedStream<ClusterEventView>(
    "/api/v1/events",
    ["event"],
    (items) => (events.value = [...items.reverse(), ...events.peek()].slice(0, MAX_EVENTS)),
    ended,
  );
  return (
    <section class="page">
      <h1>Events</h1>
      {ended.value && <p class="error">The events stream ended; reload the page to follow it again.</p>}
      <div class="events" data-testid="events-list">
        {events.value.length === 0 && <div class="empty">No events yet: they appear here as they happen.</div>}
        {events.value.map((event, index) => (
          <div class="event" data-testid="event-row" data-type={event.type} key={events.value.length - index}>
            <span class="event-time">{time(event.time)}</span>
            <span class="event-kind">{`${event.type} ${event.action}`}</span>
            <span class="event-name">{event.name || event.id}</span>
            <span class="event-detail">
              {event.changes.map((change) => `${change.field}: ${change.old} → ${change.new}`).join(", ")}
              {Object.entries(event.attributes)
                .map(([key, value]) => ` ${key}=${value}`)
                .join("")}
            </span>
          </div>
        ))}
      </div>
    </section>
  );
}
