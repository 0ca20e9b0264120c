// shoal service rebalance: move a replicated service's tasks to the spread the scheduler would
// choose now, through the service's update config; the progress is followed until the rebalance
// completes (or pauses) unless --detach, as `service update` follows a rollout.
import type { Command } from "commander";
import { ErrorCode, ShoalError, TaskState, UpdateState, isShoalError, type Service, type Task } from "@shoal/shared";
import { MANAGER_HELP, withControl, type Control } from "../client.js";
import { TRANSIENT, read } from "./follow-rollout.js";
import { allNodes } from "../list.js";

type Calls = Pick<Control, "call">;

export interface RebalanceOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** "h1: 2, h2: 2, h3: 2": running tasks of the service per host. */
export function spreadLine(tasks: readonly Task[], hostname: (nodeId: string) => string): string {
  const counts = new Map<string, number>();
  for (const t of tasks) {
    if (t.desiredState !== TaskState.RUNNING || t.status?.state !== TaskState.RUNNING) continue;
    const host = hostname(t.nodeId);
    counts.set(host, (counts.get(host) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([h, n]) => `${h}: ${n}`)
    .join(", ");
}

/** Prints the rebalance's progress until it completes; throws when it pauses. */
async function follow(control: Calls, service: Service, toMove: number, out: NodeJS.WritableStream): Promise<void> {
  const nodes = await allNodes(control);
  const names = new Map(nodes.map((n) => [n.id, n.description?.hostname || n.id]));
  const hostname = (id: string): string => names.get(id) ?? id;
  const startedAt = service.rebalanceStatus?.startedAt?.getTime();
  let last = "";
  let failingSince: number | undefined;
  for (;;) {
    let now: { service: Service; tasks: Task[] };
    try {
      now = await read(control, service.id);
      failingSince = undefined;
    } catch (err: unknown) {
      if (!isShoalError(err) || !TRANSIENT.includes(err.code)) throw err;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > 30_000) throw err;
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    const status = now.service.rebalanceStatus;
    const ours = status !== undefined && status.startedAt?.getTime() === startedAt;
    const line = `moved ${ours ? status.moved : 0} of ${toMove}; running per node: ${spreadLine(now.tasks, hostname)}`;
    if (line !== last) out.write(`${line}\n`);
    last = line;
    if (ours && status.state === UpdateState.COMPLETED) {
      out.write("verify: Service converged\n");
      return;
    }
    if (ours && status.state === UpdateState.PAUSED) {
      throw new ShoalError(ErrorCode.FailedPrecondition, `rebalance paused: ${status.message}`, {
        details: { serviceId: service.id, state: "paused" },
      });
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function runServiceRebalance(
  control: Calls,
  ref: string,
  flags: { detach?: boolean },
  out: RebalanceOutput = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const { service, toMove } = await control.call("rebalanceService", { serviceId: ref });
  out.stdout.write(`${ref}\n`);
  if (toMove === 0) {
    out.stderr.write("nothing to move: the tasks are spread as the scheduler would place them now\n");
    return 0;
  }
  out.stderr.write(`rebalance: ${toMove} task${toMove === 1 ? "" : "s"} to move\n`);
  if (!flags.detach) await follow(control, service!, toMove, out.stderr);
  return toMove;
}

export function registerServiceRebalanceCommand(service: Command): void {
  service
    .command("rebalance")
    .description(
      "move a replicated service's tasks to the spread the scheduler would choose now (new or returned nodes), " +
        "through its update config; followed until done unless --detach",
    )
    .argument("<service>", "service name, id or id prefix")
    .option("-d, --detach", "return at once instead of following the rebalance")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: { detach?: boolean; manager?: string }) => {
      await withControl(flags.manager, (c) => runServiceRebalance(c, ref, flags));
    });
}
