// shoal task ps | inspect | logs | top | stats | exec, and shoal service top | stats: the
// everyday container commands on any task container of the cluster, through the managers (the
// leader hands each call to the agent of the task's node). TASK is a container id or prefix, a
// task id, or a task name (web.3, web.3.TASKID); the manager resolves it.
import type { Command } from "commander";
import { CommanderError } from "commander";
import { containerOpen, ContainerOp, ErrorCode, ShoalError } from "@shoal/shared";
import { MANAGER_HELP, withControl } from "../../client.js";
import { collect } from "../service-spec.js";
import { printLogs, type LogsFlags } from "../service-logs.js";
import { withContainerCalls } from "./container-call.js";
import { topAnswer, topTable } from "./container-output.js";
import { runExec, type ExecFlags } from "./exec.js";
import { clusterNames, printServiceTop, printStatsOnce, runningTaskIds, streamStats } from "./stats.js";
import { parseTaskFilters, psJson, psTable, selectContainers, taskContainers } from "./task-table.js";
import { processIo } from "./terminal.js";
import { allNodes, allTasks } from "../../list.js";

const TASK_ARG = "task container: container id or prefix, task id, or task name (web.3, web.3.TASKID)";

interface ManagerFlag {
  manager?: string;
}

/** Where a container call landed (an inspect), to learn the task of TASK. */
async function resolveTask(manager: string | undefined, ref: string): Promise<string> {
  return withContainerCalls(manager, async (calls) => {
    const open = containerOpen(ref, ContainerOp.INSPECT);
    const { started } = await calls.collect(open, new AbortController().signal);
    if (!started?.taskId) throw new ShoalError(ErrorCode.NotFound, `no task container ${ref}`);
    return started.taskId;
  });
}

function registerPs(task: Command): void {
  task
    .command("ps")
    .description("list the cluster's task containers (running ones unless --all), with their node")
    .option("-a, --all", "also containers that are not running")
    .option("-f, --filter <KEY=VALUE>", "id, name, label, status, node or service (repeatable)", collect, [])
    .option("-q, --quiet", "print only container ids")
    .option("--json", "print the containers as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: ManagerFlag & { all?: boolean; filter: string[]; quiet?: boolean; json?: boolean }) => {
      const filters = parseTaskFilters(flags.filter);
      await withControl(flags.manager, async (c) => {
        const [tasks, nodes] = await Promise.all([allTasks(c), allNodes(c)]);
        const all = taskContainers(tasks, new Map(nodes.map((n) => [n.id, n])), Date.now());
        const shown = selectContainers(all, filters, flags.all === true);
        if (flags.quiet) process.stdout.write(shown.map((s) => `${s.containerId.slice(0, 12)}\n`).join(""));
        else process.stdout.write(flags.json ? psJson(shown) : psTable(shown));
      });
    });
}

function registerInspectTop(task: Command): void {
  task
    .command("inspect")
    .description("show task containers as Docker's inspect does, from their nodes")
    .argument("<task...>", TASK_ARG)
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], flags: ManagerFlag) => {
      const docs = await withContainerCalls(flags.manager, async (calls) => {
        const found: unknown[] = [];
        for (const ref of refs) {
          const { json } = await calls.collect(containerOpen(ref, ContainerOp.INSPECT), new AbortController().signal);
          found.push(...json);
        }
        return found;
      });
      process.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
    });

  task
    .command("top")
    .description("show the processes of a task container, as docker top")
    .argument("<task>", TASK_ARG)
    .argument("[ps_args...]", "arguments to ps (default: -ef)")
    .option("--manager <addrs>", MANAGER_HELP)
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[], flags: ManagerFlag) => {
      const { json } = await withContainerCalls(flags.manager, (calls) =>
        calls.collect(
          containerOpen(ref, ContainerOp.TOP, { top: { psArgs: psArgs.join(" ") } }),
          new AbortController().signal,
        ),
      );
      process.stdout.write(topTable(topAnswer(json[0])));
    });
}

