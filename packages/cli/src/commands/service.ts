// shoal service create | ls | ps | inspect | scale | rm
import type { Command } from "commander";
import {
  ErrorCode,
  InvalidArgumentError,
  Service,
  ShoalError,
  TaskState,
  shortId,
  type Node,
  type ServiceReplicaStatus,
  type Task,
} from "@shoal/shared";
import { MANAGER_HELP, withControl, type Control } from "../client.js";
import { currentRun, modeName, waitJobRun } from "../output/job.js";
import {
  replicaCount,
  replicaCountOf,
  replicasOf,
  replicasText,
  serviceJson,
  taskJson,
  taskStateName,
  updateStateName,
  type ReplicaSource,
} from "../output/json.js";
import { scheduleSummary } from "../output/schedule.js";
import { prettyService } from "../output/service-pretty.js";
import { formatTable } from "../output/table.js";
import { buildServiceSpec, collect, type CreateFlags } from "./service-spec.js";
import { isJobSpec } from "./job-mode.js";
import { addMountOption } from "./mount-flags.js";
import { addScheduleOptions } from "./schedule-flags.js";
import { registerServiceLogsCommand } from "./service-logs.js";
import { registerServiceContainerCommands } from "./task/task-commands.js";
import { registerServiceRebalanceCommand } from "./service-rebalance.js";
import { registerServiceUpdateCommands } from "./service-update.js";
import { addTaskOptions, withNoHealthcheck } from "./task-flags.js";
import { addContainerOptions } from "./container-flags.js";
import { addGenericResourceOptions } from "./generic-resource-flags.js";
import { addSecretOptions } from "./secret-flags.js";
import { addNetworkOptions } from "./network-flags.js";
import { addUpdateConfigOptions } from "./update-config.js";
import { allNodes, serviceTasks } from "../list.js";

export { buildServiceSpec };

/**
 * REPLICAS of `services`: the manager's counts; from every task only when the manager is older
 * than the counts (it sends none).
 */
async function replicaSource(
  control: Control,
  services: readonly Service[],
  statuses: readonly ServiceReplicaStatus[],
): Promise<ReplicaSource> {
  if (statuses.length !== services.length) return serviceTasks(control, undefined);
  const jobs = new Set(services.filter((s) => isJobSpec(s.spec)).map((s) => s.id));
  return new Map(statuses.map((st) => [st.serviceId, replicaCountOf(st, jobs.has(st.serviceId))]));
}

async function nodesById(control: Control): Promise<Map<string, Node>> {
  const nodes = await allNodes(control);
  return new Map(nodes.map((n) => [n.id, n]));
}

