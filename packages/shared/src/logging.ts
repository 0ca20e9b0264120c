// Logger factory. Loggers are made once per process and passed down; each component
// takes a child tagged with its name. Nothing here is module-level state.
import { pino, type Logger as PinoLogger, type LevelWithSilent } from "pino";
import pretty from "pino-pretty";

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface LoggerOptions {
  /** Minimum level written; default "info". */
  readonly level?: LogLevel;
  /** Fields carried by every line (the node id, the process role, ...). */
  readonly base?: Record<string, unknown>;
  /** Human-readable output instead of JSON lines; default: only when `destination` is a terminal. */
  readonly pretty?: boolean;
  /** Where lines go; default: standard error, so standard output stays for command results. */
  readonly destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Secrets that may sit in objects a line logs (the cluster object, a request): written as [redacted],
 *  at the top of a field and up to three levels down. Defence in depth: nothing should log them. */
const SECRET_FIELDS = [
  "caKey",
  "unlockKey",
  "unlockKeys",
  "rootJoinTokens",
  "joinTokens",
  "joinToken",
  "token",
  // A secret's bytes (SecretSpec.data, and a config's alike).
  "data",
];
export const REDACTED_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

/** Makes the process's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  const usePretty = options.pretty ?? destination.isTTY === true;
  const settings = {
    level: options.level ?? "info",
    base: options.base ?? {},
    redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
  };
  if (usePretty) {
    return pino(settings, pretty({ destination, colorize: destination.isTTY === true, sync: true }));
  }
  return pino(settings, destination);
}

/** The child logger for one component: every line it writes carries `component`. */
export function componentLogger(parent: Logger, component: string, fields: Record<string, unknown> = {}): Logger {
  return parent.child({ component, ...fields });
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
