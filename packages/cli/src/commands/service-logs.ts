// shoal service logs NAME [--follow] [--tail N] [--timestamps]: the same path as the Docker API's
// logs endpoint (the leader's log broker, fed by the agents), printed as `docker service logs`
// prints them: TASK.SLOT.ID@NODE | line, stdout to stdout and stderr to stderr, in time order.
import * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import {
  InvalidArgumentError,
  LogStream,
  LogsClient,
  fromServiceError,
  type LogMessage,
  type LogSelector,
  type LogTimestamp,
  type SubscribeLogsResponse,
} from "@shoal/shared";
import { MANAGER_HELP, withControl, type Control } from "../client.js";
import { clientTls } from "../tls.js";
import { allNodes, serviceTasks } from "../list.js";

export interface LogsFlags {
  follow?: boolean;
  tail: string;
  timestamps?: boolean;
  manager?: string;
}

function rfc3339Nano(t: LogTimestamp | undefined): string {
  const base = new Date((t?.seconds ?? 0) * 1000).toISOString().slice(0, 19);
  const nanos = t?.nanos ?? 0;
  return `${base}${nanos === 0 ? "" : `.${String(nanos).padStart(9, "0").replace(/0+$/, "")}`}Z`;
}

async function taskLabels(control: Control, serviceId: string): Promise<Map<string, string>> {
  const [tasks, nodes] = await Promise.all([serviceTasks(control, serviceId), allNodes(control)]);
  const hosts = new Map(nodes.map((n) => [n.id, n.description?.hostname ?? n.id]));
  return new Map(
    tasks.map((t) => [t.id, `${t.annotations?.name ?? t.id}.${t.id.slice(0, 12)}@${hosts.get(t.nodeId) ?? t.nodeId}`]),
  );
}

/** --tail's value checked: a number of lines or "all". */
export function checkTail(tail: string): void {
  if (tail !== "all" && !/^\d+$/.test(tail)) {
    throw new InvalidArgumentError(`"${tail}" is not a number of lines or "all"`, { field: "--tail" });
  }
}

/**
 * Prints the log lines of `selector` from the leader's log broker: stdout to stdout, stderr to
 * stderr, each after its time (--timestamps) and `prefix(line)` when given; until the end, or
 * with --follow until interrupted.
 */
export async function printLogs(
  control: Control,
  selector: LogSelector,
  flags: Omit<LogsFlags, "manager">,
  prefix?: (m: LogMessage) => Promise<string>,
): Promise<void> {
  checkTail(flags.tail);
  const tls = await clientTls();
  const client = new LogsClient(control.address, tls.credentials, tls.options);
  const call = client.subscribeLogs({
    selector,
    options: {
      follow: flags.follow ?? false,
      tail: flags.tail === "all" ? -1 : Number(flags.tail),
      stdout: true,
      stderr: true,
      since: undefined,
    },
  });
  process.once("SIGINT", () => call.cancel());
  const print = async (m: LogMessage): Promise<void> => {
    const time = flags.timestamps ? `${rfc3339Nano(m.timestamp)} ` : "";
    const name = prefix ? await prefix(m) : "";
    const out = m.stream === LogStream.STDERR ? process.stderr : process.stdout;
    out.write(Buffer.concat([Buffer.from(`${time}${name}`), Buffer.from(m.data)]));
  };
  try {
    for await (const res of call as AsyncIterable<SubscribeLogsResponse>) {
      for (const m of res.messages) await print(m);
    }
  } catch (err: unknown) {
    if ((err as grpc.ServiceError).code !== grpc.status.CANCELLED) throw fromServiceError(err);
  } finally {
    client.close();
  }
}

export function registerServiceLogsCommand(service: Command): void {
  service
    .command("logs <service>")
    .description("print the logs of a service's tasks, in time order")
    .option("-f, --follow", "keep printing new lines")
    .option("-n, --tail <lines>", 'lines per task from the end of its log, or "all"', "all")
    .option("-t, --timestamps", "print each line's time")
    .option("--manager <addrs>", MANAGER_HELP)
    .action((ref: string, flags: LogsFlags) =>
      withControl(flags.manager, async (control) => {
        checkTail(flags.tail);
        const { service: svc } = await control.call("getService", { serviceId: ref });
        let names = await taskLabels(control, svc!.id);
        const width = (): number => Math.max(0, ...[...names.values()].map((n) => n.length));
        await printLogs(control, { serviceIds: [svc!.id], taskIds: [] }, flags, async (m) => {
          const taskId = m.context?.taskId ?? "";
          if (!names.has(taskId)) names = await taskLabels(control, svc!.id);
          return `${(names.get(taskId) ?? taskId).padEnd(width())} | `;
        });
      }),
    );
}
