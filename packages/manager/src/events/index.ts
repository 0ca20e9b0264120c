export { EVENT_TABLES, isEventWorthy, toClusterEvent } from "./cluster-event.js";
export {
  DEFAULT_EVENT_HISTORY,
  DEFAULT_LISTENER_CAPACITY,
  EventListener,
  EventLog,
  EventsOverflowError,
  type EventLogOptions,
  type ListenOptions,
} from "./event-log.js";
export { eventsHandlers } from "./events-server.js";