export function serviceTable(services: readonly Service[], tasks: ReplicaSource, now = Date.now()): string {
  // SCHEDULE only when a scheduled job is listed: its cron, next tick and last run's outcome.
  const scheduled = services.some((s) => s.spec?.schedule !== undefined);
  return formatTable(
    // UPDATE STATUS: the state of the last rolling update, as Swarm names it (updating, paused, ...).
    ["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "UPDATE STATUS", ...(scheduled ? ["SCHEDULE"] : [])],
    services.map((s) => {
      return [
        shortId(s.id),
        s.spec?.annotations?.name ?? "",
        modeName(s),
        replicasText(replicasOf(s, tasks)),
        s.spec?.taskTemplate?.container?.image ?? "",
        updateStateName(s.updateStatus?.state),
        ...(scheduled ? [scheduleSummary(s, now)] : []),
      ];
    }),
  );
}

const capital = (s: string): string => s.replace(/^./, (c) => c.toUpperCase());

function since(date: Date | undefined): string {
  if (!date) return "";
  const s = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  return `${Math.round(s / 3600)} hours ago`;
}

export function taskTable(service: Service, tasks: readonly Task[], nodes: ReadonlyMap<string, Node>): string {
  const name = service.spec?.annotations?.name ?? "";
  const global = service.spec?.mode?.$case === "global" || service.spec?.mode?.$case === "globalJob";
  const group = (t: Task): string => (global ? t.nodeId : String(t.slot));
  const rows = [...tasks]
    .sort(
      (a, b) =>
        group(a).localeCompare(group(b), undefined, { numeric: true }) ||
        (b.meta?.createdAt?.getTime() ?? 0) - (a.meta?.createdAt?.getTime() ?? 0),
    )
    .map((t, i, all) => {
      // The newest task of a slot first; its history below, as docker service ps shows it.
      const taskName = `${name}.${global ? t.nodeId.slice(0, 12) : t.slot}`;
      const newest = i === 0 || group(all[i - 1]!) !== group(t);
      const state = taskStateName(t.status?.state);
      return [
        shortId(t.id),
        newest ? taskName : ` \\_ ${taskName}`,
        t.spec?.container?.image ?? "",
        nodes.get(t.nodeId)?.description?.hostname ?? "",
        capital(desiredName(t)),
        `${capital(state)} ${since(t.status?.timestamp)}`.trim(),
        t.status?.err ?? "",
      ];
    });
  return formatTable(["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"], rows);
}

/** A job's task is wanted to complete, also once it did and was shut down as history (as Swarm shows it). */
function desiredName(t: Task): string {
  const job = t.jobIteration !== undefined;
  if (job && (t.desiredState <= TaskState.RUNNING || t.status?.state === TaskState.COMPLETE)) return "complete";
  return taskStateName(t.desiredState);
}

/** Waits until every desired task runs, printing progress; a reason for pending tasks is shown. */
async function waitConverged(control: Control, service: Service): Promise<void> {
  const tty = process.stderr.isTTY === true;
  let last = "";
  for (;;) {
    const tasks = await serviceTasks(control, service.id);
    const { running, desired } = replicaCount(service, tasks);
    const pending = tasks.find(
      (t) => t.desiredState === TaskState.RUNNING && (t.status?.state ?? 0) < TaskState.ASSIGNED && t.status?.err,
    );
    const failed = tasks.filter((t) => (t.status?.state ?? 0) > TaskState.RUNNING && t.status?.err).at(-1);
    const line =
      `overall progress: ${running} out of ${desired} tasks running` +
      (pending ? ` (pending: ${pending.status!.err})` : failed ? ` (last failure: ${failed.status!.err})` : "");
    if (line !== last) {
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      last = line;
    }
    if (
      running >= desired &&
      (desired > 0 ||
        tasks.every((t) => t.desiredState > TaskState.RUNNING || (t.status?.state ?? 0) > TaskState.RUNNING))
    ) {
      process.stderr.write(tty ? "\nverify: Service converged\n" : "verify: Service converged\n");
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

export function registerServiceCommands(program: Command): void {
  const service = program.command("service").description("manage services").enablePositionalOptions();
  const create = service
    .command("create")
    .description("create a service; waits until its tasks run (a job: until it completed) unless --detach")
    .argument("<image>", "the image to run")
    .argument("[args...]", "command and arguments for the container (replace the image's CMD)")
    .option("--name <name>", "service name")
    .option("--replicas <n>", "number of tasks (replicated), or of completions (replicated-job)")
    .option("--mode <mode>", "replicated, global, replicated-job or global-job", "replicated")
    .option("--max-concurrent <n>", "tasks of a replicated job run at once (default: --replicas)")
    .option("-e, --env <K=V>", "set an environment variable (repeatable)", collect, [])
    .option("-l, --label <k=v>", "service label (repeatable)", collect, [])
    .option("--container-label <k=v>", "container label (repeatable)", collect, [])
    .option("--entrypoint <cmd>", "override the image's entrypoint")
    .option("--constraint <expr>", "placement constraint, e.g. node.labels.zone==a (repeatable)", collect, [])
    .option("--placement-pref <pref>", "spread=DESCRIPTOR, e.g. spread=node.labels.KEY (repeatable)", collect, [])
    .option("-p, --publish <port>", "PUBLISHED:TARGET[/tcp|udp] on the task's host (repeatable)", collect, [])
    .option(
      "--rebalance <mode>",
      "manual (only on shoal service rebalance) or auto (also when a node becomes ready, after a cool-down)",
    );
  addTaskOptions(create);
  addContainerOptions(create, false);
  addGenericResourceOptions(create, "create");
  addMountOption(create);
  addSecretOptions(create, "create");
  addNetworkOptions(create, "create");
  addScheduleOptions(create);
  addUpdateConfigOptions(create)
    .option("-d, --detach", "return at once instead of waiting for the tasks to run")
    .option("--manager <addrs>", MANAGER_HELP)
    .passThroughOptions()
    .action(async (image: string, args: string[], flags: CreateFlags & { healthcheck?: boolean }) => {
      const spec = buildServiceSpec(image, args, withNoHealthcheck(flags));
      await withControl(flags.manager, async (c) => {
        const { service: created } = await c.call("createService", { spec });
        process.stdout.write(`${created?.id ?? ""}\n`);
        if (flags.detach || !created) return;
        const run = currentRun(created);
        if (run !== undefined) await waitJobRun(c, created.id, run.iteration?.index ?? 0);
        else if (created.jobStatus === undefined) await waitConverged(c, created);
      });
    });

  service
    .command("ls")
    .description("list services")
    .option("-q, --quiet", "print only ids")
    .option("--json", "print the services as JSON")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { quiet?: boolean; json?: boolean; manager?: string }) => {
      await withControl(flags.manager, async (c) => {
        const { services, statuses } = await c.call("listServices", {
          filters: undefined,
          includeStatus: flags.quiet !== true,
        });
        if (flags.quiet) {
          process.stdout.write(services.map((s) => `${s.id}\n`).join(""));
          return;
        }
        const tasks = await replicaSource(c, services, statuses);
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify(
              services.map((s) => serviceJson(s, tasks)),
              null,
              2,
            )}\n`,
          );
        else process.stdout.write(serviceTable(services, tasks));
      });
    });

  service
    .command("ps")
    .description("list the tasks of a service")
    .argument("<service>", "service name, id or id prefix")
    .option("--json", "print the tasks as JSON")
    .option("-q, --quiet", "print only ids")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (ref: string, flags: { json?: boolean; quiet?: boolean; manager?: string }) => {
      await withControl(flags.manager, async (c) => {
        const { service: svc } = await c.call("getService", { serviceId: ref });
        const tasks = await serviceTasks(c, svc!.id);
        const nodes = await nodesById(c);
        if (flags.quiet) process.stdout.write(tasks.map((t) => `${t.id}\n`).join(""));
        else if (flags.json)
          process.stdout.write(
            `${JSON.stringify(
              tasks.map((t) => taskJson(t, nodes)),
              null,
              2,
            )}\n`,
          );
        else process.stdout.write(taskTable(svc!, tasks, nodes));
      });
    });

  service
    .command("inspect")
    .description("show services as JSON (the API's form), or readable with --pretty")
    .argument("<service...>", "service name, id or id prefix")
    .option("--pretty", "print in a readable form, with the update status and configs")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], flags: { manager?: string; pretty?: boolean }) => {
      const found = await withControl(flags.manager, async (c) => {
        const services: Service[] = [];
        for (const ref of refs) services.push((await c.call("getService", { serviceId: ref })).service!);
        return services;
      });
      if (flags.pretty) process.stdout.write(found.map((s) => prettyService(s)).join("\n"));
      else
        process.stdout.write(
          `${JSON.stringify(
            found.map((s) => Service.toJSON(s)),
            null,
            2,
          )}\n`,
        );
    });

  service
    .command("scale")
    .description("set the number of replicas: SERVICE=REPLICAS ...")
    .argument("<scales...>", "SERVICE=REPLICAS")
    .option("-d, --detach", "return at once instead of waiting")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (pairs: string[], flags: { manager?: string; detach?: boolean }) => {
      const wanted = pairs.map((p) => {
        const m = /^([^=]+)=(\d+)$/.exec(p);
        if (!m) throw new InvalidArgumentError(`"${p}" is not SERVICE=REPLICAS`, { field: "scale" });
        return { ref: m[1]!, replicas: Number(m[2]) };
      });
      await withControl(flags.manager, async (c) => {
        for (const { ref, replicas } of wanted) {
          const { service: svc } = await c.call("getService", { serviceId: ref });
          if (svc?.spec?.mode?.$case !== "replicated") {
            throw new ShoalError(ErrorCode.FailedPrecondition, `${ref}: scale can only be used with replicated mode`);
          }
          const spec = { ...svc.spec, mode: { $case: "replicated" as const, value: { replicas } } };
          const { service: updated } = await c.call("updateService", {
            serviceId: svc.id,
            serviceVersion: svc.meta?.version,
            spec,
            rollback: false,
          });
          process.stdout.write(`${ref} scaled to ${replicas}\n`);
          if (!flags.detach && updated) await waitConverged(c, updated);
        }
      });
    });

  registerServiceUpdateCommands(service);
  registerServiceRebalanceCommand(service);
  registerServiceLogsCommand(service);
  registerServiceContainerCommands(service);

  service
    .command("rm")
    .description("remove services")
    .argument("<service...>", "service name, id or id prefix")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (refs: string[], flags: { manager?: string }) => {
      await withControl(flags.manager, async (c) => {
        for (const ref of refs) {
          await c.call("removeService", { serviceId: ref });
          process.stdout.write(`${ref}\n`);
        }
      });
    });
}
