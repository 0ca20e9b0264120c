// shoal events: the cluster's events (services, tasks, nodes created, updated, removed) live from
// a manager, as `docker events` shows Docker's. Any manager serves them from its own replica.
import * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import {
  ErrorCode,
  Event,
  EventAction,
  EventType,
  EventsClient,
  InvalidArgumentError,
  fromServiceError,
  type WatchEventsResponse,
} from "@shoal/shared";
import { MANAGER_HELP, managerAddresses } from "../client.js";
import { clientTls } from "../tls.js";

const TYPES: Record<string, EventType> = {
  service: EventType.SERVICE,
  task: EventType.TASK,
  node: EventType.NODE,
  secret: EventType.SECRET,
  config: EventType.CONFIG,
  network: EventType.NETWORK,
  exec: EventType.EXEC,
};

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The time `--since` stands for: a duration back from `now` (30s, 10m, 2h, 1d), a Unix time in
 * seconds, or a date (RFC 3339).
 */
export function parseSince(value: string, now: number): Date {
  const duration = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value);
  if (duration) return new Date(now - Number(duration[1]) * UNITS[duration[2]!]!);
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const date = new Date(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(date.getTime())) return date;
  throw new InvalidArgumentError(`"${value}": expected a duration (10m), a Unix time or a date (RFC 3339)`, {
    field: "--since",
  });
}

/** The event types of `--filter type=...` flags; empty: all. */
export function parseEventFilters(filters: readonly string[]): EventType[] {
  const types = new Set<EventType>();
  for (const f of filters) {
    const match = /^type=(.*)$/.exec(f);
    const type = match ? TYPES[match[1]!] : undefined;
    if (type === undefined) {
      throw new InvalidArgumentError(`"${f}": expected type=service, task, node, secret, config, network or exec`, {
        field: "--filter",
      });
    }
    types.add(type);
  }
  return [...types];
}

/** One line per event: time, type, action, name (id), the changes, the attributes. */
export function formatEvent(e: Event): string {
  const type = (EventType[e.type] ?? "unknown").toLowerCase();
  const action = (EventAction[e.action] ?? "unknown").toLowerCase();
  const text = (v: string): string => (/\s/.test(v) ? JSON.stringify(v) : v);
  const changes = e.changes.map((c) =>
    c.old === "" ? `${c.field}=${text(c.new)}` : `${c.field}=${text(c.old)}->${text(c.new)}`,
  );
  const attributes = Object.entries(e.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${text(v)}`);
  const details = [...changes, ...attributes].join(", ");
  return `${e.time?.toISOString() ?? "-"} ${type} ${action} ${e.name || e.id} (${e.id})${details ? ` ${details}` : ""}`;
}

/** Streams from the first manager that answers; resolves when the stream ends or is stopped. */
async function watch(
  addrs: readonly string[],
  request: { types: EventType[]; since: Date | undefined },
  onEvent: (e: Event) => void,
  signal: AbortSignal,
): Promise<void> {
  let lastError: unknown;
  for (const addr of addrs) {
    const tls = await clientTls();
    const client = new EventsClient(addr, tls.credentials, tls.options);
    let received = false;
    try {
      await new Promise<void>((resolve, reject) => {
        const call = client.watchEvents(request);
        const stop = (): void => call.cancel();
        signal.addEventListener("abort", stop, { once: true });
        call.on("metadata", () => (received = true));
        call.on("data", (res: WatchEventsResponse) => {
          received = true;
          for (const e of res.events) onEvent(e);
        });
        call.once("end", resolve);
        call.once("error", (err: grpc.ServiceError) => {
          signal.removeEventListener("abort", stop);
          if (err.code === grpc.status.CANCELLED && signal.aborted) resolve();
          else reject(fromServiceError(err));
        });
      });
      return;
    } catch (err: unknown) {
      lastError = err;
      // Another manager may answer if this one never did.
      if (received || fromServiceError(err).code !== ErrorCode.Unavailable) throw err;
    } finally {
      client.close();
    }
  }
  throw lastError;
}

export function registerEventsCommand(program: Command): void {
  program
    .command("events")
    .description(
      "stream the cluster's events (services, tasks and nodes created, updated and removed; execs) until Ctrl-C",
    )
    .option(
      "--since <time>",
      "first replay the manager's recent events since then: a duration back (10m), a Unix time or a date",
    )
    .option(
      "-f, --filter <type=KIND>",
      "only events of this type: type=service, task, node, secret, config, network or exec (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option("--json", "print each event as one line of JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { since?: string; filter: string[]; json?: boolean; manager?: string }) => {
      const request = {
        types: parseEventFilters(flags.filter),
        since: flags.since === undefined ? undefined : parseSince(flags.since, Date.now()),
      };
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await watch(
          managerAddresses(flags.manager),
          request,
          (e) => process.stdout.write(`${flags.json ? JSON.stringify(Event.toJSON(e)) : formatEvent(e)}\n`),
          stop.signal,
        );
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
