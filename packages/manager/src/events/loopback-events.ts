// The cluster's events from this manager's own Events API, over loopback with its certificate:
// for the dashboard and the Docker API's /events.
import {
  EventsClient,
  MANAGER_CHANNEL_OPTIONS,
  channelCredentials,
  serverStream,
  type Event,
  type TlsMaterial,
  type WatchEventsResponse,
} from "@shoal/shared";

/** Batches of events: those of the history from `since` (when given), then live ones. */
export interface EventsCaller {
  watch(since: Date | undefined, signal: AbortSignal): AsyncIterable<Event[]>;
}

export class LoopbackEvents implements EventsCaller {
  private readonly client: EventsClient;

  constructor(address: string, material: TlsMaterial) {
    this.client = new EventsClient(address, channelCredentials(material), MANAGER_CHANNEL_OPTIONS);
  }

  async *watch(since: Date | undefined, signal: AbortSignal): AsyncIterable<Event[]> {
    const call = this.client.watchEvents({ types: [], since });
    for await (const res of serverStream<WatchEventsResponse>(call, signal)) yield res.events;
  }

  close(): void {
    this.client.close();
  }
}
