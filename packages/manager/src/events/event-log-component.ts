// The event log as a part of the manager: cluster events from this manager's own replica of the
// store, watched from before raft applies anything, and served to clients.
import { EventsService, type Clock, type Logger } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { MemoryStore } from "../state/store/index.js";
import { EventLog } from "./event-log.js";
import { eventsHandlers } from "./events-server.js";

export interface EventLogComponentOptions {
  readonly server: ServiceRegistry;
  readonly store: MemoryStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class EventLogComponent implements Component {
  readonly name = "event-log";
  readonly events: EventLog;

  constructor(private readonly options: EventLogComponentOptions) {
    const { store, clock, logger } = options;
    this.events = new EventLog({ store, logger, clock });
  }

  run(): Promise<void> {
    this.events.start();
    this.options.server.addService(EventsService, eventsHandlers(this.events));
    return Promise.resolve();
  }

  /** Stops watching and ends every listener; idempotent. */
  stop(): Promise<void> {
    return this.events.stop();
  }
}
