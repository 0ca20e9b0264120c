// The Raft core logs through a narrow interface of its own; this adapts a manager's logger to it.
import type { Logger } from "@shoal/shared";
import type { RaftLogger } from "@shoal/raft";

export function toRaftLogger(logger: Logger): RaftLogger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
  };
}
