// Ordering log lines from several containers and hosts, pure: a stable sort by the time Docker
// stamped on each line (lines of one container keep their order when times tie).
import type { LogMessage, LogTimestamp } from "@shoal/shared";

export function compareLogTimes(a: LogTimestamp | undefined, b: LogTimestamp | undefined): number {
  return (a?.seconds ?? 0) - (b?.seconds ?? 0) || (a?.nanos ?? 0) - (b?.nanos ?? 0);
}

/** The lines in timestamp order; Array.prototype.sort is stable, so ties keep arrival order. */
export function mergeByTime(lines: readonly LogMessage[]): LogMessage[] {
  return [...lines].sort((a, b) => compareLogTimes(a.timestamp, b.timestamp));
}