function registerLogs(task: Command): void {
  task
    .command("logs")
    .description("print the logs of a task container, as docker logs")
    .argument("<task>", TASK_ARG)
    .option("-f, --follow", "keep printing new lines")
    .option("-n, --tail <lines>", 'lines from the end of the log, or "all"', "all")
    .option("-t, --timestamps", "print each line's time")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: LogsFlags) => {
      const taskId = await resolveTask(flags.manager, ref);
      await withControl(flags.manager, (c) => printLogs(c, { serviceIds: [], taskIds: [taskId] }, flags));
    });
}

function registerStats(task: Command): void {
  task
    .command("stats")
    .description("live CPU, memory, network and block I/O of task containers (all running ones by default)")
    .argument("[task...]", TASK_ARG)
    .option("--no-stream", "print one sample and exit")
    .option("--json", "with --no-stream: the numbers as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], flags: ManagerFlag & { stream: boolean; json?: boolean }) => {
      await withControl(flags.manager, (c) =>
        withContainerCalls(flags.manager, async (calls) => {
          const names = await clusterNames(c);
          const targets = refs.length > 0 ? refs : runningTaskIds(names);
          if (!flags.stream) await printStatsOnce(calls, names, targets, flags.json === true);
          else await streamStats(calls, names, targets);
        }),
      );
    });
}

function registerExec(task: Command): void {
  task
    .command("exec")
    .description("run a command in a task container, on whichever node runs it (exits with its code)")
    .argument("<task>", TASK_ARG)
    .argument("<command...>", "the command and its arguments")
    .option("-i, --interactive", "send stdin to the command")
    .option("-t, --tty", "give the command a terminal")
    .option("-e, --env <K=V>", "set an environment variable (repeatable)", collect, [])
    .option("-u, --user <user>", "user (name, uid or uid:gid)")
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("--privileged", "give the command extended privileges")
    .option("--detach-keys <keys>", "the key sequence that detaches")
    .option("--manager <addrs>", MANAGER_HELP)
    .passThroughOptions()
    .action(async (ref: string, cmd: string[], flags: ExecFlags & ManagerFlag) => {
      const code = await withContainerCalls(flags.manager, (calls) => runExec(calls, ref, cmd, flags, processIo()));
      if (code !== 0) throw new CommanderError(code, "shoal.exec", "");
    });
}

export function registerTaskCommands(program: Command): void {
  const task = program
    .command("task")
    .description("task containers anywhere in the cluster: ps, inspect, logs, top, stats, exec")
    .enablePositionalOptions();
  registerPs(task);
  registerInspectTop(task);
  registerLogs(task);
  registerStats(task);
  registerExec(task);
}

/** shoal service top | stats SERVICE: the same over the service's running tasks. */
export function registerServiceContainerCommands(service: Command): void {
  service
    .command("top")
    .description("show the processes of a service's running tasks, with each task and node")
    .argument("<service>", "service name, id or id prefix")
    .argument("[ps_args...]", "arguments to ps (default: -ef)")
    .option("--manager <addrs>", MANAGER_HELP)
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[], flags: ManagerFlag) => {
      await withControl(flags.manager, async (c) => {
        const { service: svc } = await c.call("getService", { serviceId: ref });
        const names = await clusterNames(c, svc!.id);
        await withContainerCalls(flags.manager, (calls) =>
          printServiceTop(calls, names, runningTaskIds(names), psArgs.join(" ")),
        );
      });
    });

  service
    .command("stats")
    .description("live CPU, memory, network and block I/O of a service's running tasks")
    .argument("<service>", "service name, id or id prefix")
    .option("--no-stream", "print one sample and exit")
    .option("--json", "with --no-stream: the numbers as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: ManagerFlag & { stream: boolean; json?: boolean }) => {
      await withControl(flags.manager, async (c) => {
        const { service: svc } = await c.call("getService", { serviceId: ref });
        const names = await clusterNames(c, svc!.id);
        await withContainerCalls(flags.manager, async (calls) => {
          if (!flags.stream) await printStatsOnce(calls, names, runningTaskIds(names), flags.json === true);
          else await streamStats(calls, names, runningTaskIds(names));
        });
      });
    });
}
