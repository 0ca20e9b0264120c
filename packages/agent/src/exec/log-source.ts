// Where an agent reads its containers' logs: the Docker one (exec/docker/container-logs.ts) or a
// fake in tests. Lines carry their container's task, service and node ids and Docker's own time.
import type { LogMessage, LogOptions, LogSelector } from "@shoal/shared";

/** A batch of lines, or the mark that every container's log up to now has been read (follow only). */
export type LogChunk = LogMessage[] | "caught-up";

export interface LogSource {
  /**
   * The lines of this node's containers that match `selector`. Without follow it ends after the
   * last line; with follow it keeps going, containers that start later included, until `signal`.
   */
  read(selector: LogSelector, options: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk>;
}
