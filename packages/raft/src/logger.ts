// The core logs only unusual events (rejected snapshots, dropped requests, role changes). The logger is
// passed in through Config; by default nothing is logged.

export type RaftLogFields = Record<string, string | number | boolean | undefined>;

export interface RaftLogger {
  debug(msg: string, fields?: RaftLogFields): void;
  info(msg: string, fields?: RaftLogFields): void;
  warn(msg: string, fields?: RaftLogFields): void;
}

const noop = (): void => {};

export const silentLogger: RaftLogger = { debug: noop, info: noop, warn: noop };
